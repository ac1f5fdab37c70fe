"""Client order ids: valid for each venue's rules and unique across restarts."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.client_ids import ClientIdFactory, is_valid, parse, to_base36
from pipeline.model import VENUES

START = 1_760_000_000_000  # ms, 2025-10
MAX_START = 36 ** 9 - 1


@settings(max_examples=300, deadline=None)
@given(venue=st.sampled_from(VENUES), start=st.integers(0, MAX_START),
       tag=st.text("0123456789abcdefghijklmnopqrstuvwxyz", max_size=4),
       seq=st.integers(1, 16 ** 13 - 1))
def test_every_id_is_valid_for_its_venue(venue: str, start: int, tag: str, seq: int) -> None:
    f = ClientIdFactory(venue, start, tag)
    f._seq = seq - 1  # jump the counter anywhere in its range
    cid = f.next_id()
    assert is_valid(venue, cid)
    assert parse(cid) == (venue, tag, start, seq)


def test_the_largest_counter_still_fits_every_venue() -> None:
    for venue in VENUES:
        f = ClientIdFactory(venue, MAX_START, "zzzz")
        f._seq = f._max_seq - 1
        cid = f.next_id()
        assert is_valid(venue, cid), cid
        with pytest.raises(OverflowError):
            f.next_id()


def test_ids_are_alphanumeric_so_one_format_serves_every_venue() -> None:
    f = ClientIdFactory("okx", START)
    ids = [f.next_id() for _ in range(1000)]
    assert all(i.isalnum() and len(i) <= 32 for i in ids)
    assert all(is_valid("binance", i) for i in ids)


def test_ids_differ_across_venues_for_the_same_run() -> None:
    ids = {ClientIdFactory(v, START).next_id().removeprefix("t-") for v in VENUES}
    assert len(ids) == len(VENUES)


def test_gate_ids_carry_the_t_prefix() -> None:
    cid = ClientIdFactory("gate", START).next_id()
    assert cid.startswith("t-") and len(cid) - 2 <= 28


@settings(max_examples=100, deadline=None)
@given(a=st.integers(0, MAX_START), b=st.integers(0, MAX_START), venue=st.sampled_from(VENUES))
def test_two_runs_with_different_start_times_never_share_an_id(a: int, b: int,
                                                               venue: str) -> None:
    if a == b:
        b = (a + 1) % (MAX_START + 1)
    fa, fb = ClientIdFactory(venue, a), ClientIdFactory(venue, b)
    ids_a = {fa.next_id() for _ in range(300)}
    ids_b = {fb.next_id() for _ in range(300)}
    assert len(ids_a) == len(ids_b) == 300
    assert not ids_a & ids_b
    assert all(fa.owns(i) and not fb.owns(i) for i in ids_a)


def test_a_restart_one_millisecond_later_does_not_collide_with_a_long_previous_run() -> None:
    first, second = ClientIdFactory("binance", START), ClientIdFactory("binance", START + 1)
    first._seq = 10 ** 9  # the old run issued a billion ids
    assert first.next_id() not in {second.next_id() for _ in range(10_000)}


@pytest.mark.parametrize("venue,cid,ok", [
    ("binance", "a" * 36, True), ("binance", "a" * 37, False), ("binance", "ab-_9Z", True),
    ("binance", "ab.c", False), ("binance", "", False),
    ("okx", "A" * 32, True), ("okx", "A" * 33, False), ("okx", "ab-c", False),
    ("okx", "ab_c", False),
    ("gate", "t-" + "a" * 28, True), ("gate", "t-" + "a" * 29, False), ("gate", "abc", False),
    ("gate", "t-a.b_c-d", True), ("gate", "t-", False), ("gate", "t-é", False),
])
def test_is_valid_applies_each_venues_rule(venue: str, cid: str, ok: bool) -> None:
    assert is_valid(venue, cid) is ok


def test_unknown_venue_and_bad_tag_are_refused() -> None:
    with pytest.raises(ValueError):
        is_valid("kraken", "abc")
    with pytest.raises(ValueError):
        ClientIdFactory("kraken", START)
    with pytest.raises(ValueError):
        ClientIdFactory("okx", START, "TOOLONG")
    with pytest.raises(ValueError):
        ClientIdFactory("okx", START, "A")


def test_parse_rejects_foreign_ids() -> None:
    assert parse("web_1234") is None
    assert parse("apiv4") is None
    gate_id = ClientIdFactory("gate", START).next_id()
    assert parse(gate_id.removeprefix("t-")) is None  # a gate id always has its `t-`


def test_base36_is_fixed_width_and_bounded() -> None:
    assert to_base36(35, 3) == "00z"
    assert int(to_base36(START, 9), 36) == START
    with pytest.raises(ValueError):
        to_base36(36 ** 9, 9)

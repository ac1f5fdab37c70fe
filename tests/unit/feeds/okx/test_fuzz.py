"""Hostile input: malformed, truncated, wrong-typed and mutated frames may only ever raise
ProtocolError (VenueError too for REST bodies whose envelope code is an error)."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.okx.protocol import market, orders, symbols
from feeds.okx.protocol.book_sync import BookSync
from pipeline.errors import ProtocolError, SequenceGap, VenueError

from ._helpers import FIXTURES, btc_usdt

INSTS = {"BTC-USDT": btc_usdt()}
DOCS = {p.stem: json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))}
FRAMES = [json.dumps(d) for d in DOCS.values()]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                         st.floats(allow_nan=False), st.text(max_size=12),
                         st.sampled_from(["", "0", "-1", "1e999", "NaN", "buy", "snapshot",
                                          "update", "live", "canceled", "books", "orders",
                                          "BTC-USDT", "31", "1.5", "0.00000001"]))
json_values = st.recursive(json_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=8), kids, max_size=4)),
    max_leaves=12)


def _paths(v: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(v, dict):
        for k, x in v.items():
            out += _paths(x, (*prefix, k))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out += _paths(x, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A documented frame with one node replaced, deleted, or the text truncated."""
    doc = json.loads(json.dumps(draw(st.sampled_from(list(DOCS.values())))))
    paths = _paths(doc)
    path = draw(st.sampled_from(paths))
    action = draw(st.sampled_from(["replace", "delete", "truncate"]))
    if action == "truncate":
        text = json.dumps(doc)
        return text[:draw(st.integers(0, max(0, len(text) - 1)))]
    if not path:
        return json.dumps(draw(json_values))
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return json.dumps(doc)


frames = st.one_of(mutated(), st.text(max_size=60), st.binary(max_size=60),
                   json_values.map(json.dumps), st.sampled_from(FRAMES))

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(frames)
def test_parse_market_only_raises_protocol_error(frame: str | bytes) -> None:
    try:
        market.parse_market(frame, 0)
    except ProtocolError:
        pass


@FUZZ
@given(frames)
def test_parse_private_only_raises_protocol_error(frame: str | bytes) -> None:
    try:
        orders.parse_private(frame, 0, INSTS)
    except ProtocolError:
        pass


@FUZZ
@given(frames)
def test_server_request_decoder_only_raises_protocol_error(frame: str | bytes) -> None:
    try:
        orders.decode_ws_request(frame)
    except ProtocolError:
        pass
    try:
        market.decode_public_request(frame)
    except ProtocolError:
        pass


@FUZZ
@given(frames)
def test_rest_parsers_only_raise_protocol_or_venue_errors(frame: str | bytes) -> None:
    try:
        payload: Any = json.loads(frame)
    except (ValueError, UnicodeDecodeError):
        payload = frame
    for parse in (lambda p: market.parse_rest_snapshot(p, "BTC-USDT"),
                  lambda p: orders.parse_orders_pending(p, INSTS, 0),
                  lambda p: orders.parse_fills(p, INSTS, 0),
                  orders.parse_cancel_all_after, orders.parse_rest_op_response,
                  symbols.parse_instruments):
        try:
            parse(payload)
        except (ProtocolError, VenueError):
            pass


@FUZZ
@given(st.lists(st.tuples(st.integers(-3, 40), st.integers(-3, 40), st.booleans()),
                max_size=30))
def test_book_sync_only_raises_sequence_gap_and_stays_uncrossed(
        steps: list[tuple[int, int, bool]]) -> None:
    from pipeline.marketdata import BookSnapshot, DepthUpdate
    b = BookSync("BTC-USDT")
    for i, (prev, seq, rest) in enumerate(steps):
        try:
            if rest:
                b.on_snapshot(BookSnapshot("BTC-USDT", [(100.0, 1.0)], [(101.0, 1.0)], seq))
            else:
                px = 99.0 + (i % 5)
                b.on_update(DepthUpdate("BTC-USDT", [(px, 1.0)], [(px + 0.5, 1.0)], 0,
                                        prev_id=prev, last_id=seq))
        except SequenceGap:
            assert not b.synced
        if b.synced:
            assert not b.book.is_crossed()

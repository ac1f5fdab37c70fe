"""Shared checks for the venues' fast paths (`feeds/<venue>/protocol/market_fast.py`).

The property every venue's fast path must hold: whatever the frame, it either declines (None)
or returns exactly the row that the general parser's `BBO` (or `Trade`) gives — the same
floats bit for bit, the same ints — that also fits the tick ring (ids and ns times within
int64), and it never raises. A frame `parse_market` rejects is always declined, so a malformed
frame still reaches the general parser and becomes a counted drop.

Frames are drawn as a well-formed BBO or trade frame with either one field made hostile (or one
key dropped or added) or one edit of its text (a character inserted, deleted or replaced, a
number respelled): close enough to the real shape that the fast path's pattern is really put
to the test, field by field and token by token.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pipeline.errors import ProtocolError
from pipeline.marketdata import BBO, Trade

SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

good_nums = st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,10})?", fullmatch=True)
odd_nums = st.sampled_from(["1e5", "1E-2", "1.", ".5", "-1", "-0", "+1", "nan", "inf",
                            "Infinity", "1_0", " 1", "1 ", "\u0661", "0x10", "", "00.10",
                            "0" * 40, "1" * 31, "1." + "0" * 31, "9" * 30 + "." + "9" * 30])
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))
near_nums = st.from_regex(r"[-+ ]?[0-9]{0,3}(\.[0-9]{0,3})?([eE_][-+]?[0-9]{0,2})? ?",
                          fullmatch=True)
nums = st.one_of(near_nums, odd_nums, json_scalars)
good_ids = st.integers(0, 10**18 - 1)
ids = st.one_of(st.sampled_from([10**18 - 1, 10**18, 2**63 - 1, 2**63, 2**64, -1, 0]),
                st.integers(-2**70, 2**70), st.from_regex(r"-?[0-9]{1,25}", fullmatch=True),
                st.floats(allow_nan=False, allow_infinity=False), json_scalars)


def near_miss(data: st.DataObject, good: dict[str, Any], hostile: dict[str, Any],
              extra_keys: tuple[str, ...] = ("extra",)) -> dict[str, Any]:
    """`good` field values with at most one replaced from its `hostile` strategy, set to DROP
    (left out), or joined by one of `extra_keys`."""
    out = dict(good)
    action = data.draw(st.sampled_from(["none", "hostile", "hostile", "hostile", "drop", "add"]))
    if action == "add":
        out[data.draw(st.sampled_from(extra_keys))] = data.draw(json_scalars)
    elif action != "none":
        key = data.draw(st.sampled_from(sorted(hostile)))
        out[key] = data.draw(hostile[key]) if action == "hostile" else DROP
    return out


DROP = object()  # a field left out of the document


def obj(**fields: Any) -> dict[str, Any]:
    """A JSON object from fields, leaving out the ones set to DROP."""
    return {k: v for k, v in fields.items() if v is not DROP}


def row_of(rec: BBO | Trade) -> tuple[Any, ...]:
    """The row a fast path returns for the record `parse_market` makes of the same frame."""
    if isinstance(rec, Trade):
        return (rec.venue_symbol, rec.price, rec.size, int(rec.side), rec.ts_event,
                rec.trade_id)
    return (rec.venue_symbol, rec.bid_px, rec.bid_sz, rec.ask_px, rec.ask_sz, rec.ts_event,
            rec.update_id)


def compact(doc: Any, ascii_only: bool = True) -> str:
    """The way the venues send JSON: no whitespace."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=ascii_only)


_NUMBER_TOKEN = re.compile(r'(?<=[:\[,"])-?[0-9][0-9.eE+-]*')


def mutate_text(text: str, data: st.DataObject) -> str:
    """Insert, delete or replace one character somewhere, respell one number in a form JSON
    forbids or another form of the same value (`04`, `4.0`, `4e0`, `-4`), or leave it alone."""
    action = data.draw(st.sampled_from(["keep", "insert", "delete", "replace", "number",
                                        "number", "number"]))
    if action == "keep" or not text:
        return text
    if action == "number":
        spots = list(_NUMBER_TOKEN.finditer(text))
        if not spots:
            return text
        m = data.draw(st.sampled_from(spots))
        tok = m.group()
        new = data.draw(st.sampled_from([f"0{tok}", f"{tok}.0", f"{tok}e0", f"-{tok}",
                                         f"{tok}0", tok[:-1] or "0", f"{tok}{'0' * 20}"]))
        return text[:m.start()] + new + text[m.end():]
    i = data.draw(st.integers(0, len(text) - 1))
    ch = data.draw(st.sampled_from(list(' "\\,:{}[]0159.-eE_aZ\u0661\x00')))
    if action == "insert":
        return text[:i] + ch + text[i:]
    if action == "delete":
        return text[:i] + text[i + 1:]
    return text[:i] + ch + text[i + 1:]


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*')


def respellings(text: str) -> list[str]:
    """Every JSON token of `text` respelled every nasty way, one token at a time: numbers with
    a leading zero, a fraction, an exponent, a sign, quoted; strings with an escape (valid or
    not), a raw control character, padding, an extra digit, emptied. Deterministic and
    exhaustive over positions, where random edits would rarely land inside a short token."""
    out = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok.startswith('"'):
            body = tok[1:-1]
            spellings = [f'"\\u{ord(body[0]):04x}{body[1:]}"' if body else '"\\u0030"',
                         f'"{body}\\q"', f'"{body}\x00"', f'"{body}\\u0000"', f'" {body}"',
                         f'"{body} "', '""', f'"0{body}"', f'"{body}0"', f'"{body}\u0661"',
                         f'"{body}.5"', f'"-{body}"', body or "0"]
        else:
            spellings = [f"0{tok}", f"{tok}.0", f"{tok}e0", f"-{tok}", f"+{tok}", f'"{tok}"',
                         f"{tok}0", f"{tok}{'0' * 20}", tok[:-1] or "-", f"{tok} "]
        out += [text[:m.start()] + sp + text[m.end():] for sp in spellings]
    return out


def assert_agrees(fast: Callable[[Any], Any], parse_market: Callable[[Any, int], list[Any]],
                  frame: Any, kind: type = BBO) -> Any:
    """Check the property on one frame for a fast path returning `kind` rows (BBO or Trade);
    returns the fast path's answer."""
    got = fast(frame)
    try:
        recs = parse_market(frame, 0)
    except ProtocolError:
        assert got is None, f"fast path accepted a frame parse_market rejects: {frame!r}"
        return None
    if got is not None:
        # rows end (ts_event, id): both must fit the ring's int64 fields
        assert 0 <= got[-2] < 2**63 and 0 <= got[-1] < 2**63, (frame, got)
        assert len(recs) == 1 and type(recs[0]) is kind, (frame, recs)
        # repr: bit-identical floats (it tells -0.0 from 0.0, which == does not)
        assert repr(got) == repr(row_of(recs[0])), (frame, got, recs[0])
    return got


def level_lists(width: int) -> st.SearchStrategy[Any]:
    """Depth level arrays as the JSON decoder hands them over: mostly `width` plain number
    strings per level, sometimes one level or one field hostile, sometimes not a list at all."""
    good = st.lists(good_nums, min_size=width, max_size=width)
    one_odd = st.tuples(good, st.integers(0, width - 1), st.one_of(odd_nums, near_nums)).map(
        lambda t: t[0][:t[1]] + [t[2]] + t[0][t[1] + 1:])
    odd_level = st.one_of(one_odd, one_odd, st.lists(st.one_of(good_nums, nums), max_size=5),
                          json_scalars, st.dictionaries(st.text(max_size=2), good_nums,
                                                        max_size=2),
                          st.text(max_size=4))
    lists = st.lists(good, max_size=12)
    spoiled = st.tuples(lists, st.integers(0, 12), odd_level).map(
        lambda t: t[0][:t[1]] + [t[2]] + t[0][t[1]:])
    return st.one_of(lists, spoiled, spoiled, json_scalars)


def assert_levels_agree(fast: Callable[[Any, str], Any], strict: Callable[[Any, str], Any],
                        v: Any) -> None:
    """The fast level parser returns exactly what the strict one does, or raises as it does."""
    try:
        want = strict(v, "bids")
    except ProtocolError as exc:
        try:
            fast(v, "bids")
        except ProtocolError as exc2:
            assert str(exc2) == str(exc)
            return
        raise AssertionError(f"fast levels accepted what the strict parser rejects: {v!r}")
    assert repr(fast(v, "bids")) == repr(want), v

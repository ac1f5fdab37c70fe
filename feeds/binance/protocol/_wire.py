"""Strict field readers and number formatting for Binance JSON, shared by this package.

Why a module of its own: every parser here reads hostile input (a venue frame, or a client's
request arriving at the simulator) and must turn any surprise — bad JSON, a missing key, a
number where a string belongs, `NaN`, a bool posing as an int — into `ProtocolError` and
nothing else. Doing that once keeps the parsers short and keeps KeyError/TypeError from
leaking. The server-side half formats numbers the way Binance prints them ("0.10000000").
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from pipeline.errors import ProtocolError
from pipeline.model import Side, decimal_str

VENUE = "binance"

# Binance sends prices and quantities as plain decimal strings; float() alone would also
# accept "nan", "inf", "1_0" and " 1", which are never valid wire numbers.
_NUM_RE = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_NS_PER_MS = 1_000_000
_MAX_INT = 2**63 - 1

Num = str | Decimal | int | float


def err(what: str) -> ProtocolError:
    return ProtocolError(VENUE, what)


def loads(frame: Any) -> Any:
    if isinstance(frame, memoryview):
        frame = bytes(frame)
    if not isinstance(frame, (str, bytes, bytearray)):
        raise err(f"frame is {type(frame).__name__}, not text")
    try:
        return orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise err(f"invalid JSON ({exc.msg} at {exc.pos})") from None


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def as_obj(v: Any, what: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise err(f"{what} is {type(v).__name__}, not an object")
    return v


def as_list(v: Any, what: str) -> list[Any]:
    if not isinstance(v, list):
        raise err(f"{what} is {type(v).__name__}, not an array")
    return v


def field(d: dict[str, Any], key: str) -> Any:
    try:
        return d[key]
    except KeyError:
        raise err(f"missing key {key!r}") from None


def get_str(d: dict[str, Any], key: str) -> str:
    v = field(d, key)
    if not isinstance(v, str):
        raise err(f"{key!r} is {type(v).__name__}, not a string")
    return v


def opt_str(d: dict[str, Any], key: str, default: str = "") -> str:
    v = d.get(key)
    if v is None:
        return default
    if not isinstance(v, str):
        raise err(f"{key!r} is {type(v).__name__}, not a string")
    return v


def to_int(v: Any, what: str) -> int:
    """A JSON integer (never a bool, never a float) within signed 64 bits."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise err(f"{what} is not an integer")
    if not -_MAX_INT - 1 <= v <= _MAX_INT:
        raise err(f"{what} is out of range")
    return v


def get_int(d: dict[str, Any], key: str) -> int:
    return to_int(field(d, key), repr(key))


def get_bool(d: dict[str, Any], key: str) -> bool:
    v = field(d, key)
    if not isinstance(v, bool):
        raise err(f"{key!r} is not a boolean")
    return v


def _check_num(v: Any, what: str) -> str:
    if not isinstance(v, str) or len(v) > 64 or not _NUM_RE.match(v):
        raise err(f"{what} is not a decimal string")
    return v


_UNUM_MATCH = re.compile(r"[0-9]+(?:\.[0-9]+)?").fullmatch


def to_float(v: Any, what: str) -> float:
    """A finite, non-negative decimal string as float64 (market data). Hot path: one type
    check, one anchored match, one float(); the error text is only built on failure (digits
    and a dot only, at most 64 chars, so the float is always finite)."""
    if type(v) is str and len(v) <= 64 and _UNUM_MATCH(v):
        return float(v)
    s = _check_num(v, what)
    if s.startswith("-"):
        raise err(f"{what} is negative")
    raise err(f"{what} is not a decimal string")


def to_dec(v: Any, what: str, signed: bool = False) -> Decimal:
    """A finite decimal string, exact (orders, fills, fees, balances)."""
    s = _check_num(v, what)
    if s.startswith("-") and not signed:
        raise err(f"{what} is negative")
    try:
        return Decimal(s)
    except InvalidOperation:
        raise err(f"{what} is not a decimal string") from None


def get_dec(d: dict[str, Any], key: str, signed: bool = False) -> Decimal:
    return to_dec(field(d, key), repr(key), signed)


def ms_to_ns(v: Any, what: str) -> int:
    """A non-negative integer millisecond time -> int nanoseconds."""
    ms = to_int(v, what)
    if ms < 0:
        raise err(f"{what} is negative")
    return ms * _NS_PER_MS


def get_side(d: dict[str, Any], key: str) -> Side:
    v = field(d, key)
    if v == "BUY":
        return Side.BUY
    if v == "SELL":
        return Side.SELL
    raise err(f"{key!r} is not BUY/SELL")


def levels(v: Any, what: str) -> list[tuple[float, float]]:
    """[[price, qty], ...] -> float pairs; the checks of `to_float` inlined (book frames
    carry dozens of levels, so per-level calls and error-text formatting add up)."""
    match = _UNUM_MATCH
    out: list[tuple[float, float]] = []
    append = out.append
    for lvl in as_list(v, what):
        if type(lvl) is list and len(lvl) == 2:
            p, q = lvl
            if type(p) is str and type(q) is str and len(p) <= 64 and len(q) <= 64 \
                    and match(p) and match(q):
                append((float(p), float(q)))
                continue
            to_float(p, f"{what} price")  # raises with the precise reason
            to_float(q, f"{what} qty")
        raise err(f"{what} level is not [price, qty]")
    return out


# -- server-side formatting ------------------------------------------------------------------
_EIGHT = Decimal("0.00000001")


def to_decimal(v: Num) -> Decimal:
    """Any number a simulator holds -> Decimal (floats through their shortest repr)."""
    if isinstance(v, bool):
        raise err("a bool is not a number")
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, int):
        d = Decimal(v)
    elif isinstance(v, float):
        if not math.isfinite(v):
            raise err("non-finite number")
        d = Decimal(repr(v))
    elif isinstance(v, str):
        d = to_dec(v, "number", signed=True)
    else:
        raise err(f"{type(v).__name__} is not a number")
    if not d.is_finite():
        raise err("non-finite number")
    return d


_FMT8_CACHE: dict[Decimal, str] = {}
_FMT8_CACHE_MAX = 1 << 16
_ZERO8, _NEG_ZERO8 = "0.00000000", "-0.00000000"


def fmt8(v: Num) -> str:
    """Binance's price/qty spelling: fixed 8 decimals ("0.10000000"); more when needed.

    A simulated venue spells the same few thousand prices and sizes over and over (~3 us
    each), so finite non-zero Decimals are memoised by value: the spelling depends on the
    value only (1.0 and 1.00 both give "1.00000000"), except the sign of zero, which is
    why zero is not cached but answered directly (most fields of an execution report are a
    zero of some exponent, all spelled "0.00000000", or "-0.00000000" when signed). The cache
    is dropped whole when it fills."""
    if type(v) is Decimal and v.is_finite():
        if not v:
            return _NEG_ZERO8 if v.is_signed() else _ZERO8
        s = _FMT8_CACHE.get(v)
        if s is None:
            if len(_FMT8_CACHE) >= _FMT8_CACHE_MAX:
                _FMT8_CACHE.clear()
            s = _FMT8_CACHE[v] = _fmt8(v)
        return s
    return _fmt8(to_decimal(v))


def _fmt8(d: Decimal) -> str:
    exp = d.normalize().as_tuple().exponent  # trailing zeros do not count as precision
    if isinstance(exp, int) and exp >= -8:
        return format(d.quantize(_EIGHT), "f")
    return decimal_str(d)


def side_str(side: Side) -> str:
    return "BUY" if side is Side.BUY else "SELL"


def ns_to_ms(ts_ns: int) -> int:
    return ts_ns // _NS_PER_MS

"""Strict field readers for Gate JSON, shared by every parser in this package.

Why a module of its own: every Gate parser reads hostile input (a venue frame, a client's
request to the simulator) and must turn any surprise — bad JSON, a missing key, a number where
a string belongs, `NaN`, a bool posing as an int — into `ProtocolError` and nothing else. Doing
that once, here, keeps the parsers short and keeps KeyError/TypeError from leaking out.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from pipeline.errors import ProtocolError
from pipeline.model import Side, decimal_str

VENUE = "gate"

# Gate sends prices and amounts as plain decimal strings; float() alone would also accept
# "nan", "inf", "1_0" and " 1", which are never valid wire numbers.
# Exponents are bounded so exact Decimal arithmetic on a hostile value cannot overflow.
_NUM_RE = re.compile(r"^[0-9]{1,40}(\.[0-9]{0,40})?([eE][-+]?[0-9]{1,2})?$")
_INT_RE = re.compile(r"^-?[0-9]+$")
_MS_RE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000

Num = str | Decimal | int | float


def err(what: str) -> ProtocolError:
    return ProtocolError(VENUE, what)


def loads(frame: str | bytes | bytearray | memoryview) -> Any:
    if isinstance(frame, memoryview):
        frame = bytes(frame)
    if not isinstance(frame, (str, bytes, bytearray)):
        raise err(f"frame is {type(frame).__name__}, not text")
    try:
        return orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise err(f"invalid JSON ({exc.msg} at {exc.pos})") from None


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
    """An integer sent as a JSON int or a digit string (Gate uses both for ids and times)."""
    if isinstance(v, bool):
        raise err(f"{what} is a bool, not an integer")
    if isinstance(v, int):
        return v
    if isinstance(v, str) and _INT_RE.match(v) and len(v) <= 30:
        return int(v)
    raise err(f"{what} is not an integer")


def get_int(d: dict[str, Any], key: str) -> int:
    return to_int(field(d, key), repr(key))


def to_float(v: Any, what: str) -> float:
    """A non-negative finite decimal string as float64 (market data). The pattern bounds
    digits and exponent, so the float is always finite; error text only on failure."""
    if type(v) is str and len(v) <= 64 and _NUM_RE.fullmatch(v):
        return float(v)
    raise err(f"{what} is not a decimal string")


def to_dec(v: Any, what: str) -> Decimal:
    """A non-negative finite decimal string, exact (orders, fills, fees)."""
    if not isinstance(v, str) or len(v) > 64 or not _NUM_RE.match(v):
        raise err(f"{what} is not a decimal string")
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise err(f"{what} is not a decimal string") from None
    if not d.is_finite():
        raise err(f"{what} is out of range")
    return d


def get_dec(d: dict[str, Any], key: str) -> Decimal:
    return to_dec(field(d, key), repr(key))


def to_ns_from_ms(v: Any, what: str) -> int:
    """Milliseconds (int, or a string with optional sub-ms decimals) -> int nanoseconds, exact."""
    if isinstance(v, bool):
        raise err(f"{what} is a bool, not a time")
    if isinstance(v, int):
        if v < 0:
            raise err(f"{what} is negative")
        return v * _NS_PER_MS
    if isinstance(v, str) and len(v) <= 40 and _MS_RE.match(v):
        return int(Decimal(v) * _NS_PER_MS)
    raise err(f"{what} is not a millisecond time")


def to_ns_from_s(v: Any, what: str) -> int:
    s = to_int(v, what)
    if s < 0:
        raise err(f"{what} is negative")
    return s * _NS_PER_S


def get_side(d: dict[str, Any], key: str = "side") -> Side:
    v = field(d, key)
    if v == "buy":
        return Side.BUY
    if v == "sell":
        return Side.SELL
    raise err(f"{key!r} is not buy/sell")


def levels(v: Any, what: str) -> list[tuple[float, float]]:
    """Level arrays -> [(price, size)] with `to_float`'s checks inlined (book frames carry
    dozens of levels: per-level calls and error-text formatting add up); anything odd is
    re-checked by the strict path below, which says precisely what is wrong."""
    match = _NUM_RE.fullmatch
    out: list[tuple[float, float]] = []
    append = out.append
    if type(v) is list:
        for lvl in v:
            if type(lvl) is list and len(lvl) == 2:
                p, q = lvl[0], lvl[1]
                if type(p) is str and type(q) is str and len(p) <= 64 and len(q) <= 64 \
                        and match(p) and match(q):
                    append((float(p), float(q)))
                    continue
            break
        else:
            return out
    return _levels_strict(v, what)


def _levels_strict(v: Any, what: str) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for lvl in as_list(v, what):
        if not isinstance(lvl, list) or len(lvl) != 2:
            raise err(f"{what} level is not [price, amount]")
        out.append((to_float(lvl[0], f"{what} price"), to_float(lvl[1], f"{what} amount")))
    return out


# -- server-side formatting ------------------------------------------------------------------
def num_str(v: Num) -> str:
    """Any number the simulator holds -> Gate's plain decimal string (no exponent)."""
    if isinstance(v, bool):
        raise err("a bool is not a number")
    if isinstance(v, str):
        to_dec(v, "number")
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise err("non-finite number")
        return decimal_str(Decimal(repr(v)))
    if isinstance(v, (int, Decimal)):
        d = Decimal(v)
        if not d.is_finite():
            raise err("non-finite number")
        return decimal_str(d)
    raise err(f"{type(v).__name__} is not a number")


def side_str(side: Side) -> str:
    return "buy" if side is Side.BUY else "sell"


def ms_str(ts_ns: int) -> str:
    """int ns -> Gate's millisecond string with sub-ms decimals ("1606292218213.4578")."""
    return decimal_str(Decimal(ts_ns) / _NS_PER_MS)


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()

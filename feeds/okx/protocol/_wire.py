"""Strict readers and writers for OKX JSON, shared by every codec in this package.

Why a module of its own: every OKX parser reads hostile input (a venue frame, or a client's
request arriving at the simulator) and must turn any surprise — invalid JSON, a missing key, a
number where OKX sends a string, `NaN`, a bool posing as an int — into `ProtocolError` and
nothing else. Doing that once here keeps the parsers short and stops KeyError/TypeError/
ValueError from leaking to the feed and gateway drivers, which count and drop bad frames.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from pipeline.errors import ProtocolError
from pipeline.model import Side, decimal_str

VENUE = "okx"

# OKX prices/sizes are plain decimal strings. float() alone would also take "nan", "inf",
# "1_0" and " 1"; the exponent is bounded so exact Decimal math on hostile input cannot blow up.
_UNSIGNED_RE = re.compile(r"^[0-9]{1,40}(\.[0-9]{0,40})?([eE][-+]?[0-9]{1,2})?$")
_SIGNED_RE = re.compile(r"^-?[0-9]{1,40}(\.[0-9]{0,40})?([eE][-+]?[0-9]{1,2})?$")
_INT_RE = re.compile(r"^-?[0-9]{1,30}$")
NS_PER_MS = 1_000_000
NS_PER_US = 1_000

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
    """An integer sent as a JSON int (seqId, instIdCode) or a digit string (ids, times)."""
    if isinstance(v, bool):
        raise err(f"{what} is a bool, not an integer")
    if isinstance(v, int):
        if abs(v) >= 1 << 63:
            raise err(f"{what} is out of range")
        return v
    if isinstance(v, str) and _INT_RE.fullmatch(v):
        return int(v)
    raise err(f"{what} is not an integer")


def get_int(d: dict[str, Any], key: str) -> int:
    return to_int(field(d, key), repr(key))


def to_float(v: Any, what: str) -> float:
    """A non-negative finite decimal string as float64 (market data). The pattern bounds
    digits and exponent, so the float is always finite; error text only on failure."""
    if type(v) is str and len(v) <= 64 and _UNSIGNED_RE.fullmatch(v):
        return float(v)
    raise err(f"{what} is not a decimal string")


def _dec(v: Any, what: str, signed: bool) -> Decimal:
    pattern = _SIGNED_RE if signed else _UNSIGNED_RE
    if not isinstance(v, str) or len(v) > 64 or not pattern.fullmatch(v):
        raise err(f"{what} is not a decimal string")
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise err(f"{what} is not a decimal string") from None
    if not d.is_finite():
        raise err(f"{what} is out of range")
    return d


def to_dec(v: Any, what: str) -> Decimal:
    """A non-negative decimal string, exact (orders, fills)."""
    return _dec(v, what, signed=False)


def to_signed_dec(v: Any, what: str) -> Decimal:
    """A decimal string that may be negative (OKX fees: negative = charged)."""
    return _dec(v, what, signed=True)


def opt_dec(d: dict[str, Any], key: str, signed: bool = False) -> Decimal | None:
    """A decimal string that OKX leaves as "" when it does not apply (avgPx, fillPx, fee)."""
    v = d.get(key)
    if v is None or v == "":
        return None
    return _dec(v, repr(key), signed)


def ms_to_ns(v: Any, what: str) -> int:
    """OKX millisecond time (string, or int) -> int ns; "" is 0 (not yet set)."""
    if v == "":
        return 0
    ms = to_int(v, what)
    if ms < 0:
        raise err(f"{what} is negative")
    return ms * NS_PER_MS


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
    match = _UNSIGNED_RE.fullmatch
    out: list[tuple[float, float]] = []
    append = out.append
    if type(v) is list:
        for lvl in v:
            if type(lvl) is list and 2 <= len(lvl) <= 4:
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
    """OKX level arrays `[price, size, "0", orderCount]` -> [(price, size)]."""
    out: list[tuple[float, float]] = []
    for lvl in as_list(v, what):
        if not isinstance(lvl, list) or not 2 <= len(lvl) <= 4:
            raise err(f"{what} level is not [price, size, liq, count]")
        out.append((to_float(lvl[0], f"{what} price"), to_float(lvl[1], f"{what} size")))
    return out


# -- server-side formatting ------------------------------------------------------------------
def num_str(v: Num) -> str:
    """A number the simulator holds -> OKX's plain decimal string (no exponent)."""
    if isinstance(v, bool):
        raise err("a bool is not a number")
    if isinstance(v, str):
        _dec(v, "number", signed=True)
        return v  # kept byte-exact: OKX checksums use the strings as sent
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
    """int ns -> OKX's millisecond string (floor)."""
    return str(ts_ns // NS_PER_MS)


def us_str(ts_ns: int) -> str:
    """int ns -> OKX's microsecond string (`inTime`/`outTime`)."""
    return str(ts_ns // NS_PER_US)


_ID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")


def is_alnum_id(v: Any) -> bool:
    """OKX's request `id` / `clOrdId` rule: 1-32 ASCII letters and digits."""
    return isinstance(v, str) and bool(_ID_RE.fullmatch(v))

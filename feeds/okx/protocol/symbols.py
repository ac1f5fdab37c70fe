"""OKX instrument names and the `/api/v5/public/instruments` payload (EXCHANGES.md §2.9).

Client side: the okx feed and gateway adapters turn `BTC-USDT` into our `BTC/USDT` and load
tick/lot/min size and the integer `instIdCode` (which WS order operations require) into
`Instrument`. Server side: the simulated OKX venue serves its instruments in the exact REST
shape with `encode_instruments`.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pipeline.model import Instrument, internal_symbol

from . import _wire as w
from .constants import CODE_OK, INST_TYPE_SPOT
from .errors import venue_error

STATE_LIVE = "live"


def to_internal(inst_id: str) -> str:
    """`BTC-USDT` -> `BTC/USDT`; anything else is a ProtocolError."""
    if not isinstance(inst_id, str):
        raise w.err("instId is not a string")
    parts = inst_id.split("-")
    if len(parts) != 2 or not all(p.isalnum() and p.isascii() for p in parts):
        raise w.err(f"instId {inst_id[:40]!r} is not BASE-QUOTE")
    return internal_symbol(parts[0], parts[1])


def to_venue(symbol: str) -> str:
    """`BTC/USDT` -> `BTC-USDT`."""
    parts = symbol.split("/") if isinstance(symbol, str) else []
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise w.err(f"symbol {str(symbol)[:40]!r} is not BASE/QUOTE")
    return f"{parts[0].upper()}-{parts[1].upper()}"


def _positive(d: dict[str, Any], key: str) -> Decimal:
    v = w.to_dec(w.field(d, key), repr(key))
    if v <= 0:
        raise w.err(f"{key!r} must be positive")
    return v


def _envelope_data(payload: Any) -> list[Any]:
    """`{"code": "0", "msg": "", "data": [...]}` -> data; a non-zero code is a VenueError."""
    if isinstance(payload, (str, bytes, bytearray, memoryview)):
        payload = w.loads(payload)
    env = w.as_obj(payload, "payload")
    code = w.field(env, "code")
    if code != CODE_OK:
        msg = env.get("msg")
        raise venue_error(code, msg if isinstance(msg, str) else "")
    return w.as_list(w.field(env, "data"), "data")


def parse_instrument(d: Any) -> Instrument:
    """One `data` item -> Instrument (raises ProtocolError on a malformed item)."""
    d = w.as_obj(d, "instrument")
    inst_id = w.get_str(d, "instId")
    base = w.get_str(d, "baseCcy")
    quote = w.get_str(d, "quoteCcy")
    symbol = to_internal(inst_id)
    if symbol != internal_symbol(base, quote):
        raise w.err(f"instId {inst_id!r} does not match {base}/{quote}")
    code_raw = d.get("instIdCode")
    venue_code = None if code_raw is None or code_raw == "" else w.to_int(code_raw, "instIdCode")
    max_sz = w.opt_dec(d, "maxLmtSz")
    max_amt = w.opt_dec(d, "maxLmtAmt")
    try:
        return Instrument(
            venue=w.VENUE, symbol=symbol, venue_symbol=inst_id, base=base.upper(),
            quote=quote.upper(), tick_size=_positive(d, "tickSz"),
            lot_size=_positive(d, "lotSz"), min_qty=w.to_dec(w.field(d, "minSz"), "'minSz'"),
            max_qty=max_sz or None, max_notional=max_amt or None, venue_code=venue_code,
            tradable=w.get_str(d, "state") == STATE_LIVE)
    except ValueError as exc:  # Instrument's own invariants
        raise w.err(f"instrument {inst_id!r}: {exc}") from None


def parse_instruments(payload: Any) -> list[Instrument]:
    """`GET /api/v5/public/instruments?instType=SPOT` -> spot instruments.

    Non-spot items are skipped; a malformed item fails the whole payload (a half-read
    instrument list would silently drop symbols).
    """
    out: list[Instrument] = []
    for item in _envelope_data(payload):
        item = w.as_obj(item, "instrument")
        if item.get("instType", INST_TYPE_SPOT) != INST_TYPE_SPOT:
            continue
        out.append(parse_instrument(item))
    return out


def instruments_query() -> dict[str, str]:
    return {"instType": INST_TYPE_SPOT}


# -- server side -----------------------------------------------------------------------------
def _opt_num(v: Decimal | None) -> str:
    return "" if v is None else w.num_str(v)


def encode_instrument(inst: Instrument, *, list_time_ms: int = 0,
                      state: str | None = None) -> dict[str, Any]:
    """One instrument in the REST shape (spot fields filled, derivative-only fields empty)."""
    return {
        "alias": "", "auctionEndTime": "", "baseCcy": inst.base, "category": "1",
        "ctMult": "", "ctType": "", "ctVal": "", "ctValCcy": "", "expTime": "",
        "instFamily": "", "instId": inst.venue_symbol, "instIdCode": inst.venue_code,
        "instType": INST_TYPE_SPOT, "lever": "", "listTime": str(list_time_ms),
        "lotSz": w.num_str(inst.lot_size), "maxIcebergSz": _opt_num(inst.max_qty),
        "maxLmtAmt": _opt_num(inst.max_notional), "maxLmtSz": _opt_num(inst.max_qty),
        "maxMktAmt": _opt_num(inst.max_notional), "maxMktSz": "",
        "maxStopSz": "", "maxTriggerSz": _opt_num(inst.max_qty),
        "maxTwapSz": _opt_num(inst.max_qty), "minSz": w.num_str(inst.min_qty),
        "optType": "", "quoteCcy": inst.quote, "ruleType": "normal", "settleCcy": "",
        "state": state if state is not None else (STATE_LIVE if inst.tradable else "suspend"),
        "stk": "", "tickSz": w.num_str(inst.tick_size), "uly": "", "upcChg": [],
    }


def encode_instruments(instruments: Iterable[Instrument]) -> dict[str, Any]:
    """The full `GET /api/v5/public/instruments` response body."""
    return {"code": CODE_OK, "msg": "", "data": [encode_instrument(i) for i in instruments]}


__all__ = ["encode_instrument", "encode_instruments", "instruments_query",
           "parse_instrument", "parse_instruments", "to_internal", "to_venue"]

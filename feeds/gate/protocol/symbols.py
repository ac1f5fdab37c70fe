"""Gate currency pairs: names and instruments, for the feed, the gateway and the simulator.

Gate spells a pair `BTC_USDT`; internally it is `BTC/USDT`. `GET /api/v4/spot/currency_pairs`
gives decimal *scales* rather than step sizes (`precision` for price, `amount_precision` for
amount), so the tick is 10^-precision and the lot 10^-amount_precision (EXCHANGES.md §3.9).
The simulator serves the same endpoint through `encode_instruments`, so both directions live
here and are tested as a round trip.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from pipeline.errors import ProtocolError
from pipeline.model import Instrument, decimal_str, internal_symbol

from ._wire import as_list, as_obj, err, field, get_str, to_dec, to_int
from .constants import PATH_CURRENCY_PAIRS, TRADE_STATUSES, VENUE

_MAX_SCALE = 30


def to_internal(currency_pair: str) -> str:
    """`BTC_USDT` -> `BTC/USDT`."""
    parts = currency_pair.split("_") if isinstance(currency_pair, str) else []
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise err(f"currency pair {currency_pair!r:.40} is not BASE_QUOTE")
    return internal_symbol(parts[0], parts[1])


def to_venue(symbol: str) -> str:
    """`BTC/USDT` -> `BTC_USDT`."""
    parts = symbol.split("/") if isinstance(symbol, str) else []
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise err(f"symbol {symbol!r:.40} is not BASE/QUOTE")
    return f"{parts[0].upper()}_{parts[1].upper()}"


def _scale(d: dict[str, Any], key: str) -> Decimal:
    n = to_int(field(d, key), repr(key))
    if not 0 <= n <= _MAX_SCALE:
        raise err(f"{key!r} scale {n} out of range")
    return Decimal(1).scaleb(-n)


def _opt_amount(d: dict[str, Any], key: str) -> Decimal | None:
    v = d.get(key)
    return None if v is None else to_dec(v, repr(key))


def parse_instrument(entry: Any) -> Instrument:
    """One currency-pair object -> `Instrument` (null minimums mean no limit)."""
    d = as_obj(entry, "currency pair")
    pair = get_str(d, "id")
    symbol = to_internal(pair)
    base, quote = get_str(d, "base").upper(), get_str(d, "quote").upper()
    if symbol != internal_symbol(base, quote):
        raise err(f"pair {pair!r:.40} does not match base/quote")
    status = get_str(d, "trade_status")
    if status not in TRADE_STATUSES:
        raise err(f"unknown trade_status {status!r:.20}")
    return Instrument(
        venue=VENUE, symbol=symbol, venue_symbol=pair, base=base, quote=quote,
        tick_size=_scale(d, "precision"), lot_size=_scale(d, "amount_precision"),
        min_qty=_opt_amount(d, "min_base_amount") or Decimal(0),
        min_notional=_opt_amount(d, "min_quote_amount") or Decimal(0),
        max_qty=_opt_amount(d, "max_base_amount"),
        max_notional=_opt_amount(d, "max_quote_amount"),
        # a market maker needs both sides; `buyable`/`sellable` pairs are one-way only
        tradable=status == "tradable",
    )


def parse_instruments(payload: Any, *, strict: bool = True) -> list[Instrument]:
    """`/spot/currency_pairs` (a list) or `/spot/currency_pairs/{pair}` (one object).

    With `strict=False` malformed entries are skipped (the list holds thousands of pairs and
    one odd listing must not stop start-up); the default raises on the first one.
    """
    entries = [payload] if isinstance(payload, dict) else as_list(payload, "currency pairs")
    out: list[Instrument] = []
    for entry in entries:
        try:
            out.append(parse_instrument(entry))
        except ProtocolError:
            if strict:
                raise
    return out


def instruments_path() -> str:
    return PATH_CURRENCY_PAIRS


# -- server side -----------------------------------------------------------------------------
def _scale_of(step: Decimal, what: str) -> int:
    """10^-n -> n; Gate can only describe power-of-ten steps."""
    exp = step.normalize().as_tuple()
    if exp.digits != (1,) or not isinstance(exp.exponent, int) or exp.exponent > 0:
        raise err(f"{what} {step} is not a power of ten; Gate cannot express it")
    return -exp.exponent


def encode_instrument(inst: Instrument, *, fee: str = "0.2", listed_s: int = 0,
                      base_name: str = "", quote_name: str = "") -> dict[str, Any]:
    """`Instrument` -> one currency-pair object with exactly the documented keys (§3.9)."""
    return {
        "id": inst.venue_symbol,
        "base": inst.base,
        "base_name": base_name or inst.base,
        "quote": inst.quote,
        "quote_name": quote_name or inst.quote,
        "fee": fee,
        "min_base_amount": decimal_str(inst.min_qty),
        "min_quote_amount": decimal_str(inst.min_notional),
        "max_base_amount": None if inst.max_qty is None else decimal_str(inst.max_qty),
        "max_quote_amount": None if inst.max_notional is None else decimal_str(inst.max_notional),
        "amount_precision": _scale_of(inst.lot_size, "lot"),
        "precision": _scale_of(inst.tick_size, "tick"),
        "trade_status": "tradable" if inst.tradable else "untradable",
        "sell_start": listed_s,
        "buy_start": listed_s,
        "delisting_time": 0,
        "trade_url": f"https://www.gate.io/trade/{inst.venue_symbol}",
        "st_tag": False,
        "up_rate": "0.05",
        "down_rate": "0.02",
        "slippage": "0.05",
        "max_market_order_stock": "100000",
        "max_market_order_money": "1000000",
    }


def encode_instruments(instruments: list[Instrument]) -> list[dict[str, Any]]:
    return [encode_instrument(i) for i in instruments]

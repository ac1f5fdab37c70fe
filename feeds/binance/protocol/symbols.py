"""Binance symbols and filters: venue spelling <-> `BASE/QUOTE`, and exchangeInfo both ways.

Binance spells a symbol without a separator (`BTCUSDT`), so the split into base and quote
comes from exchangeInfo (`baseAsset`/`quoteAsset`), never from guessing at the string. The
feed and the gateway call `parse_instruments` on `GET /api/v3/exchangeInfo` at start-up; the
simulator serves `encode_instruments` so both see the same tick, lot and notional filters
(EXCHANGES.md §1.9: a symbol may carry `MIN_NOTIONAL` or `NOTIONAL`; handle both).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from pipeline.model import Instrument, internal_symbol, split_symbol

from . import constants as C
from ._wire import VENUE, as_list, as_obj, err, fmt8, get_dec, get_str, opt_str


def venue_symbol(symbol: str) -> str:
    """Internal `BTC/USDT` -> `BTCUSDT`; ProtocolError on a name that is not BASE/QUOTE."""
    try:
        base, quote = split_symbol(symbol)
    except ValueError:
        raise err(f"symbol {symbol[:40]!r} is not BASE/QUOTE") from None
    return base + quote


def stream_symbol(venue_sym: str) -> str:
    """Stream names use the lowercase symbol (`btcusdt@bookTicker`)."""
    return venue_sym.lower()


class SymbolMap:
    """Both directions between internal and venue names, built from parsed instruments."""

    __slots__ = ("_by_internal", "_by_venue")

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._by_venue: dict[str, Instrument] = {}
        self._by_internal: dict[str, Instrument] = {}
        for inst in instruments:
            self._by_venue[inst.venue_symbol] = inst
            self._by_internal[inst.symbol] = inst

    def internal(self, venue_sym: str) -> str:
        inst = self._by_venue.get(venue_sym.upper())
        if inst is None:
            raise err(f"unknown venue symbol {venue_sym[:40]!r}")
        return inst.symbol

    def venue(self, symbol: str) -> str:
        inst = self._by_internal.get(symbol)
        if inst is None:
            raise err(f"unknown symbol {symbol[:40]!r}")
        return inst.venue_symbol

    def by_venue(self) -> Mapping[str, Instrument]:
        return self._by_venue

    def __len__(self) -> int:
        return len(self._by_venue)


def _filters(sym: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in as_list(sym.get("filters", []), "filters"):
        fo = as_obj(f, "filter")
        out[get_str(fo, "filterType")] = fo
    return out


def _precision_step(sym: dict[str, Any], key: str) -> Decimal:
    p = sym.get(key)
    if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 30:
        raise err(f"{key!r} is not a precision")
    return Decimal(1).scaleb(-p)


def _positive_or_none(d: Decimal) -> Decimal | None:
    # Binance disables a bound by sending 0
    return d if d > 0 else None


def parse_instrument(sym: Any) -> Instrument:
    s = as_obj(sym, "symbol entry")
    vs, base, quote = get_str(s, "symbol"), get_str(s, "baseAsset"), get_str(s, "quoteAsset")
    if not vs or not base or not quote:
        raise err("empty symbol or asset name")
    f = _filters(s)
    price_f, lot_f = f.get("PRICE_FILTER"), f.get("LOT_SIZE")
    tick = get_dec(price_f, "tickSize") if price_f else Decimal(0)
    if tick <= 0:  # a disabled tick: the quote precision is the finest price step
        tick = _precision_step(s, "quoteAssetPrecision")
    lot = get_dec(lot_f, "stepSize") if lot_f else Decimal(0)
    if lot <= 0:
        lot = _precision_step(s, "baseAssetPrecision")
    min_qty = get_dec(lot_f, "minQty") if lot_f else Decimal(0)
    max_qty = _positive_or_none(get_dec(lot_f, "maxQty")) if lot_f else None
    min_notional, max_notional = Decimal(0), None
    if "NOTIONAL" in f:
        nf = f["NOTIONAL"]
        min_notional = get_dec(nf, "minNotional")
        if "maxNotional" in nf:
            max_notional = _positive_or_none(get_dec(nf, "maxNotional"))
    elif "MIN_NOTIONAL" in f:
        min_notional = get_dec(f["MIN_NOTIONAL"], "minNotional")
    return Instrument(
        venue=VENUE, symbol=internal_symbol(base, quote), venue_symbol=vs, base=base.upper(),
        quote=quote.upper(), tick_size=tick.normalize(), lot_size=lot.normalize(),
        min_qty=min_qty, min_notional=min_notional, max_qty=max_qty,
        max_notional=max_notional, tradable=opt_str(s, "status") == "TRADING")


def parse_instruments(payload: Any) -> list[Instrument]:
    """`GET /api/v3/exchangeInfo` answer -> instruments (every status; `tradable` says which
    are TRADING). A malformed entry fails the whole answer: filters must never be guessed."""
    body = as_obj(payload, "exchangeInfo")
    return [parse_instrument(s) for s in as_list(body.get("symbols"), "symbols")]


def exchange_info_request() -> tuple[str, str]:
    """(method, path) of the instruments request (weight 20, public)."""
    return "GET", C.PATH_EXCHANGE_INFO


# -- server side -----------------------------------------------------------------------------
def _precision(step: Decimal) -> int:
    exp = step.normalize().as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 8


def encode_rate_limits(orders_per_10s: int = C.ORDERS_PER_10S,
                       orders_per_day: int = C.ORDERS_PER_DAY,
                       weight_per_min: int = C.REQUEST_WEIGHT_PER_MINUTE) -> list[dict[str, Any]]:
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
         "limit": weight_per_min},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
         "limit": orders_per_10s},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
         "limit": orders_per_day},
    ]


def encode_instrument(inst: Instrument) -> dict[str, Any]:
    max_notional = inst.max_notional if inst.max_notional is not None else Decimal(9000000)
    max_qty = inst.max_qty if inst.max_qty is not None else Decimal(9000000)
    base_p = max(8, _precision(inst.lot_size))
    quote_p = max(8, _precision(inst.tick_size))
    return {
        "symbol": inst.venue_symbol,
        "status": "TRADING" if inst.tradable else "BREAK",
        "baseAsset": inst.base,
        "baseAssetPrecision": base_p,
        "quoteAsset": inst.quote,
        "quotePrecision": quote_p,
        "quoteAssetPrecision": quote_p,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": False,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": True,
        "amendAllowed": False,
        "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fmt8(inst.tick_size),
             "maxPrice": fmt8(Decimal(1000000)), "tickSize": fmt8(inst.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": fmt8(inst.min_qty or inst.lot_size),
             "maxQty": fmt8(max_qty), "stepSize": fmt8(inst.lot_size)},
            {"filterType": "NOTIONAL", "minNotional": fmt8(inst.min_notional),
             "applyMinToMarket": True, "maxNotional": fmt8(max_notional),
             "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH",
                                            "NONE"],
    }


def encode_instruments(instruments: Iterable[Instrument], server_time_ms: int = 0,
                       rate_limits: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Instruments -> the `GET /api/v3/exchangeInfo` body."""
    return {
        "timezone": "UTC",
        "serverTime": server_time_ms,
        "rateLimits": rate_limits if rate_limits is not None else encode_rate_limits(),
        "exchangeFilters": [],
        "symbols": [encode_instrument(i) for i in instruments],
    }

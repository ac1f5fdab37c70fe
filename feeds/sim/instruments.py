"""The simulated venues' listed instruments: each venue's own tick, lot and minimums.

The values follow each venue's real filters for these pairs closely enough that every
quantization path (Binance 0.01 price ticks and 0.00001 BTC lots, OKX 0.1 ticks and 1e-8 lots,
Gate 0.1 ticks and 1e-6 amounts) is exercised in sim exactly as it would be live. A symbol not
in the table is listed with generic filters derived from its reference price, so any
`BASE/QUOTE` in the config can be simulated.
"""
from __future__ import annotations

from decimal import Decimal

from pipeline.model import Instrument, split_symbol

D = Decimal

# reference mid prices the market model starts from
REFERENCE_PRICE: dict[str, Decimal] = {"BTC/USDT": D("65000"), "ETH/USDT": D("3200"),
                                       "SOL/USDT": D("150"), "BNB/USDT": D("600"),
                                       "XRP/USDT": D("0.6"), "DOGE/USDT": D("0.15")}

# venue -> symbol -> (tick, lot, min_qty, min_notional)
_FILTERS: dict[str, dict[str, tuple[Decimal, Decimal, Decimal, Decimal]]] = {
    "binance": {"BTC/USDT": (D("0.01"), D("0.00001"), D("0.00001"), D("5")),
                "ETH/USDT": (D("0.01"), D("0.0001"), D("0.0001"), D("5")),
                "SOL/USDT": (D("0.01"), D("0.001"), D("0.001"), D("5"))},
    "okx": {"BTC/USDT": (D("0.1"), D("0.00000001"), D("0.00001"), D("0")),
            "ETH/USDT": (D("0.01"), D("0.000001"), D("0.0001"), D("0")),
            "SOL/USDT": (D("0.01"), D("0.000001"), D("0.01"), D("0"))},
    "gate": {"BTC/USDT": (D("0.1"), D("0.000001"), D("0.000001"), D("3")),
             "ETH/USDT": (D("0.01"), D("0.0001"), D("0.0001"), D("3")),
             "SOL/USDT": (D("0.01"), D("0.001"), D("0.001"), D("3"))},
}
# OKX WebSocket order operations need the integer instIdCode
_OKX_CODES = {"BTC/USDT": 100001, "ETH/USDT": 100002, "SOL/USDT": 100003}


def venue_symbol(venue: str, symbol: str) -> str:
    base, quote = split_symbol(symbol)
    return {"binance": f"{base}{quote}", "okx": f"{base}-{quote}",
            "gate": f"{base}_{quote}"}[venue]


def reference_price(symbol: str) -> Decimal:
    return REFERENCE_PRICE.get(symbol, D("10"))


def _generic(symbol: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Filters for an unlisted symbol: ~1 bp ticks, lots worth ~0.1 quote."""
    px = reference_price(symbol)
    tick = D(1).scaleb(px.adjusted() - 4)
    lot = D(1).scaleb(-(px.adjusted() + 1))
    return tick, lot, lot, D("1")


def listed(venue: str, symbols: list[str] | tuple[str, ...]) -> list[Instrument]:
    out = []
    for i, symbol in enumerate(symbols):
        base, quote = split_symbol(symbol)
        tick, lot, min_qty, min_notional = _FILTERS.get(venue, {}).get(symbol) or _generic(symbol)
        code = _OKX_CODES.get(symbol, 200000 + i) if venue == "okx" else None
        out.append(Instrument(venue, symbol, venue_symbol(venue, symbol), base, quote, tick, lot,
                              min_qty=min_qty, min_notional=min_notional,
                              max_qty=D("9000"), venue_code=code))
    return out

"""Each simulated venue's order semantics, as data.

The matching engine is one piece of code for Binance, OKX and Gate; what differs between them
(post-only behaviour, fee rates, self-trade prevention, which reject code or cancel reason the
venue reports) lives here, so the engine asks `rules.<field>` instead of branching on a venue
name, and the wire front-ends (`feeds/<venue>` codecs driven by `feeds/sim/server.py`) read the
same table to put the venue's own code string on the wire. Sources: EXCHANGES.md §1.6, §2.6,
§3.6 and the §4 checklist.

Choices where the reference is silent or ambiguous (all overridable with
`dataclasses.replace`):
- STP: Binance `EXPIRE_MAKER` (the usual `defaultSelfTradePreventionMode`), OKX `cancel_maker`
  (documented default), Gate `cn` = cancel the newest, i.e. the incoming taker (Gate applies STP
  only inside an STP group; the simulator treats every tracked account as being in one).
- Gate post-only crossing: accepted, then finished with `finish_as=poc` (the order object path);
  `post_only_reject` holds the `POC_FILL_IMMEDIATELY` label for a front-end that prefers the
  error path (EXCHANGES.md §5 item 10 leaves this open).
- OKX codes not in the reference table: tick violation and a size above the maximum map to
  `51000` (parameter error); below minimum size or notional to `51020`; FOK cancelSource `15`.
- Gate has no duplicate-`text` rule of its own; the simulator still keeps client ids unique
  among open orders (so cancel by `text` is unambiguous) and answers `INVALID_PARAM_VALUE`.
- Fees are the base-tier spot rates: Binance 0.1 %/0.1 %, OKX 0.08 %/0.1 %, Gate 0.2 %/0.2 %,
  charged in the asset the side receives (base for a buyer, quote for a seller).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any, Literal

from pipeline.model import Instrument, RejectReason

CancelCause = Literal["user", "post_only", "ioc", "fok", "stp", "deadman", "cancel_all"]
CANCEL_CAUSES: tuple[CancelCause, ...] = (
    "user", "post_only", "ioc", "fok", "stp", "deadman", "cancel_all",
)


class PostOnlyMode(Enum):
    """What a venue does with a post-only order that would take liquidity."""

    REJECT = "reject"   # refused at placement (Binance LIMIT_MAKER, -2010)
    CANCEL = "cancel"   # accepted, then canceled at once (OKX cancelSource 31, Gate poc)


class StpMode(Enum):
    """Self-trade prevention: which side goes when an order would match its own account."""

    NONE = "none"                  # self trades happen
    CANCEL_MAKER = "cancel_maker"  # the resting order is removed, the taker keeps matching
    CANCEL_TAKER = "cancel_taker"  # the incoming order's remainder is removed
    CANCEL_BOTH = "cancel_both"


class Filter(Enum):
    """Which exchange filter an order failed (one venue code each, see `VenueRules`)."""

    PRICE_TICK = "price_tick"
    PRICE_BOUNDS = "price_bounds"
    LOT_STEP = "lot_step"
    QTY_MIN = "qty_min"
    QTY_MAX = "qty_max"
    NOTIONAL_MIN = "notional_min"
    NOTIONAL_MAX = "notional_max"


@dataclass(frozen=True, slots=True)
class VenueReply:
    """A venue's answer to a refused request: our typed reason plus the venue's own code."""

    reason: RejectReason
    code: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class VenueRules:
    venue: str
    maker_fee: Decimal
    taker_fee: Decimal
    post_only: PostOnlyMode
    stp: StpMode
    filter_rejects: Mapping[Filter, VenueReply]
    insufficient_balance: VenueReply
    post_only_reject: VenueReply
    unknown_order: VenueReply
    duplicate_client_id: VenueReply
    rate_limited: VenueReply
    bad_symbol: VenueReply
    unavailable: VenueReply
    # the venue's word for each way an order ends without filling: Binance order status,
    # OKX cancelSource, Gate finish_as
    cancel_codes: Mapping[str, str]
    # causes this venue reports as EXPIRED rather than CANCELED (Binance IOC/FOK/STP)
    expire_causes: frozenset[str] = field(default_factory=frozenset)
    # the best-bid/offer stream is pushed on every change of the top of book (Binance
    # `@bookTicker`, "real time"); False: at most once per publishing tick, as OKX `bbo-tbt`
    # and Gate `spot.book_ticker` coalesce theirs (~10 ms)
    bbo_every_change: bool = False

    def filter_reject(self, failed: Filter) -> VenueReply:
        return self.filter_rejects[failed]

    def cancel_code(self, cause: str) -> str:
        return self.cancel_codes[cause]

    def reply_for(self, reason: RejectReason) -> VenueReply:
        """The venue reply for a typed reason (used for injected faults)."""
        table = {
            RejectReason.INSUFFICIENT_BALANCE: self.insufficient_balance,
            RejectReason.POST_ONLY_WOULD_CROSS: self.post_only_reject,
            RejectReason.UNKNOWN_ORDER: self.unknown_order,
            RejectReason.DUPLICATE_ID: self.duplicate_client_id,
            RejectReason.RATE_LIMITED: self.rate_limited,
            RejectReason.BAD_SYMBOL: self.bad_symbol,
            RejectReason.VENUE_UNAVAILABLE: self.unavailable,
            RejectReason.BAD_PRICE: self.filter_rejects[Filter.PRICE_TICK],
            RejectReason.BAD_SIZE: self.filter_rejects[Filter.LOT_STEP],
        }
        return table.get(reason, self.unavailable)


def _frozen(d: Mapping) -> Mapping:  # type: ignore[type-arg]
    return MappingProxyType(dict(d))


_BN_PRICE = VenueReply(RejectReason.BAD_PRICE, "-1013", "Filter failure: PRICE_FILTER")
_BN_LOT = VenueReply(RejectReason.BAD_SIZE, "-1013", "Filter failure: LOT_SIZE")
_BN_NOTIONAL = VenueReply(RejectReason.BAD_SIZE, "-1013", "Filter failure: NOTIONAL")

BINANCE = VenueRules(
    venue="binance",
    bbo_every_change=True,
    maker_fee=Decimal("0.001"),
    taker_fee=Decimal("0.001"),
    post_only=PostOnlyMode.REJECT,
    stp=StpMode.CANCEL_MAKER,
    filter_rejects=_frozen({
        Filter.PRICE_TICK: _BN_PRICE, Filter.PRICE_BOUNDS: _BN_PRICE,
        Filter.LOT_STEP: _BN_LOT, Filter.QTY_MIN: _BN_LOT, Filter.QTY_MAX: _BN_LOT,
        Filter.NOTIONAL_MIN: _BN_NOTIONAL, Filter.NOTIONAL_MAX: _BN_NOTIONAL,
    }),
    insufficient_balance=VenueReply(RejectReason.INSUFFICIENT_BALANCE, "-2010",
                                    "Account has insufficient balance for requested action."),
    post_only_reject=VenueReply(RejectReason.POST_ONLY_WOULD_CROSS, "-2010",
                                "Order would immediately match and take."),
    unknown_order=VenueReply(RejectReason.UNKNOWN_ORDER, "-2011", "Unknown order sent."),
    duplicate_client_id=VenueReply(RejectReason.DUPLICATE_ID, "-2010", "Duplicate order sent."),
    rate_limited=VenueReply(RejectReason.RATE_LIMITED, "-1015",
                            "Too many new orders; current limit is 50 orders per 10 SECOND."),
    bad_symbol=VenueReply(RejectReason.BAD_SYMBOL, "-1121", "Invalid symbol."),
    unavailable=VenueReply(RejectReason.TIMEOUT_UNKNOWN, "-1007",
                           "Timeout waiting for response from backend server. Send status "
                           "unknown; execution status unknown."),
    cancel_codes=_frozen({
        "user": "CANCELED", "cancel_all": "CANCELED", "deadman": "CANCELED",
        "post_only": "REJECTED", "ioc": "EXPIRED", "fok": "EXPIRED", "stp": "EXPIRED_IN_MATCH",
    }),
    expire_causes=frozenset({"ioc", "fok", "stp"}),
)

_OKX_PARAM = VenueReply(RejectReason.BAD_PRICE, "51000", "Parameter px error")
_OKX_SMALL = VenueReply(RejectReason.BAD_SIZE, "51020", "Your order should meet or exceed the "
                                                        "minimum order amount.")
_OKX_BIG = VenueReply(RejectReason.BAD_SIZE, "51000", "Parameter sz error")

OKX = VenueRules(
    venue="okx",
    maker_fee=Decimal("0.0008"),
    taker_fee=Decimal("0.001"),
    post_only=PostOnlyMode.CANCEL,
    stp=StpMode.CANCEL_MAKER,
    filter_rejects=_frozen({
        Filter.PRICE_TICK: _OKX_PARAM, Filter.PRICE_BOUNDS: _OKX_PARAM,
        Filter.LOT_STEP: VenueReply(RejectReason.BAD_SIZE, "51121",
                                    "Order quantity must be a multiple of the lot size."),
        Filter.QTY_MIN: _OKX_SMALL, Filter.NOTIONAL_MIN: _OKX_SMALL,
        Filter.QTY_MAX: _OKX_BIG, Filter.NOTIONAL_MAX: _OKX_BIG,
    }),
    insufficient_balance=VenueReply(RejectReason.INSUFFICIENT_BALANCE, "51008",
                                    "Order failed. Insufficient balance."),
    post_only_reject=VenueReply(RejectReason.POST_ONLY_WOULD_CROSS, "51000",
                                "Post-only order would take liquidity."),
    unknown_order=VenueReply(RejectReason.UNKNOWN_ORDER, "51400",
                             "Cancellation failed as the order has been filled, canceled or "
                             "does not exist."),
    duplicate_client_id=VenueReply(RejectReason.DUPLICATE_ID, "51016",
                                   "Client order ID already exists."),
    rate_limited=VenueReply(RejectReason.RATE_LIMITED, "50011", "Rate limit reached."),
    bad_symbol=VenueReply(RejectReason.BAD_SYMBOL, "51001", "Instrument ID doesn't exist."),
    unavailable=VenueReply(RejectReason.TIMEOUT_UNKNOWN, "51149",
                           "Order timed out. Please try again."),
    cancel_codes=_frozen({
        "user": "1", "cancel_all": "1", "deadman": "20", "post_only": "31", "ioc": "14",
        "fok": "15", "stp": "32",
    }),
)

_GATE_PRECISION = VenueReply(RejectReason.BAD_PRICE, "INVALID_PRECISION", "Invalid precision")
_GATE_LITTLE = VenueReply(RejectReason.BAD_SIZE, "AMOUNT_TOO_LITTLE", "Amount too little")
_GATE_MUCH = VenueReply(RejectReason.BAD_SIZE, "AMOUNT_TOO_MUCH", "Amount too much")

GATE = VenueRules(
    venue="gate",
    maker_fee=Decimal("0.002"),
    taker_fee=Decimal("0.002"),
    post_only=PostOnlyMode.CANCEL,
    stp=StpMode.CANCEL_TAKER,
    filter_rejects=_frozen({
        Filter.PRICE_TICK: _GATE_PRECISION,
        Filter.PRICE_BOUNDS: VenueReply(RejectReason.BAD_PRICE, "INVALID_PARAM_VALUE",
                                        "Invalid price"),
        Filter.LOT_STEP: VenueReply(RejectReason.BAD_SIZE, "INVALID_PRECISION",
                                    "Invalid precision"),
        Filter.QTY_MIN: _GATE_LITTLE, Filter.NOTIONAL_MIN: _GATE_LITTLE,
        Filter.QTY_MAX: _GATE_MUCH, Filter.NOTIONAL_MAX: _GATE_MUCH,
    }),
    insufficient_balance=VenueReply(RejectReason.INSUFFICIENT_BALANCE, "BALANCE_NOT_ENOUGH",
                                    "Not enough balance"),
    post_only_reject=VenueReply(RejectReason.POST_ONLY_WOULD_CROSS, "POC_FILL_IMMEDIATELY",
                                "Order would match and take immediately so it's cancelled"),
    unknown_order=VenueReply(RejectReason.UNKNOWN_ORDER, "ORDER_NOT_FOUND", "Order not found"),
    duplicate_client_id=VenueReply(RejectReason.DUPLICATE_ID, "INVALID_PARAM_VALUE",
                                   "Duplicate text among open orders"),
    rate_limited=VenueReply(RejectReason.RATE_LIMITED, "TOO_MANY_REQUESTS",
                            "Request rate limit exceeded"),
    bad_symbol=VenueReply(RejectReason.BAD_SYMBOL, "INVALID_CURRENCY_PAIR",
                          "Invalid currency pair"),
    unavailable=VenueReply(RejectReason.VENUE_UNAVAILABLE, "TOO_BUSY", "Server too busy"),
    cancel_codes=_frozen({
        "user": "cancelled", "cancel_all": "cancelled", "deadman": "cancelled",
        "post_only": "poc", "ioc": "ioc", "fok": "fok", "stp": "stp",
    }),
)

RULES: Mapping[str, VenueRules] = MappingProxyType(
    {"binance": BINANCE, "okx": OKX, "gate": GATE})


def rules_for(venue: str) -> VenueRules:
    """The built-in rules of `venue`; an unknown venue is a KeyError naming it."""
    try:
        return RULES[venue]
    except KeyError:
        raise KeyError(f"no simulator rules for venue {venue!r}") from None


def check_filters(inst: Instrument, price_ticks: int | None, lots: int) -> Filter | None:
    """The first exchange filter an order in ticks/lots fails, or None when it passes.

    A market order (`price_ticks` None) is checked on size only: the notional filters of all
    three venues apply to market orders by reference price, which the engine does not model.
    """
    if lots <= 0:
        return Filter.QTY_MIN
    qty = inst.lot_size * lots
    if qty < inst.min_qty:
        return Filter.QTY_MIN
    if inst.max_qty is not None and qty > inst.max_qty:
        return Filter.QTY_MAX
    if price_ticks is None:
        return None
    if price_ticks <= 0:
        return Filter.PRICE_BOUNDS
    notional = qty * inst.tick_size * price_ticks
    if notional < inst.min_notional:
        return Filter.NOTIONAL_MIN
    if inst.max_notional is not None and notional > inst.max_notional:
        return Filter.NOTIONAL_MAX
    return None


_WIRE_MEMO: dict[int, tuple[Instrument, dict[tuple[Any, Any], Any]]] = {}
WIRE_MEMO_MAX = 4096   # (price, qty) pairs per instrument


def check_wire(inst: Instrument, price: Decimal | None,
               qty: Decimal) -> tuple[int | None, int] | Filter:
    """Decimal price/qty from the wire -> (ticks, lots), or the filter it fails.

    Off-tick prices and off-step sizes are refused rather than rounded: that is what the
    venues do (Binance PRICE_FILTER / LOT_SIZE, OKX 51121, Gate INVALID_PRECISION).

    Memoised per instrument: a client repeats the same few prices and sizes, and the ten
    Decimal operations of the check were a tenth of the simulator's order path. The answer
    depends only on the instrument (immutable) and the two values, so a hit is exactly what
    the check returns. The memo is keyed by the instrument's id and keeps the instrument
    alive (no id reuse); Decimal hashes are cached, so a hit costs two dict lookups.
    """
    entry = _WIRE_MEMO.get(id(inst))
    if entry is None or entry[0] is not inst:
        if len(_WIRE_MEMO) >= 64:
            _WIRE_MEMO.clear()
        entry = _WIRE_MEMO[id(inst)] = (inst, {})
    memo = entry[1]
    if type(qty) is not Decimal or (price is not None and type(price) is not Decimal):
        return _check_wire(inst, price, qty)   # an int or float: not worth a memo entry
    key = (price, qty)
    try:
        hit = memo.get(key)
    except TypeError:   # a signalling NaN has no hash: the check itself answers
        return _check_wire(inst, price, qty)
    if hit is None:
        if len(memo) >= WIRE_MEMO_MAX:
            memo.clear()
        hit = memo[key] = _check_wire(inst, price, qty)
    return hit  # type: ignore[no-any-return]


def _check_wire(inst: Instrument, price: Decimal | None,
                qty: Decimal) -> tuple[int | None, int] | Filter:
    """`check_wire` without the memo."""
    if price is not None:
        if price <= 0:
            return Filter.PRICE_BOUNDS
        if price % inst.tick_size != 0:
            return Filter.PRICE_TICK
    if qty <= 0:
        return Filter.QTY_MIN
    if qty % inst.lot_size != 0:
        return Filter.LOT_STEP
    ticks = None if price is None else int(price / inst.tick_size)
    lots = int(qty / inst.lot_size)
    failed = check_filters(inst, ticks, lots)
    return failed if failed is not None else (ticks, lots)

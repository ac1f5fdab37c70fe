# cython: annotation_typing=False
"""Matching engine of a simulated venue: one instrument, price-time priority, exact money.

Called by the simulated venues' wire front-ends (`feeds/sim/server.py` and the venue codecs)
for our strategy's orders, and by `MarketSimulator` for the background crowd; both trade in
the same book. Pure and deterministic: time is an int-nanosecond argument, ids are counters.

Prices are integer ticks and sizes integer lots; quote amounts are computed as
`ticks * lots * (tick_size * lot_size)` in Decimal, so balances and fees are exact. What
differs per venue (post-only, STP, fees, reject and cancel codes) comes from `VenueRules`.

Book layout: per side a dict price -> FIFO level and a sorted key list whose last element is
the best price (bids keyed by +price, asks by -price), so taking the best level is O(1) and
adding a level is a bisect. Cancels are lazy: the order is marked dead and skipped (or the
whole level dropped when its live total reaches zero), so a cancel never scans a queue.

Every call returns typed events in the order they happened: `Accepted`, `Rejected`, `Trade`
(public, one per match), `Fill` (one per side), `Canceled` / `Expired` (with the cause and the
venue's own code). `sequence` increments on every change of a level; `drain_level_changes()`
gives the front-ends the changed levels (absolute size, 0 = removed) for their depth diffs.
"""
from __future__ import annotations

import itertools
import math
from bisect import bisect_left, insort
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import fields
from decimal import Decimal
from fractions import Fraction
from typing import Any

from feeds.sim.accounts import Account, Accounts
from feeds.sim.events import (
    Accepted,
    Canceled,
    Event,
    Expired,
    Fill,
    OrderDone,
    OrderView,
    Rejected,
    SimOrder,
    Trade,
)
from feeds.sim.venue_rules import (
    CancelCause,
    Filter,
    PostOnlyMode,
    StpMode,
    VenueReply,
    VenueRules,
    check_filters,
    check_wire,
)
from pipeline.model import Instrument, OrderStatus, OrderType, Side, TimeInForce

ZERO = Decimal(0)


# enum members the hot paths compare by identity, looked up once
_BUY = Side.BUY
_SELL = Side.SELL
_LIMIT = OrderType.LIMIT
_GTC, _IOC, _FOK, _POST_ONLY = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, \
    TimeInForce.POST_ONLY
_NEW, _FILLED, _PARTIAL = OrderStatus.NEW, OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED
_CANCELED, _EXPIRED = OrderStatus.CANCELED, OrderStatus.EXPIRED
_STP_NONE, _STP_MAKER, _STP_TAKER = StpMode.NONE, StpMode.CANCEL_MAKER, StpMode.CANCEL_TAKER


_QTY_MIN, _QTY_MAX, _PRICE_BOUNDS = Filter.QTY_MIN, Filter.QTY_MAX, Filter.PRICE_BOUNDS
_NOTIONAL_MIN, _NOTIONAL_MAX = Filter.NOTIONAL_MIN, Filter.NOTIONAL_MAX
_EXACT = 10 ** 27   # Decimal's 28 digits hold every product below this exactly
_new = object.__new__
_set = object.__setattr__   # how dataclasses' own __init__ fills a frozen instance


# each event's own field order (`dataclasses.fields`), for `_filled`
_F_TRADE = tuple(f.name for f in fields(Trade))
_F_ACCEPTED = tuple(f.name for f in fields(Accepted))
_F_DONE = tuple(f.name for f in fields(OrderDone))   # Canceled and Expired add none
_F_VIEW = tuple(f.name for f in fields(OrderView))


def _filled(cls: type, names: tuple[str, ...], values: tuple[object, ...]) -> Any:
    """`cls(*values)` for a frozen slots dataclass, equal in every field, without the
    generated `__init__` (interpreted, one `object.__setattr__` call per field: ~1.5 us for
    an `OrderView` called from Python; compiled, this loop runs in C). `names` is the class's
    own field order, so a value cannot land in the wrong field, and a count that does not
    match is refused rather than leaving a slot unset."""
    n = len(names)
    if len(values) != n:
        raise TypeError(f"{cls.__name__} takes {n} fields, got {len(values)}")
    o: Any = _new(cls)
    for i in range(n):
        _set(o, names[i], values[i])
    return o


def _filter_bounds(inst: Instrument) -> tuple[int, int | None, int, int | None, int, int] | None:
    """`check_filters`' bounds as integers: (min lots, max lots, min and max lots * ticks,
    the lot coefficient, lot * tick coefficient) — lots * lot_size < min_qty exactly when
    lots < ceil(min_qty / lot_size), alike for the others. None (always the Decimal way)
    for an instrument whose numbers are not plain finite Decimals."""
    nums = (inst.tick_size, inst.lot_size, inst.min_qty, inst.min_notional, inst.max_qty,
            inst.max_notional)
    if any(v is not None and (type(v) is not Decimal or not v.is_finite()) for v in nums):
        return None
    tick, lot = Fraction(inst.tick_size), Fraction(inst.lot_size)
    if tick <= 0 or lot <= 0:
        return None
    unit = tick * lot
    _, tdig, texp = inst.tick_size.as_tuple()
    _, ldig, lexp = inst.lot_size.as_tuple()
    if not isinstance(texp, int) or not isinstance(lexp, int):
        return None
    tc = int("".join(map(str, tdig)))
    lc = int("".join(map(str, ldig)))
    return (math.ceil(Fraction(inst.min_qty) / lot),
            None if inst.max_qty is None else math.floor(Fraction(inst.max_qty) / lot),
            math.ceil(Fraction(inst.min_notional) / unit),
            None if inst.max_notional is None else math.floor(
                Fraction(inst.max_notional) / unit),
            lc, lc * tc)


# -- internals --------------------------------------------------------------------------------
class _Order:
    """One accepted order. Built by `_new_order` (no `__init__`: the compiled twin allocates it
    without an argument-parsing call)."""

    __slots__ = (
        "account",
        "acct",
        "client_id",
        "created_ns",
        "cum_fee",
        "cum_units",
        "filled",
        "leaves",
        "live",
        "locked",
        "lots",
        "order_id",
        "price",
        "quiet",
        "quote_qty",
        "side",
        "sign",
        "status",
        "tif",
        "type",
        "unlimited",
        "updated_ns",
    )
    account: str
    acct: Account
    client_id: str
    created_ns: int
    cum_fee: Decimal
    cum_units: int
    filled: int
    leaves: int
    live: bool
    locked: Decimal
    lots: int
    order_id: int
    price: int | None
    quiet: bool
    quote_qty: Decimal | None
    side: Side
    sign: int
    status: OrderStatus
    tif: TimeInForce
    type: OrderType
    unlimited: bool
    updated_ns: int


def _new_order(order_id: int, account: str, acct: Account, client_id: str, side: Side,
               type: OrderType, tif: TimeInForce, price: int | None, lots: int,
               quote_qty: Decimal | None, locked: Decimal, now_ns: int) -> _Order:
    o = _Order.__new__(_Order)
    o.order_id = order_id
    o.client_id = client_id
    o.account = account
    o.acct = acct
    o.quiet = acct.quiet           # an account's flags never change once opened
    o.unlimited = acct.unlimited
    o.side = side
    o.sign = 1 if side is _BUY else -1
    o.type = type
    o.tif = tif
    o.price = price if type is _LIMIT else None
    o.lots = lots
    o.leaves = lots
    o.filled = 0
    o.live = True
    o.status = _NEW
    o.locked = locked
    o.cum_units = 0
    o.cum_fee = ZERO
    o.quote_qty = quote_qty
    o.created_ns = now_ns
    o.updated_ns = now_ns
    return o


class _Level:
    __slots__ = ("dead", "orders", "total")

    def __init__(self) -> None:
        self.orders: deque[_Order] = deque()
        self.total = 0
        self.dead = 0


class _BookSide:
    """One side: price -> level, and keys (sign * price) ascending, best last."""

    __slots__ = ("changed", "keys", "levels", "side", "sign")

    def __init__(self, side: Side) -> None:
        self.side = side
        self.sign = 1 if side is _BUY else -1
        self.levels: dict[int, _Level] = {}
        self.keys: list[int] = []
        self.changed: dict[int, None] = {}

    def best(self) -> int | None:
        return self.keys[-1] * self.sign if self.keys else None

    def level_for_add(self, price: int) -> _Level:
        lvl = self.levels.get(price)
        if lvl is None:
            lvl = self.levels[price] = _Level()
            insort(self.keys, price * self.sign)
        return lvl

    def drop(self, price: int) -> None:
        del self.levels[price]
        keys = self.keys
        key = price * self.sign
        if keys[-1] == key:
            keys.pop()
        else:
            del keys[bisect_left(keys, key)]


def _same_top(bs: _BookSide, prev: tuple[int, int] | None) -> bool:
    """Is `prev` (price, lots) still the best level of `bs` (None: still empty)?"""
    keys = bs.keys
    if not keys:
        return prev is None
    if prev is None:
        return False
    p = keys[-1] * bs.sign
    if p != prev[0]:
        return False
    lvl: _Level = bs.levels[p]
    return bool(lvl.total == prev[1])


class MatchingEngine:
    """Price-time priority book and order lifecycle for one instrument of one venue."""

    def __init__(self, instrument: Instrument, rules: VenueRules, accounts: Accounts, *,
                 order_ids: Iterator[int] | None = None, history: int = 10_000) -> None:
        self.instrument = instrument
        self.rules = rules
        self.accounts = accounts
        self.symbol = instrument.symbol
        self.sequence = 0
        self._ids = order_ids if order_ids is not None else itertools.count(1)
        self._trade_id = 0
        self._last_order_id = 0
        self._base = instrument.base
        self._quote = instrument.quote
        self._lot = instrument.lot_size
        self._unit = instrument.tick_size * instrument.lot_size
        self._stp = rules.stp
        self._expire_causes = rules.expire_causes
        self._bounds = _filter_bounds(instrument)
        self._bounds_of = instrument   # `instrument` may be replaced (tests): then recomputed
        self._acct_cache: dict[str, Account] = {}
        self._maker_fee = rules.maker_fee
        self._taker_fee = rules.taker_fee
        self._bid = _BookSide(Side.BUY)
        self._ask = _BookSide(Side.SELL)
        self._open: dict[int, _Order] = {}
        self._by_client: dict[tuple[str, str], _Order] = {}
        self._by_account: dict[str, dict[int, _Order]] = {}
        self._done: OrderedDict[int, _Order] = OrderedDict()
        self._done_client: dict[tuple[str, str], int] = {}
        self._history = history

    # -- queries --------------------------------------------------------------------------------
    @property
    def last_trade_id(self) -> int:
        return self._trade_id

    @property
    def last_order_id(self) -> int:
        """Id given to the latest accepted order (quiet accounts get no `Accepted` event)."""
        return self._last_order_id

    def is_open(self, order_id: int) -> bool:
        return order_id in self._open

    def best(self) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
        """((bid_ticks, lots) | None, (ask_ticks, lots) | None)."""
        b, a = self._bid, self._ask
        bk, ak = b.keys, a.keys   # keys are sign * price: bids as is, asks negated
        bid = ask = None
        if bk:
            p = bk[-1]
            lvl: _Level = b.levels[p]
            bid = (p, lvl.total)
        if ak:
            p = -ak[-1]
            lvl = a.levels[p]
            ask = (p, lvl.total)
        return bid, ask

    def best_if_changed(self, prev: tuple[tuple[int, int] | None, tuple[int, int] | None]
                        ) -> tuple[tuple[int, int] | None, tuple[int, int] | None] | None:
        """`best()` if it differs from `prev` (an earlier `best()`), else None: the market's
        check after every arrival, which builds nothing when the top did not move."""
        if _same_top(self._bid, prev[0]) and _same_top(self._ask, prev[1]):
            return None
        return self.best()

    def depth(self, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Top `n` aggregated levels per side, best first, as (price_ticks, lots)."""
        return self._side_depth(self._bid, n), self._side_depth(self._ask, n)

    def _side_depth(self, bs: _BookSide, n: int) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        if n <= 0:
            return out
        lv = bs.levels
        sg = bs.sign
        for k in reversed(bs.keys[-n:]):
            p = k * sg
            lvl: _Level = lv[p]
            out.append((p, lvl.total))
        return out

    def best_prices(self) -> tuple[int | None, int | None]:
        """(best bid ticks | None, best ask ticks | None): `best` without the sizes."""
        bk, ak = self._bid.keys, self._ask.keys
        return (bk[-1] if bk else None), (-ak[-1] if ak else None)

    def level_count(self, side: Side) -> int:
        return len((self._bid if side is _BUY else self._ask).keys)

    def worst(self, side: Side) -> int | None:
        """Price (ticks) of the level farthest from the touch on `side`, or None if empty."""
        bs = self._bid if side is _BUY else self._ask
        return bs.keys[0] * bs.sign if bs.keys else None

    def drain_level_changes(self) -> list[tuple[Side, int, int]]:
        """Levels changed since the last drain: (side, price_ticks, new total lots; 0 = gone)."""
        out: list[tuple[Side, int, int]] = []
        for bs in (self._bid, self._ask):
            lv = bs.levels
            side = bs.side
            for p in bs.changed:
                lvl = lv.get(p)
                out.append((side, p, lvl.total if lvl is not None else 0))
            bs.changed = {}
        return out

    def drain_depth(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """`drain_level_changes` split by side, as the depth publisher wants them: (bid
        changes, ask changes), each (price_ticks, new total lots; 0 = gone), in change
        order."""
        return self._drain_side(self._bid), self._drain_side(self._ask)

    def _drain_side(self, bs: _BookSide) -> list[tuple[int, int]]:
        lv = bs.levels
        out: list[tuple[int, int]] = []
        for p in bs.changed:
            lvl = lv.get(p)
            out.append((p, lvl.total if lvl is not None else 0))
        bs.changed = {}
        return out

    def open_orders(self, account: str) -> list[OrderView]:
        return [self._view(o) for o in self._by_account.get(account, {}).values()]

    def get(self, account: str, ref: int | str) -> OrderView | None:
        """An open or recently finished order of `account` by order id (int) or client id."""
        o = self._find_open(account, ref)
        if o is None:
            oid = ref if isinstance(ref, int) else self._done_client.get((account, ref))
            o = self._done.get(oid) if oid is not None else None
            if o is not None and o.account != account:
                o = None
        return None if o is None else self._view(o)

    # -- commands -------------------------------------------------------------------------------
    def submit_wire(self, account: str, client_id: str, side: Side, type: OrderType,
                    tif: TimeInForce, price: Decimal | None, qty: Decimal | None, now_ns: int,
                    quote_qty: Decimal | None = None) -> list[Event]:
        """Like `submit`, from the Decimal price/qty a front-end parsed off the wire: an
        off-tick price or off-step size is refused with the venue's filter code."""
        if qty is None:   # (`submit` of the same SimOrder, without building it)
            return self._submit(account, client_id, side, None, 0, type, tif, quote_qty,
                                now_ns)
        checked = check_wire(self.instrument, price if type is OrderType.LIMIT else None, qty)
        if isinstance(checked, Filter):
            return [self._reject(account, client_id, self.rules.filter_reject(checked), now_ns)]
        ticks, lots = checked
        return self._submit(account, client_id, side, ticks, lots, type, tif, None, now_ns)

    def submit(self, o: SimOrder, now_ns: int) -> list[Event]:
        return self._submit(o.account, o.client_id, o.side, o.price_ticks, o.lots, o.type,
                            o.tif, o.quote_qty, now_ns)

    def submit_order(self, account: str, client_id: str, side: Side, price_ticks: int | None,
                     lots: int, type: OrderType, tif: TimeInForce, now_ns: int) -> list[Event]:
        """`submit(SimOrder(account, client_id, side, price_ticks, lots, type, tif), now_ns)`
        without building the request: the background crowd's entry, one per arrival."""
        return self._submit(account, client_id, side, price_ticks, lots, type, tif, None,
                            now_ns)

    def _submit(self, account: str, client_id: str, side: Side, price_ticks: int | None,
                lots: int, type: OrderType, tif: TimeInForce, quote_qty: Decimal | None,
                now_ns: int) -> list[Event]:
        acct = self._acct_cache.get(account)
        if acct is None:
            acct = self.accounts.get(account)
            if acct is None:
                raise KeyError(f"{self.rules.venue}: unknown account {account!r}")
            self._acct_cache[account] = acct   # an opened account is never replaced
        rules = self.rules
        is_limit = type is _LIMIT
        if is_limit and price_ticks is None:
            raise ValueError("a limit order needs price_ticks")
        if not is_limit and tif is not _FOK:
            if tif is _POST_ONLY:
                raise ValueError("a market order cannot be post-only")
            tif = _IOC   # market orders never rest: GTC means IOC
        if quote_qty is not None and (is_limit or side is _SELL):
            raise ValueError("quote_qty is for market buys only")
        if not self.instrument.tradable:
            return [self._reject(account, client_id, rules.bad_symbol, now_ns)]
        if client_id and (account, client_id) in self._by_client:
            return [self._reject(account, client_id, rules.duplicate_client_id, now_ns)]
        if quote_qty is not None:
            failed: Filter | None = (Filter.NOTIONAL_MIN if quote_qty <= 0
                                     or quote_qty < self.instrument.min_notional else None)
        else:
            failed = self._check_filters(price_ticks if is_limit else None, lots)
        if failed is not None:
            return [self._reject(account, client_id, rules.filter_reject(failed), now_ns)]
        post_only = is_limit and tif is _POST_ONLY
        would_take = post_only and self._crosses(side, price_ticks)  # type: ignore[arg-type]
        if would_take and rules.post_only is PostOnlyMode.REJECT:
            return [self._reject(account, client_id, rules.post_only_reject, now_ns)]

        # what to lock, and for market orders how many lots the book can give
        unlimited = acct.unlimited
        if unlimited:
            amount = ZERO
            if quote_qty is not None:
                lots, _ = self._plan(side, account, None, None, int(quote_qty / self._unit))
        elif side is _BUY:
            asset = self._quote
            if is_limit:
                amount = self._unit * (price_ticks * lots)  # type: ignore[operator]
            elif quote_qty is not None:
                amount = quote_qty
                lots, _ = self._plan(side, account, None, None, int(quote_qty / self._unit))
            else:
                _, cost = self._plan(side, account, None, lots, None)
                amount = self._unit * cost
        else:
            asset = self._base
            amount = self._lot * lots
        if not unlimited and not acct.try_lock(asset, amount):
            return [self._reject(account, client_id, rules.insufficient_balance, now_ns)]

        order = _new_order(next(self._ids), account, acct, client_id, side, type, tif,
                           price_ticks, lots, quote_qty, amount, now_ns)
        self._last_order_id = order.order_id
        ev: list[Event] = []
        if not acct.quiet:
            ev.append(_filled(Accepted, _F_ACCEPTED, (
                self.symbol, account, order.order_id, client_id, side, type, tif, order.price,
                order.lots, quote_qty, now_ns)))
        if would_take:
            self._finish(order, "post_only", now_ns, ev)
            return ev
        if tif is _FOK:
            can, _ = self._plan(side, account, order.price, lots, None)
            if can < lots:
                self._finish(order, "fok", now_ns, ev)
                return ev
        stopped = self._match(order, now_ns, ev) if lots > 0 else False
        if order.leaves > 0:
            if stopped:
                self._finish(order, "stp", now_ns, ev)
            elif is_limit and (tif is _GTC or tif is _POST_ONLY):
                self._rest(order)
            else:
                self._finish(order, "ioc", now_ns, ev)
        elif order.live:  # fully filled, or a market order that found nothing to take
            if order.filled == 0:
                self._finish(order, "ioc", now_ns, ev)
            else:
                self._close(order, _FILLED, now_ns)
        return ev

    def cancel(self, account: str, ref: int | str, now_ns: int,
               cause: CancelCause = "user") -> list[Event]:
        """Cancel one open order by order id (int) or client id (str)."""
        o = self._find_open(account, ref)
        if o is None:
            cid = ref if isinstance(ref, str) else ""
            oid = ref if isinstance(ref, int) else None
            return [self._reject(account, cid, self.rules.unknown_order, now_ns, oid)]
        ev: list[Event] = []
        self._unrest(o)
        self._finish(o, cause, now_ns, ev)
        return ev

    def cancel_all(self, account: str, now_ns: int,
                   cause: CancelCause = "cancel_all") -> list[Event]:
        ev: list[Event] = []
        for o in list(self._by_account.get(account, {}).values()):
            self._unrest(o)
            self._finish(o, cause, now_ns, ev)
        return ev

    # -- internals ------------------------------------------------------------------------------
    def _reject(self, account: str, client_id: str, r: VenueReply, now_ns: int,
                order_id: int | None = None) -> Rejected:
        return Rejected(self.symbol, account, client_id, r.reason, r.code, r.message, now_ns,
                        order_id)

    def _find_open(self, account: str, ref: int | str) -> _Order | None:
        if isinstance(ref, int):
            o = self._open.get(ref)
            return o if o is not None and o.account == account else None
        return self._by_client.get((account, ref)) if ref else None

    def _check_filters(self, price_ticks: int | None, lots: int) -> Filter | None:
        """`check_filters(self.instrument, price_ticks, lots)`, in integers where its Decimal
        arithmetic is exact (every order of the background crowd); otherwise it itself."""
        if self._bounds_of is not self.instrument:
            self._bounds = _filter_bounds(self.instrument)
            self._bounds_of = self.instrument
        b = self._bounds
        if b is None or type(lots) is not int or (price_ticks is not None
                                                  and type(price_ticks) is not int):
            return check_filters(self.instrument, price_ticks, lots)
        min_lots, max_lots, min_units, max_units, lc, ltc = b
        if lots <= 0:
            return _QTY_MIN
        if lots * lc >= _EXACT:
            return check_filters(self.instrument, price_ticks, lots)
        if lots < min_lots:
            return _QTY_MIN
        if max_lots is not None and lots > max_lots:
            return _QTY_MAX
        if price_ticks is None:
            return None
        if price_ticks <= 0:
            return _PRICE_BOUNDS
        units = lots * price_ticks
        if units * ltc >= _EXACT:
            return check_filters(self.instrument, price_ticks, lots)
        if units < min_units:
            return _NOTIONAL_MIN
        if max_units is not None and units > max_units:
            return _NOTIONAL_MAX
        return None

    def _crosses(self, side: Side, price: int) -> bool:
        best = (self._ask if side is _BUY else self._bid).best()
        return best is not None and (price - best) * int(side) >= 0

    def _stp_for(self, acct: Account) -> StpMode:
        return _STP_NONE if acct.unlimited else self._stp

    def _plan(self, side: Side, account: str, limit: int | None, lots: int | None,
              budget: int | None) -> tuple[int, int]:
        """Dry run of a taker walk: (lots it would fill, cost in notional units), with the
        same self-trade treatment as `_match`. `lots` None = no size cap (a quote budget)."""
        opp = self._ask if side is _BUY else self._bid
        acct = self.accounts[account]
        stp = self._stp_for(acct)
        mine = stp is not _STP_NONE and bool(self._by_account.get(account))
        sign = int(side)
        got = cost = 0
        for key in reversed(opp.keys):
            price = key * opp.sign
            if limit is not None and (limit - price) * sign < 0:
                break
            lvl: _Level = opp.levels[price]
            chunks = ([o.leaves for o in lvl.orders if o.live and o.account != account]
                      if mine else [lvl.total])
            blocked = mine and stp is not _STP_MAKER and any(
                o.live and o.account == account for o in lvl.orders)
            if blocked:
                # the walk stops at this account's first own order in time priority
                chunks = []
                for o in lvl.orders:
                    if not o.live:
                        continue
                    if o.account == account:
                        break
                    chunks.append(o.leaves)
            for avail in chunks:
                take = avail if lots is None else min(avail, lots - got)
                if budget is not None:
                    take = min(take, (budget - cost) // price)
                got += take
                cost += take * price
                if (lots is not None and got >= lots) or take < avail:
                    return got, cost
            if blocked:
                return got, cost
        return got, cost

    def _match(self, t: _Order, now_ns: int, ev: list[Event]) -> bool:
        """Take liquidity for taker `t`; True when self-trade prevention stopped it."""
        opp = self._ask if t.side is _BUY else self._bid
        keys = opp.keys
        levels = opp.levels
        osign = opp.sign
        changed = opp.changed
        limit = t.price
        sign = t.sign
        stp = _STP_NONE if t.unlimited else self._stp
        account = t.account
        stopped = False
        while t.leaves > 0 and keys:
            price = keys[-1] * osign
            if limit is not None and (limit - price) * sign < 0:
                break
            lvl: _Level = levels[price]
            q = lvl.orders
            while q and t.leaves > 0:
                m: _Order = q[0]
                if not m.live:
                    q.popleft()
                    lvl.dead -= 1
                    continue
                if stp is not _STP_NONE and m.account == account:
                    if stp is not _STP_TAKER:
                        q.popleft()
                        lvl.total -= m.leaves
                        self._finish(m, "stp", now_ns, ev)
                    if stp is not _STP_MAKER:
                        stopped = True
                        break
                    continue
                qty = min(t.leaves, m.leaves)
                self._trade(t, m, price, qty, now_ns, ev)
                lvl.total -= qty
                if m.leaves == 0:
                    q.popleft()
                    self._close(m, _FILLED, now_ns)
            self.sequence += 1
            changed[price] = None
            if lvl.total == 0:
                opp.drop(price)
            if stopped:
                break
        return stopped

    def _trade(self, t: _Order, m: _Order, price: int, qty: int, now_ns: int,
               ev: list[Event]) -> None:
        self._trade_id += 1
        tid = self._trade_id
        units = price * qty
        self._fill(t, qty, units, now_ns)
        self._fill(m, qty, units, now_ns)
        ev.append(_filled(Trade, _F_TRADE, (self.symbol, tid, price, qty, t.side, m.order_id,
                                            t.order_id, now_ns)))
        self._settle(t, False, tid, price, qty, units, now_ns, ev)
        self._settle(m, True, tid, price, qty, units, now_ns, ev)

    def _fill(self, o: _Order, qty: int, units: int, now_ns: int) -> None:
        o.leaves -= qty
        o.filled += qty
        o.cum_units += units
        o.updated_ns = now_ns
        o.status = _FILLED if o.leaves == 0 else _PARTIAL

    def _settle(self, o: _Order, maker: bool, tid: int, price: int, qty: int, units: int,
                now_ns: int, ev: list[Event]) -> None:
        """One side's ledger and its `Fill` (nothing for the quiet unlimited crowd)."""
        if o.unlimited and o.quiet:
            return
        acct: Account = o.acct
        rate = self._maker_fee if maker else self._taker_fee
        if o.side is _BUY:
            spent = self._unit * units
            consume = self._unit * (o.price * qty) if o.price is not None else spent
            base_qty = self._lot * qty
            fee = base_qty * rate
            fee_asset = self._base
            o.locked -= consume
            acct.settle(self._quote, consume, spent, self._base, base_qty, fee)
        else:
            base_qty = self._lot * qty
            quote_amt = self._unit * units
            fee = quote_amt * rate
            fee_asset = self._quote
            o.locked -= base_qty
            acct.settle(self._base, base_qty, base_qty, self._quote, quote_amt, fee)
        o.cum_fee += fee
        if not o.quiet:
            ev.append(Fill(self.symbol, o.account, o.order_id, o.client_id, o.side, tid,
                           price, qty, fee, fee_asset, maker, o.leaves, o.filled, now_ns))

    def _rest(self, o: _Order) -> None:
        bs = self._bid if o.side is _BUY else self._ask
        price: int = o.price  # type: ignore[assignment]
        lvl = bs.level_for_add(price)
        lvl.orders.append(o)
        lvl.total += o.leaves
        self.sequence += 1
        bs.changed[price] = None
        self._open[o.order_id] = o
        if o.client_id:
            self._by_client[(o.account, o.client_id)] = o
        d = self._by_account.get(o.account)
        if d is None:
            d = self._by_account[o.account] = {}
        d[o.order_id] = o

    def _unrest(self, o: _Order) -> None:
        """Take a resting order off its level (lazily: it stays queued, marked dead)."""
        bs = self._bid if o.side is _BUY else self._ask
        price: int = o.price  # type: ignore[assignment]
        lvl: _Level = bs.levels[price]
        lvl.total -= o.leaves
        lvl.dead += 1
        o.live = False
        self.sequence += 1
        bs.changed[price] = None
        if lvl.total == 0:
            bs.drop(price)
        elif lvl.dead > 16 and lvl.dead * 2 > len(lvl.orders):
            lvl.orders = deque(x for x in lvl.orders if x.live)
            lvl.dead = 0

    def _finish(self, o: _Order, cause: CancelCause, now_ns: int, ev: list[Event]) -> None:
        """End an order that is no longer (or never was) in the book without filling fully."""
        expired = cause in self._expire_causes
        self._close(o, _EXPIRED if expired else _CANCELED, now_ns)
        if not o.quiet:
            ev.append(_filled(Expired if expired else Canceled, _F_DONE, (
                self.symbol, o.account, o.order_id, o.client_id, o.side, cause,
                self.rules.cancel_code(cause), o.leaves, o.filled, now_ns)))

    def _close(self, o: _Order, status: OrderStatus, now_ns: int) -> None:
        o.live = False
        o.status = status
        o.updated_ns = now_ns
        if o.locked:
            o.acct.unlock(self._quote if o.side is _BUY else self._base, o.locked)
            o.locked = ZERO
        if self._open.pop(o.order_id, None) is not None:
            if o.client_id:
                self._by_client.pop((o.account, o.client_id), None)
            self._by_account[o.account].pop(o.order_id, None)
        if o.quiet:
            return
        self._done[o.order_id] = o
        if o.client_id:
            self._done_client[(o.account, o.client_id)] = o.order_id
        if len(self._done) > self._history:
            _, old = self._done.popitem(last=False)
            key = (old.account, old.client_id)
            if self._done_client.get(key) == old.order_id:
                del self._done_client[key]

    def _view(self, o: _Order) -> OrderView:
        return _filled(OrderView, _F_VIEW, (  # type: ignore[no-any-return]
            self.symbol, o.account, o.order_id, o.client_id, o.side, o.type, o.tif, o.price,
            o.lots, o.filled, o.leaves, o.status, self._unit * o.cum_units, o.cum_fee,
            o.quote_qty, o.created_ns, o.updated_ns))




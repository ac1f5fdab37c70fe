"""The simulated Gate venue's order desk: Gate order semantics over the shared `SimVenue`.

`feeds/sim/gate_front.py` (the aiohttp transport) calls this for every trading request,
whether it came over the WS trading API or REST, and for every private engine event the hub
dispatches. It keeps Gate's view of each tracked account's orders (`VenueOrder`: amounts in
Gate's units, cumulative fill, fee, `finish_as`) and fills (`VenueFill`), built from the
engine's events in the order they happened, so a `put` push shows the order as it was when
accepted and not its final state. Rendering to JSON is the codec's job
(`feeds/gate/protocol/order_server.py`).

Ids: Gate order ids are global while each `MatchingEngine` counts its own, so the wire id is
`engine_id * ID_STRIDE + instrument index` (and likewise for trade ids); decoding it gives the
symbol back, so an id sent with the wrong `currency_pair` is simply not found.

Every operation returns either its result or a `DeskError(label, message)` with Gate's own
label; nothing here raises on client input.
"""
from __future__ import annotations

import dataclasses
import operator
from collections import OrderedDict, deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from feeds.gate.protocol.constants import TEXT_DEFAULT_REST, TEXT_PREFIX
from feeds.gate.protocol.order_server import (
    PlaceParams,
    VenueFill,
    VenueOrder,
    encode_order_push_item,
    encode_order_push_item_from,
    encode_order_ws,
    encode_order_ws_from,
)
from feeds.gate.protocol.orders import is_valid_client_id
from feeds.sim.matching import Accepted, Canceled, Expired, Fill, Rejected
from feeds.sim.venue import SimVenue
from pipeline.model import Instrument, OrderStatus, OrderType, Side, TimeInForce

ID_STRIDE = 1000
HISTORY = 10_000          # finished orders kept for status queries
FILL_HISTORY = 10_000     # fills kept per account for my_trades
TEMPLATES_MAX = 1024      # orders whose wire-object templates are kept (per kind): enough
#                           for the orders in flight; more would only add to what the GC scans
_TIF = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK,
        "poc": TimeInForce.POST_ONLY}
_TIF_OUT = {v: k for k, v in _TIF.items()}


@dataclass(frozen=True, slots=True)
class DeskError:
    label: str
    message: str


@dataclass(frozen=True, slots=True)
class PrivatePush:
    """What the transport must push to `account`'s subscribed sessions."""

    account: str
    channel: str            # spot.orders | spot.usertrades
    currency_pair: str
    order: VenueOrder | None = None
    event: str = ""         # put | update | finish (orders)
    fill: VenueFill | None = None


class GateOrderDesk:
    def __init__(self, venue: SimVenue) -> None:
        if len(venue.instruments) >= ID_STRIDE:
            raise ValueError(f"gate sim lists at most {ID_STRIDE - 1} pairs")
        self.venue = venue
        self.index = {i.symbol: n for n, i in enumerate(venue.instruments)}
        self.uids = {key: 100_000 + n for n, key in enumerate(venue.api_keys)}
        self.open: dict[tuple[str, int], VenueOrder] = {}
        self.done: OrderedDict[tuple[str, int], VenueOrder] = OrderedDict()
        self.fills: dict[str, deque[VenueFill]] = {}
        self.default_text = TEXT_DEFAULT_REST  # set by the transport before each request
        self._ws_templates: dict[str, dict[str, Any]] = {}     # order id -> see `order_ws`
        self._push_templates: dict[str, dict[str, Any]] = {}   # order id -> see `push_item`

    # -- ids -----------------------------------------------------------------------------------
    def wire_id(self, symbol: str, engine_id: int) -> str:
        return str(engine_id * ID_STRIDE + self.index[symbol])

    def decode_id(self, inst: Instrument, wire: str) -> int | None:
        if not wire.isdigit() or len(wire) > 30:
            return None
        n = int(wire)
        if n % ID_STRIDE != self.index[inst.symbol]:
            return None
        return n // ID_STRIDE

    def instrument(self, pair: Any) -> Instrument | DeskError:
        inst = self.venue.by_venue_symbol.get(pair) if isinstance(pair, str) else None
        if inst is None:
            return DeskError("INVALID_CURRENCY_PAIR", f"Invalid currency pair {pair!r:.40}")
        return inst

    def _state(self, symbol: str, engine_id: int) -> VenueOrder | None:
        key = (symbol, engine_id)
        return self.open.get(key) or self.done.get(key)

    # -- engine events -> Gate state -----------------------------------------------------------
    def on_event(self, account: str, inst: Instrument, ev: Any, snapshot: bool = True
                 ) -> list[PrivatePush]:
        """Apply `ev` to Gate's view of the order; the pushes it causes. Each push carries a
        copy of the order as it is now (`snapshot`), so later events do not change what it
        says; a caller that encodes the pushes at once, before anything else happens, passes
        `snapshot=False` and gets the live order (the copy was a tenth of the cost)."""
        pair = inst.venue_symbol
        copy = _copy if snapshot else _same
        key = (inst.symbol, getattr(ev, "order_id", None) or 0)
        if isinstance(ev, Accepted):
            new = self._new_order(account, inst, ev)
            self.open[key] = new
            return [PrivatePush(account, "spot.orders", pair, copy(new), "put")]
        if isinstance(ev, Fill):
            o = self.open.get(key)
            if o is None:
                return []
            qty = inst.lots_to_qty(ev.lots)
            price = inst.ticks_to_price(ev.price_ticks)
            o.filled_amount += qty
            o.filled_total += qty * price
            o.fee += ev.fee
            o.fee_currency = ev.fee_asset
            o.update_ns = ev.ts_ns
            buy_in_quote = o.type == "market" and o.side is Side.BUY
            o.left = o.amount - (o.filled_total if buy_in_quote else o.filled_amount)
            fill = VenueFill(id=self._trade_wire(inst, ev.trade_id), order_id=o.id,
                             currency_pair=pair, side=ev.side, amount=qty, price=price,
                             role="maker" if ev.is_maker else "taker", fee=ev.fee,
                             fee_currency=ev.fee_asset, ts_ns=ev.ts_ns, text=o.text,
                             user_id=o.user, id_market=ev.trade_id)
            hist = self.fills.setdefault(account, deque(maxlen=FILL_HISTORY))
            hist.append(fill)
            event = "update"
            if ev.leaves_lots == 0:
                o.status, o.finish_as, event = "closed", "filled", "finish"
                if buy_in_quote:
                    o.left = Decimal(0)
                self._retire(key)
            return [PrivatePush(account, "spot.orders", pair, copy(o), event),
                    PrivatePush(account, "spot.usertrades", pair, fill=fill)]
        if isinstance(ev, (Canceled, Expired)):
            ended = self.open.get(key)
            if ended is None:
                return []
            ended.status, ended.finish_as, ended.update_ns = "cancelled", ev.venue_code, ev.ts_ns
            self._retire(key)
            return [PrivatePush(account, "spot.orders", pair, copy(ended), "finish")]
        return []  # Rejected: the order never existed

    def _new_order(self, account: str, inst: Instrument, ev: Accepted) -> VenueOrder:
        is_market = ev.type is OrderType.MARKET
        if is_market and ev.quote_qty is not None:
            amount = ev.quote_qty
        else:
            amount = inst.lots_to_qty(ev.lots)
        price = Decimal(0) if ev.price_ticks is None else inst.ticks_to_price(ev.price_ticks)
        return VenueOrder(
            id=self.wire_id(inst.symbol, ev.order_id), text=ev.client_id or self.default_text,
            currency_pair=inst.venue_symbol, side=ev.side, amount=amount, price=price,
            create_ns=ev.ts_ns, update_ns=ev.ts_ns, type="market" if is_market else "limit",
            time_in_force=_TIF_OUT[ev.tif], account="spot",
            fee_currency=inst.base if ev.side is Side.BUY else inst.quote,
            rebated_fee_currency=inst.quote, user=self.uids.get(account, 0))

    # -- wire objects from per-order templates --------------------------------------------------
    def order_ws(self, o: VenueOrder) -> dict[str, Any]:
        """`encode_order_ws(o)`, from the order's template (see `encode_order_ws_from`)."""
        t = self._ws_templates.get(o.id)
        if t is None:
            t = self._template(self._ws_templates, o.id, encode_order_ws(o))
            return t.copy()
        return encode_order_ws_from(t, o)

    def push_item(self, o: VenueOrder, event: str) -> dict[str, Any]:
        """`encode_order_push_item(o, event)`, from the order's template."""
        t = self._push_templates.get(o.id)
        if t is None:
            t = self._template(self._push_templates, o.id, encode_order_push_item(o, event))
            return t.copy()
        return encode_order_push_item_from(t, o, event)

    @staticmethod
    def _template(store: dict[str, dict[str, Any]], order_id: str, obj: dict[str, Any]
                  ) -> dict[str, Any]:
        """Keep `obj` as `order_id`'s template. The desk never changes an order's fixed
        fields, and wire ids are never reused, so a template stays right for as long as it is
        kept; the store is bounded (cleared when full: a miss only rebuilds one)."""
        if len(store) >= TEMPLATES_MAX:
            store.clear()
        store[order_id] = obj
        return obj

    def _retire(self, key: tuple[str, int]) -> None:
        o = self.open.pop(key, None)
        if o is not None:
            self.done[key] = o
            while len(self.done) > HISTORY:
                self.done.popitem(last=False)

    def _trade_wire(self, inst: Instrument, trade_id: int) -> int:
        return trade_id * ID_STRIDE + self.index[inst.symbol]

    def trade_wire_id(self, inst: Instrument, trade_id: int) -> int:
        return self._trade_wire(inst, trade_id)

    # -- operations ----------------------------------------------------------------------------
    def place(self, account: str, p: PlaceParams) -> VenueOrder | DeskError:
        inst = self.instrument(p.currency_pair)
        if isinstance(inst, DeskError):
            return inst
        if p.account != "spot":
            return DeskError("INVALID_PARAM_VALUE", f"Invalid account {p.account!r:.20}")
        if p.text and not (p.text.startswith(TEXT_PREFIX)
                           and is_valid_client_id(p.text[len(TEXT_PREFIX):])):
            return DeskError("INVALID_PARAM_VALUE",
                             f"Invalid parameter `text` with value: {p.text:.40}")
        is_market = p.type == "market"
        quote_qty = p.amount if is_market and p.side is Side.BUY else None
        try:
            events = self.venue.place_wire(   # `submit_wire`, by position
                account, inst.symbol, p.text, p.side,
                OrderType.MARKET if is_market else OrderType.LIMIT, _TIF[p.time_in_force],
                None if is_market else p.price, None if quote_qty is not None else p.amount,
                quote_qty)
        except (ValueError, KeyError) as exc:
            return DeskError("INVALID_PARAM_VALUE", str(exc)[:100])
        for ev in events:
            if isinstance(ev, Rejected):
                return DeskError(ev.venue_code, ev.message)
            if isinstance(ev, Accepted):
                o = self._state(inst.symbol, ev.order_id)
                if o is not None:
                    return o
        return DeskError("SERVER_ERROR", "order not recorded")

    def _ref(self, inst: Instrument, order_id: str) -> int | str | None:
        if order_id.startswith(TEXT_PREFIX):
            return order_id
        return self.decode_id(inst, order_id)

    def cancel(self, account: str, pair: str, order_id: str) -> VenueOrder | DeskError:
        inst = self.instrument(pair)
        if isinstance(inst, DeskError):
            return inst
        ref = self._ref(inst, order_id)
        view = None if ref is None else self.venue.engines[inst.symbol].get(account, ref)
        if view is None or ref is None:
            return DeskError("ORDER_NOT_FOUND", "Order not found")
        if view.status is OrderStatus.FILLED:
            return DeskError("ORDER_CLOSED", "Order finished")
        if view.status.is_terminal:
            return DeskError("ORDER_CANCELLED", "Order cancelled")
        events = self.venue.cancel(account, inst.symbol, view.order_id)
        for ev in events:
            if isinstance(ev, Rejected):
                return DeskError(ev.venue_code, ev.message)
        o = self._state(inst.symbol, view.order_id)
        return o if o is not None else DeskError("ORDER_NOT_FOUND", "Order not found")

    def status(self, account: str, pair: str, order_id: str) -> VenueOrder | DeskError:
        inst = self.instrument(pair)
        if isinstance(inst, DeskError):
            return inst
        ref = self._ref(inst, order_id)
        view = None if ref is None else self.venue.engines[inst.symbol].get(account, ref)
        o = None if view is None else self._state(inst.symbol, view.order_id)
        if o is None and isinstance(ref, int):  # the engine's history may be shorter
            o = self._state(inst.symbol, ref)
            if o is not None and self.uids.get(account) != o.user:
                o = None
        return o if o is not None else DeskError("ORDER_NOT_FOUND", "Order not found")

    def cancel_all(self, account: str, pair: str | None, side: Side | None = None
                   ) -> list[VenueOrder] | DeskError:
        """Cancel every open order of `account` (in one pair, optionally one side)."""
        symbols: list[str]
        if pair is None:
            symbols = list(self.venue.engines)
        else:
            inst = self.instrument(pair)
            if isinstance(inst, DeskError):
                return inst
            symbols = [inst.symbol]
        out: list[VenueOrder] = []
        for sym in symbols:
            if side is None:
                events = self.venue.cancel_all(account, sym)
            else:
                events = []
                for v in self.venue.open_orders(account, sym):
                    if v.side is side:
                        events.extend(self.venue.cancel(account, sym, v.order_id))
            for ev in events:
                if isinstance(ev, (Canceled, Expired)):
                    o = self._state(sym, ev.order_id)
                    if o is not None:
                        out.append(o)
        return out

    def open_orders(self, account: str, pair: str | None = None) -> list[VenueOrder] | DeskError:
        if pair is not None:
            inst = self.instrument(pair)
            if isinstance(inst, DeskError):
                return inst
            sym: str | None = inst.symbol
        else:
            sym = None
        uid = self.uids.get(account)
        return [o for (s, _), o in self.open.items()
                if o.user == uid and (sym is None or s == sym)]

    def finished_orders(self, account: str, pair: str) -> list[VenueOrder] | DeskError:
        inst = self.instrument(pair)
        if isinstance(inst, DeskError):
            return inst
        uid = self.uids.get(account)
        return [o for (s, _), o in reversed(self.done.items())
                if o.user == uid and s == inst.symbol]

    def my_trades(self, account: str, pair: str | None) -> list[VenueFill]:
        return [f for f in reversed(self.fills.get(account, ()))
                if pair is None or f.currency_pair == pair]


_ALL_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(VenueOrder)))


def _same(o: VenueOrder) -> VenueOrder:
    return o


def _copy(o: VenueOrder) -> VenueOrder:
    """A push carries the order as it is now; later events must not change what was sent.
    Every field read in one C call and passed positionally: `dataclasses.replace` (the same
    copy) walked the fields in Python and was a tenth of the simulator's cost per order."""
    return VenueOrder(*_ALL_FIELDS(o))

"""The Gate server codec's template encoders give the same bytes as the general ones: the WS
order object and the `spot.orders` push item of an order that changed (fills, fees, status,
update time) since its template was made; and the desk's live pushes carry the live order."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.gate.protocol import order_server as S
from pipeline.model import Side

_TS = st.integers(min_value=0, max_value=2**62)
_AMT = st.integers(0, 10**9).map(lambda n: Decimal(n) * Decimal("0.000001"))


@st.composite
def _orders(draw: st.DrawFn) -> tuple[S.VenueOrder, S.VenueOrder]:
    """An order as accepted, and the same order later."""
    created = draw(_TS)
    o = S.VenueOrder(
        id=str(draw(st.integers(0, 10**12))), text=draw(st.sampled_from(["t-a1", "apiv4-ws"])),
        currency_pair=draw(st.sampled_from(["BTC_USDT", "ETH_USDT"])),
        side=draw(st.sampled_from([Side.BUY, Side.SELL])), amount=draw(_AMT),
        price=draw(_AMT), create_ns=created, update_ns=created,
        type=draw(st.sampled_from(["limit", "market"])),
        time_in_force=draw(st.sampled_from(["gtc", "ioc", "poc", "fok"])),
        fee_currency=draw(st.sampled_from(["BTC", "USDT"])), rebated_fee_currency="USDT",
        user=draw(st.integers(0, 10**6)))
    later = dataclasses.replace(
        o, left=draw(st.one_of(st.none(), _AMT)), filled_amount=draw(_AMT),
        filled_total=draw(_AMT), fee=draw(_AMT), fee_currency=draw(st.sampled_from(["BTC",
                                                                                    "USDT"])),
        update_ns=draw(_TS), status=draw(st.sampled_from(["open", "closed", "cancelled"])),
        finish_as=draw(st.sampled_from(["open", "filled", "cancelled", "ioc", "poc"])))
    return o, later


@settings(max_examples=400, deadline=None)
@given(_orders(), st.sampled_from(["put", "update", "finish"]),
       st.sampled_from(["put", "update", "finish"]))
def test_gate_template_objects_are_the_general_ones(
        orders: tuple[S.VenueOrder, S.VenueOrder], first_event: str, event: str) -> None:
    first, now = orders
    ws_tmpl = S.encode_order_ws(first)
    push_tmpl = S.encode_order_push_item(first, first_event)
    for _ in range(2):   # the template is never written
        assert orjson.dumps(S.encode_order_ws_from(ws_tmpl, now)) == \
            orjson.dumps(S.encode_order_ws(now))
        assert orjson.dumps(S.encode_order_push_item_from(push_tmpl, now, event)) == \
            orjson.dumps(S.encode_order_push_item(now, event))
    assert S.encode_orders_push_items([S.encode_order_push_item(now, event)], 5 * 10**18) == \
        S.encode_orders_push([(now, event)], 5 * 10**18)


def test_gate_template_push_refuses_an_unknown_event() -> None:
    import pytest

    from pipeline.errors import ProtocolError

    o = S.VenueOrder(id="1", text="t-a", currency_pair="BTC_USDT", side=Side.BUY,
                     amount=Decimal(1), price=Decimal(2), create_ns=1, update_ns=1)
    with pytest.raises(ProtocolError):
        S.encode_order_push_item_from(S.encode_order_push_item(o, "put"), o, "amend")


def test_gate_desk_live_pushes_carry_the_live_order() -> None:
    import time

    from feeds.sim.gate_orders import GateOrderDesk
    from feeds.sim.matching import Accepted
    from feeds.sim.venue import SimVenue
    from pipeline.model import OrderType, TimeInForce

    venue = SimVenue("gate", ["BTC/USDT"], {"k": "s"}, time.time_ns)
    desk = GateOrderDesk(venue)
    inst = venue.instruments[0]
    ev = Accepted("BTC/USDT", "k", 7, "t-x", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, 10,
                  5, None, 1)
    [live] = desk.on_event("k", inst, ev, snapshot=False)
    assert live.order is desk.open[("BTC/USDT", 7)]
    [snap] = GateOrderDesk(venue).on_event("k", inst, ev)
    assert snap.order == live.order and snap.order is not live.order
    assert desk.order_ws(live.order) == S.encode_order_ws(live.order)
    assert desk.push_item(live.order, "put") == S.encode_order_push_item(live.order, "put")


# -- decoding: the plain-frame reads agree with the checked ones ------------------------------
_VAL = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=6),
                 st.sampled_from(["limit", "market", "gtc", "ioc", "poc", "fok", "buy", "sell",
                                  "spot", "BTC_USDT", "1", "0.5", "", "t-a"]),
                 st.lists(st.integers(), max_size=1), st.dictionaries(st.text(max_size=2),
                                                                      st.integers(),
                                                                      max_size=1))


def _outcome(f: object, arg: object) -> object:
    from pipeline.errors import ProtocolError

    try:
        return ("ok", f(arg))  # type: ignore[operator]
    except ProtocolError as exc:
        return ("error", str(exc))


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(st.sampled_from(["type", "time_in_force", "text", "currency_pair",
                                        "account", "side", "amount", "price", "iceberg",
                                        "stp_act", "action_mode"]), _VAL))
def test_gate_plain_place_params_agree_with_the_checked_reads(d: dict[str, object]) -> None:
    plain = _outcome(S._plain_place_params, d)
    checked = _outcome(S._checked_place_params, d)
    if plain != ("ok", None):   # None: the checked path decides
        assert plain == checked
    assert _outcome(S._place_params, d) == checked


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(st.sampled_from(["channel", "payload", "time", "event"]), _VAL),
       st.dictionaries(st.sampled_from(["req_id", "api_key", "timestamp", "signature",
                                        "req_header", "req_param"]), _VAL))
def test_gate_plain_api_base_agrees_with_the_checked_reads(
        d: dict[str, object], payload: dict[str, object]) -> None:
    for frame in (d, dict(d, payload=payload)):
        plain = _outcome(S._plain_api_base, frame)
        if plain != ("ok", None):
            assert plain == _outcome(S._checked_api_base, frame)

"""The simulator's order codecs memoize number spellings and parsed decimals, and spell the
common cases in one literal. These tests pin that the short cuts answer exactly what the
general code answers: equal values with other exponents, zeros of every sign and exponent,
strings the checks refuse (never stored, still refused after a good one), the memos' bound,
and an order pushed before it changed still showing what it was."""
from __future__ import annotations

from decimal import Decimal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.binance.protocol import order_server as bsrv
from feeds.gate.protocol import _wire as gw
from feeds.gate.protocol import order_server as gsrv
from feeds.okx.protocol import _wire as ow
from feeds.okx.protocol import constants as oc
from feeds.okx.protocol import order_server as osrv
from feeds.okx.protocol.errors import RequestError
from pipeline.errors import ProtocolError
from pipeline.model import Side, decimal_str

DECIMALS = st.decimals(allow_nan=False, allow_infinity=False, places=None,
                       min_value=Decimal("-1e12"), max_value=Decimal("1e12"))
SPELLINGS = ["0", "-0", "0E-8", "0.000", "1", "1.0", "1.00000", "1E+2", "100", "0.00010",
             "32500.1", "32500.10", "-0.5", "123456789.123456789"]


# -- number spellings -------------------------------------------------------------------------
@pytest.mark.parametrize("text", SPELLINGS)
def test_memoized_spellings_equal_the_plain_formatters(text: str) -> None:
    for _ in range(2):  # the second call is a memo hit
        assert osrv._num(Decimal(text)) == ow.num_str(Decimal(text))
        assert gsrv._d(Decimal(text)) == decimal_str(Decimal(text))


@settings(max_examples=300, deadline=None)
@given(DECIMALS, st.integers(min_value=0, max_value=6))
def test_equal_values_of_any_exponent_share_one_spelling(v: Decimal, extra: int) -> None:
    plain = format(v, "f")
    padded = Decimal((plain if "." in plain else plain + ".") + "0" * extra)  # 1.5 -> 1.500
    assert padded == v
    assert osrv._num(v) == osrv._num(padded) == ow.num_str(v)
    assert gsrv._d(v) == gsrv._d(padded) == decimal_str(v)


def test_non_finite_numbers_take_the_plain_path() -> None:
    with pytest.raises(ProtocolError):
        osrv._num(Decimal("NaN"))
    assert gsrv._d(Decimal("Infinity")) == decimal_str(Decimal("Infinity"))
    assert Decimal("NaN") not in osrv._NUM_MEMO


def test_number_memos_stay_bounded() -> None:
    for i in range(osrv.NUM_MEMO_MAX + 10):
        osrv._num(Decimal(i) + Decimal("0.5"))
        gsrv._d(Decimal(i) + Decimal("0.25"))
    assert 0 < len(osrv._NUM_MEMO) <= osrv.NUM_MEMO_MAX
    assert 0 < len(gsrv._D_MEMO) <= gsrv.MEMO_MAX
    assert osrv._num(Decimal("7.5")) == "7.5" and gsrv._d(Decimal("7.25")) == "7.25"


# -- OKX request decoding ---------------------------------------------------------------------
def _okx_place(px: object, cl: object = "c1", rid: object = "r1") -> str:
    return orjson.dumps({"id": rid, "op": "order", "args": [{
        "instIdCode": 7, "tdMode": "cash", "clOrdId": cl, "side": "buy",
        "ordType": "limit", "px": px, "sz": "1"}]}).decode()


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.sampled_from(SPELLINGS + ["", "-1", "1e3", "1 ", "+1", "1e999", "x"]),
                 st.text(alphabet="0123456789.-eE+ ", max_size=12)))
def test_okx_price_is_accepted_exactly_when_the_plain_check_accepts_it(px: str) -> None:
    try:
        want: Decimal | None = ow.to_dec(px, "px")
        if want <= 0:
            want = None
    except ProtocolError:
        want = None
    for _ in range(2):  # a second decode may hit the memo: same answer
        if want is None:
            with pytest.raises(RequestError) as exc:
                osrv.decode_ws_request(_okx_place(px))
            assert exc.value.code == oc.CODE_INVALID_ARGS and exc.value.req_id == "r1"
        else:
            req = osrv.decode_ws_request(_okx_place(px))
            assert isinstance(req, osrv.PlaceRequest)
            assert req.args[0].px == want and str(req.args[0].px) == str(want)


@pytest.mark.parametrize("bad", ["a" * 33, "a-b", "", "é1", " a", "a\n", 5, None, True])
def test_okx_ids_follow_the_documented_rule(bad: object) -> None:
    assert not osrv._plain_id(bad) or bad == ""
    with pytest.raises(RequestError):
        osrv.decode_ws_request(_okx_place("1", rid=bad))
    if bad not in ("", None):   # an empty / absent clOrdId is allowed
        with pytest.raises(RequestError) as exc:
            osrv.decode_ws_request(_okx_place("1", cl=bad))
        assert exc.value.code == oc.CODE_INVALID_ARGS
    assert osrv._plain_id("A" * 32) and osrv._plain_id("z09")


# -- Gate request decoding and order objects --------------------------------------------------
def _gate_place(amount: object) -> str:
    return orjson.dumps({"time": 1, "channel": "spot.order_place", "event": "api", "payload": {
        "req_id": "1", "req_param": {"text": "t-a", "currency_pair": "BTC_USDT",
                                     "type": "limit", "side": "buy", "amount": amount,
                                     "price": "10", "time_in_force": "gtc"}}}).decode()


@pytest.mark.parametrize("amount", SPELLINGS + ["", "-1", "x", 5, None])
def test_gate_amount_is_accepted_exactly_when_the_plain_check_accepts_it(amount: object
                                                                          ) -> None:
    try:
        want: Decimal | None = gw.to_dec(amount, "amount")
    except ProtocolError:
        want = None
    for _ in range(2):
        if want is None:
            with pytest.raises(ProtocolError):
                gsrv.decode_ws_request(_gate_place(amount))
        else:
            req = gsrv.decode_ws_request(_gate_place(amount))
            assert isinstance(req, gsrv.PlaceRequest)
            assert str(req.orders[0].amount) == str(want)


def _gate_order(**kw: object) -> gsrv.VenueOrder:
    o = gsrv.VenueOrder(id="12001", text="t-a", currency_pair="BTC_USDT", side=Side.SELL,
                        amount=Decimal("0.50"), price=Decimal("30000.0"),
                        create_ns=1_700_000_000_123_456_789, update_ns=1_700_000_001_000_000_000)
    for k, v in kw.items():
        setattr(o, k, v)
    return o


def test_gate_order_objects_keep_the_documented_keys_in_order() -> None:
    o = _gate_order(filled_amount=Decimal("0.2"), filled_total=Decimal("6000"),
                    left=Decimal("0.3"), fee=Decimal("0.001"))
    push = gsrv.encode_order_push_item(o, "update")
    assert list(push) == [
        "id", "text", "create_time", "update_time", "currency_pair", "type", "account", "side",
        "amount", "price", "time_in_force", "left", "filled_total", "avg_deal_price", "fee",
        "fee_currency", "point_fee", "gt_fee", "rebated_fee", "rebated_fee_currency",
        "create_time_ms", "update_time_ms", "user", "event", "stp_id", "stp_act", "finish_as",
        "biz_info", "amend_text"]
    assert (push["amount"], push["price"], push["left"], push["avg_deal_price"]) == \
        ("0.5", "30000", "0.3", "30000")
    assert (push["create_time"], push["create_time_ms"]) == ("1700000000", "1700000000123")
    ws = gsrv.encode_order_ws(o)
    assert list(ws)[:8] == ["id", "text", "amend_text", "create_time", "update_time",
                            "create_time_ms", "update_time_ms", "status"]
    assert ws["create_time_ms"] == 1700000000123 and ws["left"] == "0.3"
    assert gsrv.encode_order_push_item(_gate_order(), "put")["avg_deal_price"] == "0"
    with pytest.raises(ProtocolError):
        gsrv.encode_order_push_item(o, "amend")


# -- Binance execution reports ----------------------------------------------------------------
@pytest.mark.parametrize("status", ["NEW", "CANCELED", "EXPIRED"])
def test_binance_report_without_a_fill_is_the_general_report(status: str) -> None:
    o = bsrv.VenueOrder(symbol="BTCUSDT", order_id=9, client_id="c9", side=Side.BUY,
                        order_type="LIMIT_MAKER", time_in_force="GTC",
                        price=Decimal("32500.10"), orig_qty=Decimal("0.00016"),
                        status=status, time_ns=5_000_000, working_ns=6_000_000)
    short = bsrv.encode_execution_report(o, status, 7_000_000, 8_000_000, execution_id=3)
    # Decimal zeros are not the int defaults, so this takes the general path
    general = bsrv.encode_execution_report(o, status, 7_000_000, 8_000_000, execution_id=3,
                                           last_qty=Decimal(0), last_price=Decimal(0))
    assert orjson.dumps(short) == orjson.dumps(general)
    assert (short["l"], short["L"], short["Y"], short["p"]) == \
        ("0.00000000", "0.00000000", "0.00000000", "32500.10000000")


# -- Gate order desk: a push keeps the order as it was ----------------------------------------
class _Recorder:
    """A front that keeps what the desk would push."""

    def __init__(self, desk: object) -> None:
        self.desk = desk
        self.pushes: list[object] = []

    def on_private(self, account: str, inst: object, ev: object) -> None:
        self.pushes.extend(self.desk.on_event(account, inst, ev))  # type: ignore[attr-defined]

    def on_depth(self, *_: object) -> None: ...
    def on_bbo(self, *_: object) -> None: ...
    def on_trade(self, *_: object) -> None: ...


def test_gate_push_snapshot_is_not_changed_by_later_events() -> None:
    import time

    from feeds.sim.gate_orders import GateOrderDesk
    from feeds.sim.venue import SimVenue

    venue = SimVenue("gate", ["BTC/USDT"], {"k": "s"}, time.time_ns)
    desk = GateOrderDesk(venue)
    rec = _Recorder(desk)
    venue.fronts.append(rec)  # type: ignore[arg-type]
    placed = desk.place("k", gsrv.PlaceParams(
        text="t-a1", currency_pair="BTC_USDT", type="limit", account="spot", side=Side.BUY,
        amount=Decimal("0.01"), price=Decimal("1000"), time_in_force="poc"))
    assert isinstance(placed, gsrv.VenueOrder)
    cancelled = desk.cancel("k", "BTC_USDT", placed.id)
    assert isinstance(cancelled, gsrv.VenueOrder) and cancelled.status == "cancelled"
    put, finish = rec.pushes
    assert (put.event, put.order.status, put.order.finish_as) == ("put", "open", "open")
    assert (finish.event, finish.order.status) == ("finish", "cancelled")
    assert put.order is not placed and finish.order is not placed
    assert put.order.id == finish.order.id == placed.id


# -- Binance WS API signatures: keyed once per secret -----------------------------------------
def _binance_ws_vectors() -> list[dict[str, object]]:
    import json
    from pathlib import Path

    path = Path("/work/shared/protocols/signing_vectors.json")
    if not path.exists():
        pytest.skip("published signing vectors not present")
    return [v for v in json.loads(path.read_text())
            if v["exchange"] == "binance" and str(v["kind"]).startswith("ws_api")]


def test_binance_keyed_verify_accepts_the_published_vectors() -> None:
    vectors = _binance_ws_vectors()
    assert vectors
    for v in vectors:
        params = dict(v["inputs"]["params"], signature=v["expected_signature"])  # type: ignore[index]
        for _ in range(2):  # second time through the keyed copy
            assert bsrv.WsRequest(1, "order.place", params).verify(str(v["secret"]))
        params["signature"] = str(v["expected_signature"]).upper()   # hex, any case
        assert bsrv.WsRequest(1, "order.place", params).verify(str(v["secret"]).encode())
        params["timestamp"] = 1   # any other payload
        assert not bsrv.WsRequest(1, "order.place", params).verify(str(v["secret"]))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["symbol", "side", "price", "timestamp", "apiKey", "x"]),
                       st.one_of(st.text(max_size=8), st.integers(), st.booleans(),
                                 st.floats(allow_nan=False), st.none())),
       st.one_of(st.none(), st.integers(), st.text(max_size=70), st.just("")),
       st.sampled_from(["s3cret", b"s3cret", "other", 5]))
def test_binance_keyed_verify_agrees_with_verify_ws(params: dict[str, object], sig: object,
                                                    secret: object) -> None:
    from feeds.binance.protocol import signing

    p = dict(params)
    if sig is not None:
        p["signature"] = sig
    if isinstance(secret, (str, bytes)) and isinstance(sig, str) and sig == "":
        try:   # sometimes the right signature, so both answers are not always False
            p["signature"] = signing.sign_ws(secret, p)
        except ProtocolError:
            pass
    try:
        want = signing.verify_ws(secret, p)  # type: ignore[arg-type]
    except ProtocolError:
        want = False   # a secret of the wrong type
    assert bsrv.WsRequest(1, "order.place", p).verify(secret) is want  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.one_of(
    st.text(max_size=8), st.integers(), st.booleans(), st.decimals(allow_nan=False,
                                                                   allow_infinity=False))))
def test_binance_signing_payload_is_the_documented_one(params: dict[str, object]) -> None:
    from feeds.binance.protocol import signing

    assert bsrv._payload(params) == signing.ws_payload(params)

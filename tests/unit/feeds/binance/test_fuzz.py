"""Hostile input: malformed, truncated, wrong-typed and mutated frames. Whatever arrives, the
market parser, the private-stream parser and the simulator's request decoder raise nothing
but ProtocolError."""
from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.binance.protocol import market as M
from feeds.binance.protocol import orders as O
from feeds.binance.protocol.symbols import parse_instruments
from pipeline.errors import ProtocolError

from .conftest import INSTRUMENTS, fixture_json, fixture_text

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

MARKET_DOCS = [fixture_json(n) for n in ("ws_book_ticker.json", "ws_depth_update.json",
                                         "ws_trade.json", "rest_depth.json",
                                         "ws_server_shutdown.json", "ws_subscribe_ack.json",
                                         "ws_control_error.json")]
PRIVATE_DOCS = [fixture_json(n) for n in ("ws_user_execution_report.json",
                                          "ws_api_order_place_response.json",
                                          "ws_api_order_place_error.json",
                                          "ws_user_stream_terminated.json",
                                          "ws_api_user_data_subscribe_response.json")]
REQUEST_DOCS = [fixture_json(n) for n in ("ws_api_order_place_request.json",
                                          "ws_api_order_cancel_request.json",
                                          "ws_api_cancel_all_request.json",
                                          "ws_api_session_logon_request.json")]

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.sampled_from(["NaN", "1e999", "-1", "", "0.1"]))
json_values = st.recursive(scalars, lambda c: st.one_of(
    st.lists(c, max_size=4), st.dictionaries(st.text(max_size=4), c, max_size=4)), max_leaves=12)


def _dumps(doc: Any) -> bytes:
    # the stdlib encoder: unlike orjson it writes integers beyond 64 bits, which a hostile
    # peer can send too
    return json.dumps(doc).encode()


def mutate(doc: Any, data: st.DataObject) -> Any:
    """Replace, drop or retype one value somewhere in the document."""
    if isinstance(doc, dict) and doc:
        key = data.draw(st.sampled_from(sorted(doc)))
        out = dict(doc)
        action = data.draw(st.sampled_from(["drop", "replace", "recurse"]))
        if action == "drop":
            del out[key]
        elif action == "replace":
            out[key] = data.draw(json_values)
        else:
            out[key] = mutate(doc[key], data)
        return out
    if isinstance(doc, list) and doc:
        i = data.draw(st.integers(0, len(doc) - 1))
        out_l = list(doc)
        out_l[i] = mutate(doc[i], data) if data.draw(st.booleans()) else data.draw(json_values)
        return out_l
    return data.draw(json_values)


def only_protocol_errors(fn: Any, frame: Any) -> None:
    try:
        fn(frame)
    except ProtocolError:
        pass


@SETTINGS
@given(st.binary(max_size=200))
def test_parse_market_random_bytes(frame: bytes) -> None:
    only_protocol_errors(lambda f: M.parse_market(f, 0), frame)


@SETTINGS
@given(st.data())
def test_parse_market_truncated_docs(data: st.DataObject) -> None:
    text = _dumps(data.draw(st.sampled_from(MARKET_DOCS))).decode()
    cut = data.draw(st.integers(0, len(text)))
    only_protocol_errors(lambda f: M.parse_market(f, 0), text[:cut])


@SETTINGS
@given(st.data())
def test_parse_market_mutated_docs(data: st.DataObject) -> None:
    doc = mutate(data.draw(st.sampled_from(MARKET_DOCS)), data)
    if data.draw(st.booleans()):
        doc = {"stream": data.draw(st.sampled_from(["bnbbtc@depth20", "x@trade", "!a"])),
               "data": doc}
    only_protocol_errors(lambda f: M.parse_market(f, 0), _dumps(doc))


@SETTINGS
@given(json_values)
def test_parse_market_any_json(doc: Any) -> None:
    only_protocol_errors(lambda f: M.parse_market(f, 0), _dumps(doc))


@SETTINGS
@given(st.data())
def test_parse_private_mutated_docs(data: st.DataObject) -> None:
    doc = mutate(data.draw(st.sampled_from(PRIVATE_DOCS)), data)

    def run(frame: bytes) -> None:
        for rec in O.parse_private(frame, 0, INSTRUMENTS):
            if isinstance(rec, O.WsApiResponse):
                for method in ("order.place", "order.cancel", "order.status",
                               "openOrders.status", "openOrders.cancelAll"):
                    O.response_reports(rec, method, INSTRUMENTS, 0)
    only_protocol_errors(run, _dumps(doc))


@SETTINGS
@given(st.data())
def test_response_reports_on_mutated_order_bodies(data: st.DataObject) -> None:
    body = mutate(data.draw(st.sampled_from([fixture_json("rest_order_full.json"),
                                             fixture_json("rest_cancel_response.json"),
                                             fixture_json("rest_open_orders.json")])), data)
    resp = O.WsApiResponse(1, 200, body)
    for method in ("order.place", "order.cancel", "openOrders.status", "openOrders.cancelAll"):
        only_protocol_errors(lambda r, m=method: O.response_reports(r, m, INSTRUMENTS, 0),
                             resp)
    only_protocol_errors(lambda b: O.parse_rest_open_orders(b, INSTRUMENTS, 0), body)
    only_protocol_errors(O.parse_order_ack, body)


@SETTINGS
@given(st.binary(max_size=200))
def test_parse_private_random_bytes(frame: bytes) -> None:
    only_protocol_errors(lambda f: O.parse_private(f, 0, INSTRUMENTS), frame)


@SETTINGS
@given(st.data())
def test_parse_private_truncated(data: st.DataObject) -> None:
    text = fixture_text("ws_user_execution_report.json")
    cut = data.draw(st.integers(0, len(text)))
    only_protocol_errors(lambda f: O.parse_private(f, 0, INSTRUMENTS), text[:cut])


@SETTINGS
@given(st.data())
def test_decode_ws_request_mutated(data: st.DataObject) -> None:
    doc = mutate(data.draw(st.sampled_from(REQUEST_DOCS)), data)

    def run(frame: bytes) -> None:
        req = O.decode_ws_request(frame)
        req.req.verify("secret")
        req.req.timestamp_ok(1660801715431)
    only_protocol_errors(run, _dumps(doc))


@SETTINGS
@given(st.data())
def test_decode_stream_request_and_instruments_mutated(data: st.DataObject) -> None:
    doc = mutate(fixture_json("ws_subscribe_request.json"), data)
    only_protocol_errors(M.decode_stream_request, _dumps(doc))
    info = {"symbols": [{"symbol": "ETHBTC", "status": "TRADING", "baseAsset": "ETH",
                         "quoteAsset": "BTC", "baseAssetPrecision": 8, "quoteAssetPrecision": 8,
                         "filters": [{"filterType": "PRICE_FILTER", "tickSize": "0.000001"},
                                     {"filterType": "LOT_SIZE", "stepSize": "0.001",
                                      "minQty": "0.001", "maxQty": "100"}]}]}
    only_protocol_errors(parse_instruments, mutate(info, data))

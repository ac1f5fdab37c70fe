"""Hostile input: malformed, truncated, wrong-typed frames raise ProtocolError and nothing else."""
from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.gate.protocol import market as m
from feeds.gate.protocol import orders as o
from feeds.gate.protocol import symbols as sy
from pipeline.errors import ProtocolError

from .conftest import instrument, load

INSTRUMENTS = {"BTC_USDT": instrument("BTC_USDT", "0.1", "0.00001"),
               "GT_USDT": instrument("GT_USDT", "0.0001", "0.01")}

MARKET_DOCS = ["ws_book_ticker", "ws_order_book_update", "ws_trades", "ws_subscribe_ack",
               "ws_pong"]
PRIVATE_DOCS = ["ws_orders_push", "ws_usertrades_push", "ws_api_order_place_ack",
                "ws_api_order_place_result", "ws_api_error_429", "ws_api_login_response"]
REQUEST_DOCS = ["ws_api_login_request", "ws_api_order_place_request",
                "ws_api_order_cancel_request", "ws_subscribe_private_request",
                "ws_ping_request"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.sampled_from(["0", "1.5", "nan", "inf", "-1", "1e5", "buy", "sell", "open", "put",
                       "finish", "cancelled", "poc", "BTC_USDT", "t-x", "spot.orders"]),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids,
                                                               max_size=4),
    max_leaves=12)


def _paths(d: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(d, dict):
        for k, v in d.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += _paths(v, prefix + (i,))
    return out


def _mutate(doc: str, data: st.DataObject) -> Any:
    d = orjson.loads(doc)
    paths = _paths(d)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = d
        try:
            for k in path[:-1]:
                parent = parent[k]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = data.draw(json_values)
        except (KeyError, IndexError, TypeError):
            pass
    return d


def _only_protocol_errors(fn: Any, frame: Any) -> None:
    try:
        fn(frame)
    except ProtocolError:
        pass


def _all_parsers(frame: Any) -> None:
    _only_protocol_errors(lambda f: m.parse_market(f, 1), frame)
    _only_protocol_errors(lambda f: o.parse_private(f, 1, INSTRUMENTS), frame)
    _only_protocol_errors(o.parse_api_response, frame)
    _only_protocol_errors(o.decode_ws_request, frame)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes(frame: bytes) -> None:
    _all_parsers(frame)


@FUZZ
@given(json_values)
def test_random_json(value: Any) -> None:
    _all_parsers(json.dumps(value))


@FUZZ
@given(st.sampled_from(MARKET_DOCS + PRIVATE_DOCS + REQUEST_DOCS), st.data())
def test_mutated_doc_frames(name: str, data: st.DataObject) -> None:
    _all_parsers(json.dumps(_mutate(load(name), data)))


@FUZZ
@given(st.sampled_from(MARKET_DOCS + PRIVATE_DOCS + REQUEST_DOCS), st.data())
def test_truncated_doc_frames(name: str, data: st.DataObject) -> None:
    doc = load(name)
    _all_parsers(doc[: data.draw(st.integers(0, len(doc)))])


@FUZZ
@given(st.sampled_from(["rest_order_book", "rest_currency_pair", "rest_order_create_response",
                        "rest_countdown_response", "rest_error"]), st.data())
def test_mutated_rest_payloads(name: str, data: st.DataObject) -> None:
    payload = _mutate(load(name), data)
    btc = INSTRUMENTS["BTC_USDT"]
    _only_protocol_errors(m.parse_rest_snapshot, payload)
    _only_protocol_errors(sy.parse_instruments, payload)
    _only_protocol_errors(lambda p: o.parse_rest_order(p, btc, 1), payload)
    _only_protocol_errors(lambda p: o.parse_open_orders(p, INSTRUMENTS, 1), payload)
    _only_protocol_errors(lambda p: o.parse_my_trades(p, INSTRUMENTS, 1), payload)
    _only_protocol_errors(o.parse_countdown, payload)
    _only_protocol_errors(o.parse_rest_error, payload)


def test_huge_exponents_and_ids_are_protocol_errors() -> None:
    d = orjson.loads(load("ws_usertrades_push"))
    for field, value in (("amount", "9e999999999"), ("price", "1e-999999"),
                         ("order_id", "9" * 40), ("create_time_ms", "1" * 50)):
        bad = json.loads(json.dumps(d))
        bad["result"][0][field] = value
        try:
            o.parse_private(json.dumps(bad), 1, INSTRUMENTS)
        except ProtocolError:
            continue
        raise AssertionError(f"{field}={value} was accepted")


def test_non_text_frame_types() -> None:
    for frame in (None, 12, [], memoryview(b"{}")):
        _all_parsers(frame)

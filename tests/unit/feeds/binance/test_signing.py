"""Binance HMAC signing against every binance vector in signing_vectors.json, and the server
side's verification; secrets never show up in reprs or errors."""
from __future__ import annotations

import json
from typing import Any

import pytest

from feeds.binance.protocol import signing as S
from pipeline.errors import ProtocolError

from .conftest import VECTORS

BINANCE = [v for v in json.loads(VECTORS.read_text()) if v["exchange"] == "binance"]
REST = [v for v in BINANCE if "params_in_order" in v["inputs"]]
WS = [v for v in BINANCE if "params_in_order" not in v["inputs"]]


def test_all_ten_binance_vectors_are_covered() -> None:
    assert len(BINANCE) == 10 and len(REST) == 2 and len(WS) == 8


@pytest.mark.parametrize("v", REST, ids=[v["kind"] for v in REST])
def test_rest_vector(v: dict[str, Any]) -> None:
    q = S.rest_query(v["inputs"]["params_in_order"])
    assert q == v["string_to_sign"]
    assert S.sign_rest(v["secret"], q) == v["expected_signature"]
    signed = S.signed_rest_query(v["inputs"]["params_in_order"], v["secret"])
    assert signed == f"{q}&signature={v['expected_signature']}"
    assert S.verify_rest(v["secret"], signed)
    assert S.verify_rest(v["secret"], signed.upper().replace("SIGNATURE=", "signature=")) is False
    assert S.verify_rest(v["secret"], q.split("&timestamp")[0] + "&timestamp=1"
                         + f"&signature={v['expected_signature']}") is False


@pytest.mark.parametrize("v", WS, ids=[v["kind"] for v in WS])
def test_ws_vector(v: dict[str, Any]) -> None:
    params = v["inputs"]["params"]
    assert S.ws_payload(params) == v["string_to_sign"]
    assert S.sign_ws(v["secret"], params) == v["expected_signature"]
    signed = dict(params, signature=v["expected_signature"])
    assert S.ws_payload(signed) == v["string_to_sign"]  # the signature itself is excluded
    assert S.verify_ws(v["secret"], signed)
    assert S.verify_ws(v["secret"], dict(signed, signature=v["expected_signature"].upper()))
    assert not S.verify_ws("wrong-secret", signed)
    assert not S.verify_ws(v["secret"], dict(signed, timestamp=params["timestamp"] + 1))


def test_signed_ws_params_reproduces_the_order_place_vector() -> None:
    v = next(x for x in WS if x["kind"] == "ws_api_order_place")
    p = {k: x for k, x in v["inputs"]["params"].items() if k not in ("apiKey", "timestamp")}
    out = S.signed_ws_params(p, v["key"], v["secret"], v["inputs"]["params"]["timestamp"])
    assert out["signature"] == v["expected_signature"] and list(out)[-1] == "signature"


def test_rest_signature_with_body_is_query_plus_body() -> None:
    secret = BINANCE[0]["secret"]
    q, body = "symbol=LTCBTC&side=BUY", "type=LIMIT&timestamp=1"
    sig = S.sign_rest(secret, q, body)
    assert sig == S.hmac_hex(secret, q + body)
    assert S.verify_rest(secret, q, f"{body}&signature={sig}")


def test_unsignable_values_and_missing_signatures() -> None:
    with pytest.raises(ProtocolError):
        S.ws_payload({"price": 0.1})
    assert not S.verify_ws("s", {"price": 0.1, "signature": "ab"})
    assert not S.verify_ws("s", {"a": "1"})
    assert not S.verify_rest("s", "a=1")
    assert S.wire_value(True) == "true"


def test_secret_never_in_repr_or_error() -> None:
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    c = S.Credentials("vmPUZE6mv9SD5VNH", secret)
    assert secret not in repr(c) and secret not in str(c) and "vmPUZE6mv9SD5VNH" not in repr(c)
    with pytest.raises(ProtocolError) as ei:
        S.ws_payload({"k": object(), "secret": secret})
    assert secret not in str(ei.value)

"""Gate signatures against every gate vector in the shared signing_vectors.json."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from feeds.gate.protocol import signing as s
from feeds.gate.protocol.rest import signed_request

VECTORS_FILE = Path("/work/shared/protocols/signing_vectors.json")
VECTORS = [v for v in json.loads(VECTORS_FILE.read_text()) if v["exchange"] == "gate"]


def test_all_five_gate_vectors_are_loaded() -> None:
    assert len(VECTORS) == 5


def _compute(v: dict) -> tuple[str, str]:
    i, secret = v["inputs"], v["secret"]
    kind = v["kind"]
    if kind.startswith("rest_"):
        return (s.rest_string_to_sign(i["method"], i["url_path"], i["query_string"], i["body"],
                                      i["Timestamp"]),
                s.sign_rest(secret, i["method"], i["url_path"], i["query_string"], i["body"],
                            i["Timestamp"]))
    if kind == "ws_channel_auth_hmac_sha512":
        return (s.ws_channel_string_to_sign(i["channel"], i["event"], i["time"]),
                s.sign_ws_channel(secret, i["channel"], i["event"], i["time"]))
    param = i.get("req_param", i.get("req_param_json_exact_bytes"))
    return (s.ws_api_string_to_sign(i["channel"], param, i["timestamp"]),
            s.sign_ws_api(secret, i["channel"], param, i["timestamp"]))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["kind"] for v in VECTORS])
def test_vector(vector: dict) -> None:
    string_to_sign, sig = _compute(vector)
    assert string_to_sign == vector["string_to_sign"]
    assert sig == vector["expected_signature"]


def test_rest_body_hash_vector_and_empty_body() -> None:
    post = next(v for v in VECTORS if v["kind"] == "rest_hmac_sha512_post")
    assert s.sha512_hex(post["inputs"]["body"]) == post["inputs"]["body_sha512_hex"]
    assert s.sha512_hex("") == s.EMPTY_BODY_SHA512


def test_rest_headers_and_verify_and_signed_request_use_api_prefix() -> None:
    get = next(v for v in VECTORS if v["kind"] == "rest_hmac_sha512_get")
    creds = s.Credentials("key", "secret")
    h = s.rest_headers(creds, "GET", "/api/v4/futures/orders",
                       "contract=BTC_USD&status=finished&limit=50", "", 1541993715)
    assert h["KEY"] == "key" and h["Timestamp"] == "1541993715"
    assert h["SIGN"] == get["expected_signature"]
    assert s.verify_rest("secret", "GET", "/api/v4/futures/orders",
                         "contract=BTC_USD&status=finished&limit=50", "", 1541993715, h["SIGN"])
    assert not s.verify_rest("other", "GET", "/api/v4/futures/orders", "", "", 1, h["SIGN"])
    r = signed_request(creds, 1541993715, "GET", "/futures/orders",
                       [("contract", "BTC_USD"), ("status", "finished"), ("limit", 50)])
    assert r.headers["SIGN"] == get["expected_signature"]
    assert r.path_query == "/futures/orders?contract=BTC_USD&status=finished&limit=50"


def test_channel_auth_object_and_verification() -> None:
    v = next(v for v in VECTORS if v["kind"] == "ws_channel_auth_hmac_sha512")
    auth = s.ws_channel_auth(s.Credentials("key", "secret"), "spot.orders", "subscribe",
                             1611541000)
    assert auth == {"method": "api_key", "KEY": "key", "SIGN": v["expected_signature"]}
    assert s.verify_ws_channel("secret", "spot.orders", "subscribe", 1611541000, auth["SIGN"])
    assert not s.verify_ws_channel("secret", "spot.orders", "subscribe", 1611541001,
                                   auth["SIGN"])


def test_secret_never_appears_in_reprs_or_errors() -> None:
    creds = s.Credentials("abcdefgh", "TOPSECRETVALUE")
    assert "TOPSECRETVALUE" not in repr(creds) and "TOPSECRETVALUE" not in str(creds)
    r = signed_request(creds, 1, "GET", "/spot/orders")
    assert "TOPSECRETVALUE" not in repr(r) and "SIGN" not in repr(r)
    with pytest.raises(TypeError) as ei:
        s.sign_rest(12345, "GET", "/", "", "", 1)  # type: ignore[arg-type]
    assert "12345" not in str(ei.value)

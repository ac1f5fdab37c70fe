"""OKX signatures against every okx vector in the shared signing_vectors.json."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from feeds.okx.protocol import signing

VECTORS = Path("/work/shared/protocols/signing_vectors.json")


def _okx() -> list[dict[str, Any]]:
    return [v for v in json.loads(VECTORS.read_text()) if v["exchange"] == "okx"]


def test_all_three_okx_vectors_are_present() -> None:
    assert len(_okx()) == 3


@pytest.mark.parametrize("vec", _okx(), ids=lambda v: v["kind"])
def test_vector(vec: dict[str, Any]) -> None:
    i = vec["inputs"]
    if vec["kind"].startswith("rest"):
        pre = signing.rest_prehash(i["timestamp"], i["method"], i["requestPath"], i["body"])
        sig = signing.sign_rest(vec["secret"], i["timestamp"], i["method"], i["requestPath"],
                                i["body"])
        assert signing.verify_rest(vec["secret"], i["timestamp"], i["method"],
                                   i["requestPath"], i["body"], vec["expected_signature"])
    else:
        pre = signing.ws_login_prehash(i["timestamp"])
        sig = signing.sign_ws_login(vec["secret"], i["timestamp"])
        assert signing.verify_ws_login(vec["secret"], int(i["timestamp"]),
                                       vec["expected_signature"])
    assert pre == vec["string_to_sign"]
    assert sig == vec["expected_signature"]


def test_iso_timestamp_matches_the_doc_format() -> None:
    ms = 1607418537715  # 2020-12-08T09:08:57.715Z
    assert signing.iso_timestamp(ms) == "2020-12-08T09:08:57.715Z"
    assert signing.iso_timestamp(1607418537005) == "2020-12-08T09:08:57.005Z"
    assert signing.parse_iso_timestamp("2020-12-08T09:08:57.715Z") == ms
    assert signing.parse_iso_timestamp("2020-12-08 09:08:57") is None


def test_rest_headers_sign_the_get_vector() -> None:
    creds = signing.Credentials("k", "22582BD0CFF14C41EDBF1AB98506286D", "pp")
    h = signing.rest_headers(creds, "2020-12-08T09:08:57.715Z", "get",
                             "/api/v5/account/balance?ccy=BTC", demo=True)
    assert h["OK-ACCESS-SIGN"] == "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
    assert h["OK-ACCESS-PASSPHRASE"] == "pp" and h["x-simulated-trading"] == "1"


def test_wrong_signatures_do_not_verify() -> None:
    assert not signing.verify_ws_login("secret", 1, "nope")
    assert not signing.verify_ws_login("secret", 1, None)
    assert not signing.verify_rest("secret", "t", "GET", "/", "", 123)


def test_secrets_never_appear_in_reprs() -> None:
    creds = signing.Credentials("abcdefgh", "TOPSECRETVALUE", "MYPASSPHRASE")
    for s in (repr(creds), str(creds)):
        assert "TOPSECRETVALUE" not in s and "MYPASSPHRASE" not in s and "efgh" not in s


def test_bad_secret_type_error_does_not_echo_it() -> None:
    with pytest.raises(TypeError) as exc:
        signing.sign_ws_login(12345678, 1)  # type: ignore[arg-type]
    assert "12345678" not in str(exc.value)

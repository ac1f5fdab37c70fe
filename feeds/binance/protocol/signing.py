"""Binance request signing (HMAC-SHA256), REST and WebSocket API, as pure functions.

The gateway signs outgoing requests and the simulator verifies incoming ones with the same
code, so both sides agree byte for byte with the published vectors (EXCHANGES.md §1.5):
- REST: payload = the query string as sent (UTF-8 percent-encoded, in the caller's order)
  concatenated with the request body; `signature` is appended last.
- WS API: payload = every param except `signature`, sorted by name, `name=value` joined with
  `&`, raw UTF-8 with no percent-encoding.
Secrets are arguments and never appear in a repr or an exception message.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from pipeline.errors import ProtocolError
from pipeline.model import decimal_str

from ._wire import err


@dataclass(frozen=True, slots=True)
class Credentials:
    """An API key and its secret; the repr shows neither in full."""

    api_key: str
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key[:4]}…, secret=***)"


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if isinstance(secret, str):
        return secret.encode()
    raise err("secret must be str or bytes")


def hmac_hex(secret: str | bytes, payload: str) -> str:
    """hex(HMAC-SHA256(secret, payload)) — Binance's HMAC signature."""
    return hmac.new(_secret_bytes(secret), payload.encode(), hashlib.sha256).hexdigest()


def wire_value(v: Any) -> str:
    """One param value as it appears in a query string or a WS signing payload."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return v
    if isinstance(v, Decimal):
        return decimal_str(v)
    # floats are refused: their text is not exact, and a signature over it would be fragile
    raise err(f"param value of type {type(v).__name__} cannot be signed")


# -- REST ------------------------------------------------------------------------------------
def rest_query(params: Iterable[tuple[str, Any]]) -> str:
    """Params (in order) -> the percent-encoded query string that is both sent and signed."""
    return urlencode([(k, wire_value(v)) for k, v in params])


def sign_rest(secret: str | bytes, query: str, body: str = "") -> str:
    return hmac_hex(secret, query + body)


def signed_rest_query(params: Iterable[tuple[str, Any]], secret: str | bytes) -> str:
    """`query&signature=<hex>` for a SIGNED endpoint (timestamp must already be in params)."""
    q = rest_query(params)
    return f"{q}&signature={sign_rest(secret, q)}"


def split_rest_signature(query: str) -> tuple[str, str]:
    """Server side: `a=1&b=2&signature=x` -> (`a=1&b=2`, `x`); ("", "") parts when absent."""
    keep: list[str] = []
    sig = ""
    for part in query.split("&") if query else []:
        if part.startswith("signature="):
            sig = part[len("signature="):]
        else:
            keep.append(part)
    return "&".join(keep), sig


def verify_rest(secret: str | bytes, query: str, body: str = "") -> bool:
    """Server side: does the `signature` param match HMAC(query without it + body)?"""
    q_payload, q_sig = split_rest_signature(query)
    b_payload, b_sig = split_rest_signature(body)
    sig = q_sig or b_sig
    if not sig:
        return False
    want = sign_rest(secret, q_payload, b_payload)
    return _same(want, sig.lower())


# -- WebSocket API ---------------------------------------------------------------------------
def ws_payload(params: Mapping[str, Any]) -> str:
    """All params except `signature`, sorted by name, `k=v` joined with `&` (raw UTF-8)."""
    return "&".join(f"{k}={wire_value(params[k])}" for k in sorted(params) if k != "signature")


def sign_ws(secret: str | bytes, params: Mapping[str, Any]) -> str:
    return hmac_hex(secret, ws_payload(params))


def signed_ws_params(params: Mapping[str, Any], api_key: str, secret: str | bytes,
                     timestamp_ms: int) -> dict[str, Any]:
    """`params` plus `apiKey`, `timestamp` and `signature` (in that order, last)."""
    out = dict(params)
    out["apiKey"] = api_key
    out["timestamp"] = timestamp_ms
    out["signature"] = sign_ws(secret, out)
    return out


def verify_ws(secret: str | bytes, params: Mapping[str, Any]) -> bool:
    """Server side: the HMAC `signature` of a WS API request (hex, case-insensitive)."""
    sig = params.get("signature")
    if not isinstance(sig, str) or not sig:
        return False
    try:
        want = sign_ws(secret, params)
    except ProtocolError:  # an unsignable value (float, list) is simply a bad signature
        return False
    return _same(want, sig.lower())


def _same(expected: str, signature: object) -> bool:
    """Constant-time comparison that treats any non-string or non-ASCII signature as simply
    wrong (hmac.compare_digest raises TypeError on non-ASCII str)."""
    return isinstance(signature, str) and hmac.compare_digest(
        expected.encode(), signature.encode("utf-8", "replace"))

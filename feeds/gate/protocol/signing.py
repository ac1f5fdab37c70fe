"""Gate request signatures (hex HMAC-SHA512), as pure functions of their inputs.

Used by the gate gateway (REST headers, private-channel `auth`, WS trading-API login) and by the
simulated venue (to verify what a client sent). Three recipes, EXCHANGES.md §3.5:

* REST: METHOD \\n /api/v4/path \\n query (not URL-encoded) \\n hex(SHA512(body)) \\n Timestamp
* private channel subscribe: `channel=<c>&event=<e>&time=<t>`
* WS trading API: `api\\n<channel>\\n<req_param>\\n<timestamp>` (`req_param` empty for login;
  the official SDK also signs every later request with its JSON-serialised `req_param`).

Timestamps are arguments (no clock here). Secrets only ever flow into `hmac.new`; they never
appear in a repr or an exception message.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

EMPTY_BODY_SHA512 = hashlib.sha512(b"").hexdigest()


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """An API key pair. The repr shows a key prefix only and never the secret."""

    key: str
    secret: str

    def __repr__(self) -> str:
        return f"Credentials(key={self.key[:4]!r}..., secret=<redacted>)"

    __str__ = __repr__


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if isinstance(secret, str):
        return secret.encode()
    raise TypeError("secret must be str or bytes")  # never echo the value


def _hmac_hex(secret: str | bytes, message: str) -> str:
    return hmac.new(_secret_bytes(secret), message.encode(), hashlib.sha512).hexdigest()


def sha512_hex(body: str | bytes) -> str:
    return hashlib.sha512(body.encode() if isinstance(body, str) else body).hexdigest()


# -- REST --------------------------------------------------------------------------------------
def rest_string_to_sign(method: str, url_path: str, query: str, body: str | bytes,
                        timestamp: str | int) -> str:
    return "\n".join((method.upper(), url_path, query, sha512_hex(body), str(timestamp)))


def sign_rest(secret: str | bytes, method: str, url_path: str, query: str, body: str | bytes,
              timestamp: str | int) -> str:
    """`url_path` includes `/api/v4`; `query` is exactly as sent, un-encoded, `""` if none."""
    return _hmac_hex(secret, rest_string_to_sign(method, url_path, query, body, timestamp))


def rest_headers(creds: Credentials, method: str, url_path: str, query: str,
                 body: str | bytes, timestamp: str | int) -> dict[str, str]:
    return {
        "KEY": creds.key,
        "Timestamp": str(timestamp),
        "SIGN": sign_rest(creds.secret, method, url_path, query, body, timestamp),
        "Accept": "application/json",
        "Content-Type": "application/json",
    }


def verify_rest(secret: str | bytes, method: str, url_path: str, query: str,
                body: str | bytes, timestamp: str | int, signature: str) -> bool:
    expected = sign_rest(secret, method, url_path, query, body, timestamp)
    return _same(expected, signature)


# -- WS private channels -------------------------------------------------------------------------
def ws_channel_string_to_sign(channel: str, event: str, time_s: int) -> str:
    return f"channel={channel}&event={event}&time={int(time_s)}"


def sign_ws_channel(secret: str | bytes, channel: str, event: str, time_s: int) -> str:
    return _hmac_hex(secret, ws_channel_string_to_sign(channel, event, time_s))


def ws_channel_auth(creds: Credentials, channel: str, event: str, time_s: int) -> dict[str, str]:
    """The `auth` object of a private-channel (un)subscribe request."""
    return {"method": "api_key", "KEY": creds.key,
            "SIGN": sign_ws_channel(creds.secret, channel, event, time_s)}


def verify_ws_channel(secret: str | bytes, channel: str, event: str, time_s: int,
                      signature: str) -> bool:
    expected = sign_ws_channel(secret, channel, event, time_s)
    return _same(expected, signature)


# -- WS trading API ------------------------------------------------------------------------------
def ws_api_string_to_sign(channel: str, req_param: str, timestamp: str | int) -> str:
    return f"api\n{channel}\n{req_param}\n{timestamp}"


def sign_ws_api(secret: str | bytes, channel: str, req_param: str, timestamp: str | int) -> str:
    """`req_param` is `""` for `spot.login`, else the exact JSON text that is sent."""
    return _hmac_hex(secret, ws_api_string_to_sign(channel, req_param, timestamp))


def verify_ws_api(secret: str | bytes, channel: str, req_param: str, timestamp: str | int,
                  signature: str) -> bool:
    expected = sign_ws_api(secret, channel, req_param, timestamp)
    return _same(expected, signature)


def _same(expected: str, signature: object) -> bool:
    """Constant-time comparison that treats any non-string or non-ASCII signature as simply
    wrong (hmac.compare_digest raises TypeError on non-ASCII str)."""
    return isinstance(signature, str) and hmac.compare_digest(
        expected.encode(), signature.encode("utf-8", "replace"))

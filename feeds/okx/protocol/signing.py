"""OKX signatures (base64 HMAC-SHA256) as pure functions (EXCHANGES.md §2.5).

Used by the okx gateway (REST headers, the WS `login` frame) and by the simulated OKX venue to
verify what a client sent. Two recipes:

* REST: `timestamp + METHOD + requestPath(+?query) + body`, timestamp ISO-8601 UTC with ms;
* WS login: `unix_seconds + "GET" + "/users/self/verify"`.

Clocks are arguments. Secrets and passphrases only flow into `hmac.new` and the header the
venue needs; they never appear in a repr or an exception message.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from .constants import DEMO_HEADER, WS_LOGIN_PATH


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """API key, secret and passphrase. The repr shows a key prefix only."""

    key: str
    secret: str
    passphrase: str

    def __repr__(self) -> str:
        return f"Credentials(key={self.key[:4]!r}..., secret=<redacted>, passphrase=<redacted>)"

    __str__ = __repr__


def _b64_hmac(secret: str | bytes, message: str) -> str:
    if isinstance(secret, str):
        key = secret.encode()
    elif isinstance(secret, bytes):
        key = secret
    else:
        raise TypeError("secret must be str or bytes")  # never echo the value
    return base64.b64encode(hmac.new(key, message.encode(), hashlib.sha256).digest()).decode()


def iso_timestamp(ts_ms: int) -> str:
    """int ms -> `2020-12-08T09:08:57.715Z` (the REST `OK-ACCESS-TIMESTAMP`)."""
    dt = datetime.fromtimestamp(ts_ms // 1000, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ts_ms % 1000:03d}Z"


def parse_iso_timestamp(ts: str) -> int | None:
    """`2020-12-08T09:08:57.715Z` -> int ms, or None when malformed (server-side skew check)."""
    if not isinstance(ts, str) or len(ts) != 24 or not ts.endswith("Z") or ts[19] != ".":
        return None
    try:
        dt = datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        ms = int(ts[20:23])
    except ValueError:
        return None
    return int(dt.timestamp()) * 1000 + ms


# -- REST ----------------------------------------------------------------------------------------
def rest_prehash(timestamp: str, method: str, request_path: str, body: str = "") -> str:
    """`request_path` includes the query string for GET (`/api/v5/x?ccy=BTC`)."""
    return f"{timestamp}{method.upper()}{request_path}{body}"


def sign_rest(secret: str | bytes, timestamp: str, method: str, request_path: str,
              body: str = "") -> str:
    return _b64_hmac(secret, rest_prehash(timestamp, method, request_path, body))


def verify_rest(secret: str | bytes, timestamp: str, method: str, request_path: str, body: str,
                signature: object) -> bool:
    expected = sign_rest(secret, timestamp, method, request_path, body)
    return _same(expected, signature)


def rest_headers(creds: Credentials, timestamp: str, method: str, request_path: str,
                 body: str = "", *, demo: bool = False) -> dict[str, str]:
    headers = {
        "OK-ACCESS-KEY": creds.key,
        "OK-ACCESS-SIGN": sign_rest(creds.secret, timestamp, method, request_path, body),
        "OK-ACCESS-TIMESTAMP": timestamp,
        "OK-ACCESS-PASSPHRASE": creds.passphrase,
        "Content-Type": "application/json",
    }
    if demo:
        headers[DEMO_HEADER[0]] = DEMO_HEADER[1]
    return headers


# -- WS login ------------------------------------------------------------------------------------
def ws_login_prehash(timestamp_s: str | int) -> str:
    return f"{timestamp_s}GET{WS_LOGIN_PATH}"


def sign_ws_login(secret: str | bytes, timestamp_s: str | int) -> str:
    return _b64_hmac(secret, ws_login_prehash(timestamp_s))


def verify_ws_login(secret: str | bytes, timestamp_s: str | int, signature: object) -> bool:
    expected = sign_ws_login(secret, timestamp_s)
    return _same(expected, signature)


def _same(expected: str, signature: object) -> bool:
    """Constant-time comparison that treats any non-string or non-ASCII signature as simply
    wrong (hmac.compare_digest raises TypeError on non-ASCII str)."""
    return isinstance(signature, str) and hmac.compare_digest(
        expected.encode(), signature.encode("utf-8", "replace"))

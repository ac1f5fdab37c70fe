"""A REST call described as data, signed the Gate way, for a thin HTTP driver to send.

Why: the gateway's aiohttp code should only do `session.request(r.method, base + r.path_query,
data=r.body, headers=r.headers)`; everything that must be byte-exact (query order, body text,
signature) is decided here, sans-I/O, and tested against the official vectors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._wire import dumps
from .constants import API_PREFIX, REST_URL
from .signing import Credentials, rest_headers


@dataclass(frozen=True, slots=True)
class RestRequest:
    """`path` is relative to the REST base (`/spot/orders`); `query` is exactly as sent."""

    method: str
    path: str
    query: str = ""
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def path_query(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    def url(self, base: str = REST_URL) -> str:
        return base.rstrip("/") + self.path_query

    def __repr__(self) -> str:  # headers carry a signature; keep reprs short and key-free
        return f"RestRequest({self.method} {self.path_query!r}, body={len(self.body)}B)"


def build_query(params: list[tuple[str, Any]]) -> str:
    """Ordered `k=v&...`, not URL-encoded (Gate signs the raw form); None values are left out."""
    parts = []
    for k, v in params:
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        parts.append(f"{k}={v}")
    return "&".join(parts)


def public_request(method: str, path: str, params: list[tuple[str, Any]] | None = None
                   ) -> RestRequest:
    return RestRequest(method, path, build_query(params or []), "",
                       {"Accept": "application/json"})


def signed_request(creds: Credentials, time_s: int | str, method: str, path: str,
                   params: list[tuple[str, Any]] | None = None, body: Any = None) -> RestRequest:
    """Sign with `/api/v4` + path; `body` (a JSON-able object) is serialised once and that
    exact text is both hashed and sent."""
    query = build_query(params or [])
    text = "" if body is None else dumps(body)
    headers = rest_headers(creds, method, API_PREFIX + path, query, text, time_s)
    return RestRequest(method.upper(), path, query, text, headers)

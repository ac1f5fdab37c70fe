"""REST calls described as data, for the okx adapters' HTTP drivers.

Why: the protocol package builds (and signs) requests but owns no session; the driver sends
`method` to `request_path` (path plus the exact query string that was signed) with `body` and
`headers` verbatim. Sending the query from `params` through a client that re-encodes it would
break the signature, so `request_path` is the one to use.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode


@dataclass(frozen=True, slots=True)
class RestRequest:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> str:
        return urlencode(self.params) if self.params else ""

    @property
    def request_path(self) -> str:
        q = self.query
        return f"{self.path}?{q}" if q else self.path

    def __repr__(self) -> str:  # headers carry the key and passphrase: keep them out of logs
        return f"RestRequest({self.method} {self.request_path}, body={len(self.body)}B)"


def query_string(params: dict[str, str]) -> str:
    return urlencode(params) if params else ""

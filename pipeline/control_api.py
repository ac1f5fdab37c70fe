"""Control API: HTTP on 127.0.0.1 (aiohttp) with token authentication and roles, audited.

Roles are ordered: `viewer` (status, metrics) < `trader` (halt, resume, strategy parameters
within limits) < `admin` (kill, risk limits, keys). Tokens are never stored: the config holds
their SHA-256 (`[control] tokens = [{name, role, sha256}]`); `hft control token NAME ROLE`
mints one. Missing/wrong token -> 401, insufficient role -> 403; both, and every accepted
action, are written to the audit log.

The server runs in a thread inside the supervisor and calls a `ControlActions` object, which
turns requests into commands to the engine and gateways. Malformed requests get a 4xx with a
message; an unexpected failure is a 500 with a generic message, never a traceback.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

log = logging.getLogger(__name__)

ROLES = {"viewer": 1, "trader": 2, "admin": 3}
# action -> minimum role
ACTIONS = {
    "status": "viewer", "metrics": "viewer",
    "halt": "trader", "resume": "trader", "params": "trader",
    "kill": "admin", "limits": "admin", "keys": "admin",
}
# strategy parameters a trader may change, with their allowed ranges
PARAM_BOUNDS: dict[str, tuple[float, float]] = {
    "spread_bps": (0.5, 500.0),
    "order_size": (0.0, 1e9),
    "refresh_interval_ms": (10.0, 60_000.0),
    "layers": (1.0, 20.0),
    "requote_tolerance_bps": (0.0, 100.0),
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenEntry:
    name: str
    role: str
    sha256: str


class ControlActions(Protocol):
    def status(self) -> Any: ...
    def metrics(self) -> Any: ...
    def halt(self, reason: str) -> Any: ...
    def resume(self) -> Any: ...
    def kill(self, reason: str) -> Any: ...
    def set_params(self, params: dict[str, float]) -> Any: ...
    def set_limits(self, limits: dict[str, float]) -> Any: ...
    def keys(self) -> Any: ...


AuditFn = Callable[[str, str, dict[str, Any]], None]


class BadRequest(Exception):
    pass


def _identify(request: web.Request, tokens: list[TokenEntry]) -> TokenEntry | None:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return None
    digest = hash_token(auth[7:].strip())
    for t in tokens:
        if hmac.compare_digest(digest, t.sha256):
            return t
    return None


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise BadRequest("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _numbers(body: dict[str, Any], allowed: dict[str, tuple[float, float]] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in body.items():
        if allowed is not None and k not in allowed:
            raise BadRequest(f"unknown parameter {k!r} (allowed: {sorted(allowed)})")
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise BadRequest(f"{k} must be a number")
        if allowed is not None:
            lo, hi = allowed[k]
            if not lo <= v <= hi:
                raise BadRequest(f"{k}={v} is outside the allowed range [{lo}, {hi}]")
        elif v <= 0:
            raise BadRequest(f"{k} must be positive")
        out[k] = float(v)
    if not out:
        raise BadRequest("no parameters given")
    return out


def build_app(actions: ControlActions, tokens: list[TokenEntry], audit: AuditFn) -> web.Application:
    async def handle(request: web.Request, action: str) -> web.Response:
        who = _identify(request, tokens)
        peer = request.remote or "?"
        if who is None:
            audit("auth_failed", f"anonymous@{peer}", {"action": action, "path": request.path})
            return web.json_response({"error": "missing or invalid token"}, status=401)
        if ROLES[who.role] < ROLES[ACTIONS[action]]:
            audit("forbidden", who.name, {"action": action, "role": who.role})
            return web.json_response(
                {"error": f"role {who.role} may not {action} (needs {ACTIONS[action]})"}, status=403)
        try:
            body = await _json_body(request) if request.method == "POST" else {}
            reason = str(body.get("reason", ""))[:200] if isinstance(body, dict) else ""
            if action == "status":
                result = actions.status()
            elif action == "metrics":
                result = actions.metrics()
            elif action == "halt":
                result = actions.halt(reason or f"halt by {who.name}")
            elif action == "resume":
                result = actions.resume()
            elif action == "kill":
                result = actions.kill(reason or f"kill by {who.name}")
            elif action == "params":
                result = actions.set_params(_numbers(body, PARAM_BOUNDS))
            elif action == "limits":
                result = actions.set_limits(_numbers(body, None))
            else:  # keys: names only, never values
                result = actions.keys()
        except BadRequest as exc:
            audit("bad_request", who.name, {"action": action, "error": str(exc)})
            return web.json_response({"error": str(exc)}, status=400)
        except Exception:
            log.exception("control action %s failed", action)
            return web.json_response({"error": "internal error"}, status=500)
        if action not in ("status", "metrics"):
            audit("control", who.name, {"action": action, "role": who.role})
        return web.json_response({"ok": True, "result": result}, dumps=lambda o: json.dumps(o, default=str))

    def route(action: str) -> Callable[[web.Request], Any]:
        async def handler(request: web.Request) -> web.Response:
            return await handle(request, action)
        return handler

    app = web.Application(client_max_size=64 * 1024)
    for action in ("status", "metrics", "keys"):
        app.router.add_get(f"/{action}", route(action))
    for action in ("halt", "resume", "kill", "params", "limits"):
        app.router.add_post(f"/{action}", route(action))
    return app


class ControlServer:
    """Runs the app in a daemon thread with its own event loop (the supervisor is synchronous)."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="control-api",
                                        daemon=True)
        self.bound_port = 0

    def start(self) -> int:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self.bound_port = fut.result(timeout=10)
        return self.bound_port

    async def _start(self) -> int:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        return site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def now_ns() -> int:
    return time.time_ns()

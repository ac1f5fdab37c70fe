"""Control API: the RBAC matrix (each role x each action), 401/403 audited, malformed requests
get 4xx with a message, parameters bounded."""
from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pipeline.control_api import ACTIONS, ROLES, TokenEntry, build_app, hash_token

TOKENS = {"viewer": "tok-viewer", "trader": "tok-trader", "admin": "tok-admin"}
METHOD = {a: ("GET" if a in ("status", "metrics", "keys") else "POST") for a in ACTIONS}
BODY = {"params": {"spread_bps": 12.0}, "limits": {"max_open_orders": 10}}


class Recorder:
    def __init__(self):
        self.calls = []

    def status(self):
        self.calls.append(("status",))
        return [{"name": "engine"}]

    def metrics(self):
        self.calls.append(("metrics",))
        return {"orders": 1}

    def halt(self, reason):
        self.calls.append(("halt", reason))

    def resume(self):
        self.calls.append(("resume",))

    def kill(self, reason):
        self.calls.append(("kill", reason))

    def set_params(self, p):
        self.calls.append(("params", p))

    def set_limits(self, p):
        self.calls.append(("limits", p))

    def keys(self):
        self.calls.append(("keys",))
        return ["binance.api_key"]


@pytest.fixture()
async def api():
    actions, audit = Recorder(), []
    tokens = [TokenEntry(role, role, hash_token(tok)) for role, tok in TOKENS.items()]
    app = build_app(actions, tokens, lambda kind, actor, data: audit.append((kind, actor, data)))
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client, actions, audit
    await client.close()


async def call(client, action, token=None, json=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if METHOD[action] == "GET":
        return await client.get(f"/{action}", headers=headers)
    return await client.post(f"/{action}", headers=headers, json=json or BODY.get(action))


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("action", list(ACTIONS))
async def test_rbac_matrix(api, role, action):
    client, actions, audit = api
    resp = await call(client, action, TOKENS[role])
    allowed = ROLES[role] >= ROLES[ACTIONS[action]]
    assert resp.status == (200 if allowed else 403)
    if allowed:
        assert actions.calls and actions.calls[-1][0] == action
    else:
        assert actions.calls == []
        assert audit[-1][0] == "forbidden" and audit[-1][1] == role


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_missing_or_wrong_token_is_401_and_audited(api, token):
    client, actions, audit = api
    resp = await call(client, "halt", token)
    assert resp.status == 401
    assert actions.calls == [] and audit[-1][0] == "auth_failed"


async def test_accepted_actions_are_audited_with_actor(api):
    client, actions, audit = api
    assert (await call(client, "kill", TOKENS["admin"], {"reason": "drill"})).status == 200
    assert actions.calls[-1] == ("kill", "drill")
    assert audit[-1] == ("control", "admin", {"action": "kill", "role": "admin"})


async def test_malformed_requests_get_4xx_with_message(api):
    client, actions, _ = api
    h = {"Authorization": f"Bearer {TOKENS['admin']}", "Content-Type": "application/json"}
    resp = await client.post("/params", headers=h, data=b"{not json")
    assert resp.status == 400 and "valid JSON" in (await resp.json())["error"]
    resp = await client.post("/params", headers=h, json={"spread_bps": 10_000})
    assert resp.status == 400 and "outside the allowed range" in (await resp.json())["error"]
    resp = await client.post("/params", headers=h, json={"leverage": 5})
    assert resp.status == 400 and "unknown parameter" in (await resp.json())["error"]
    resp = await client.post("/limits", headers=h, json={"max_open_orders": "many"})
    assert resp.status == 400 and "must be a number" in (await resp.json())["error"]
    resp = await client.post("/limits", headers=h, json=[1, 2])
    assert resp.status == 400
    assert (await client.get("/nope", headers=h)).status == 404
    assert actions.calls == []


async def test_keys_lists_names_never_values(api):
    client, _, _ = api
    resp = await call(client, "keys", TOKENS["admin"])
    assert (await resp.json())["result"] == ["binance.api_key"]

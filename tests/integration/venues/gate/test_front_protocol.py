"""The simulated Gate front-end's wire behaviour, frame by frame, with a plain WS client.

Auth failures must come back as Gate's own errors (label + HTTP-like status on the trading
API, code 4 on channel auth, label bodies on REST); private pushes reach only the owning
account; garbage never breaks the connection or the venue.
"""
from __future__ import annotations

import time
from decimal import Decimal

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestServer

from feeds.gate.protocol import market, orders
from feeds.gate.protocol.signing import Credentials, rest_headers
from feeds.sim.gate_front import make_front
from feeds.sim.venue import SimVenue
from pipeline.messages import NewOrder
from pipeline.model import OrderType, Side, TimeInForce

from .conftest import KEY, SECRET, SYMBOLS, seed_book

OTHER_KEY, OTHER_SECRET = "otherkey000000000000000000000000", "othersecret0000000000000000000000"


@pytest.fixture
async def sim():
    venue = SimVenue("gate", SYMBOLS, {KEY: SECRET, OTHER_KEY: OTHER_SECRET}, time.time_ns)
    front, app = make_front(venue)
    seed_book(venue)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        yield venue, front, http, f"http://127.0.0.1:{server.port}", \
            f"ws://127.0.0.1:{server.port}/ws/v4/"
    await front.drop_connections()
    await server.close()


async def recv(ws) -> dict:
    return orjson.loads(await ws.receive_str(timeout=5))


def now_s() -> int:
    return time.time_ns() // 1_000_000_000


async def test_login_errors_are_gates_own(sim):
    _, _, http, _, url = sim
    ws = await http.ws_connect(url)
    cases = [(Credentials("unknown-key", SECRET), now_s(), "INVALID_KEY"),
             (Credentials(KEY, "bad-secret"), now_s(), "INVALID_SIGNATURE"),
             (Credentials(KEY, SECRET), now_s() - 3600, "REQUEST_EXPIRED")]
    for creds, ts, label in cases:
        await ws.send_str(orders.build_login(creds, "r1", ts))
        d = await recv(ws)
        assert d["request_id"] == "r1" and d["header"]["status"] == "401"
        assert d["data"]["errs"]["label"] == label
    # an order before any successful login
    order = NewOrder("x1", "gate", "BTC/USDT", Side.BUY, 600_000, 1000, tif=TimeInForce.GTC)
    inst = sim[0].engines["BTC/USDT"].instrument
    await ws.send_str(orders.build_order_place(order, inst, "r2", now_s()))
    d = await recv(ws)
    assert d["data"]["errs"]["label"] == "INVALID_KEY"
    await ws.send_str(orders.build_login(Credentials(KEY, SECRET), "r3", now_s()))
    d = await recv(ws)
    assert d["header"]["status"] == "200" and d["data"]["result"]["api_key"] == KEY
    await ws.close()


async def test_ping_subscribe_unsubscribe_and_errors(sim):
    venue, _, http, _, url = sim
    ws = await http.ws_connect(url)
    await ws.send_str(market.build_ping(123))
    assert await recv(ws) == orjson.loads(market.encode_pong(123))
    await ws.send_str(market.build_subscribe(["BTC_USDT"], ["spot.trades"], 5, now_s())[0])
    ack = await recv(ws)
    assert ack["id"] == 5 and ack["error"] is None and ack["result"] == {"status": "success"}
    await ws.send_str(market.build_subscribe(["NOPE_USDT"], ["spot.trades"], 6, now_s())[0])
    err = await recv(ws)
    assert err["error"]["code"] == 2 and err["id"] == 6
    # private channel with a wrong signature
    frame = orders.build_private_subscribe("spot.orders", ["!all"],
                                           Credentials(KEY, "bad"), 7, now_s())
    await ws.send_str(frame)
    err = await recv(ws)
    assert err["channel"] == "spot.orders" and err["error"]["code"] == 4
    # a trade arrives, then nothing more after unsubscribe
    venue.submit_wire("crowd", "BTC/USDT", client_id="", side=Side.BUY, type=OrderType.LIMIT,
                      tif=TimeInForce.IOC, price=Decimal(65100), qty=Decimal("0.001"))
    t = await recv(ws)
    assert t["channel"] == "spot.trades" and t["result"]["side"] == "buy"
    assert t["result"]["currency_pair"] == "BTC_USDT"
    await ws.send_str(market.build_unsubscribe(["BTC_USDT"], ["spot.trades"], 8, now_s())[0])
    assert (await recv(ws))["event"] == "unsubscribe"
    await ws.send_str(market.build_ping(1))
    assert (await recv(ws))["channel"] == "spot.pong"  # no trade frame in between
    await ws.close()


async def test_private_pushes_reach_only_the_owner(sim):
    venue, _, http, _, url = sim
    socks = {}
    for key, secret in ((KEY, SECRET), (OTHER_KEY, OTHER_SECRET)):
        ws = await http.ws_connect(url)
        creds = Credentials(key, secret)
        await ws.send_str(orders.build_login(creds, "l", now_s()))
        assert (await recv(ws))["header"]["status"] == "200"
        await ws.send_str(orders.build_private_subscribe("spot.orders", ["!all"], creds, 1,
                                                         now_s()))
        assert (await recv(ws))["error"] is None
        socks[key] = ws
    inst = venue.engines["BTC/USDT"].instrument
    order = NewOrder("mine1", "gate", "BTC/USDT", Side.BUY, 600_000, 1000, tif=TimeInForce.GTC)
    await socks[KEY].send_str(orders.build_order_place(order, inst, "p1", now_s()))
    ack, result, push = await recv(socks[KEY]), await recv(socks[KEY]), await recv(socks[KEY])
    assert ack["ack"] is True and ack["request_id"] == "p1"
    assert result["data"]["result"]["text"] == "t-mine1"
    assert result["data"]["result"]["status"] == "open"
    assert push["channel"] == "spot.orders" and push["result"][0]["event"] == "put"
    assert push["result"][0]["id"] == result["data"]["result"]["id"]
    await socks[OTHER_KEY].send_str(market.build_ping(9))
    assert (await recv(socks[OTHER_KEY]))["channel"] == "spot.pong"  # no foreign push
    for ws in socks.values():
        await ws.close()


GARBAGE = [
    "", "null", "[]", "{}", "1", '"x"', "{not json", '{"channel": 5}',
    '{"time": 1, "channel": "spot.trades", "event": "subscribe", "payload": [1.5]}',
    '{"time": 1, "channel": "spot.order_book_update", "event": "subscribe", "payload": ["BTC_USDT"]}',
    '{"time": "x", "channel": "spot.ping"}',
    '{"time": 1, "channel": "spot.order_place", "event": "api", "payload": {"req_id": "a"}}',
    '{"time": 1, "channel": "spot.order_place", "event": "api", "payload": []}',
    '{"time": 1, "channel": "spot.login", "event": "api", "payload": {"api_key": 1}}',
    ('{"time": 1, "channel": "spot.order_cancel", "event": "api", "payload": '
    '{"req_id": "b", "req_param": {"order_id": true, "currency_pair": "BTC_USDT"}}}'),
    '{"time": 1, "channel": "spot.orders", "event": "subscribe", "payload": ["!all"], '
    '"auth": {"method": "api_key", "KEY": "' + "k" * 5000 + '", "SIGN": "x"}}',
]


async def test_garbage_gets_errors_and_the_connection_survives(sim):
    _venue, _, http, base, url = sim
    ws = await http.ws_connect(url)
    for g in GARBAGE:
        await ws.send_str(g)
        d = await recv(ws)
        assert d.get("error") or d.get("data", {}).get("errs"), g
    await ws.send_bytes(b"\x00\x01")
    assert (await recv(ws))["error"]["code"] == 1
    await ws.send_str(market.build_ping(77))
    assert (await recv(ws))["time"] == 77
    await ws.close()
    # REST: label bodies, never a traceback
    async with http.post(base + "/api/v4/spot/orders", data=b"{") as r:
        assert r.status == 401 and (await r.json())["label"] == "MISSING_REQUIRED_HEADER"
    creds = Credentials(KEY, SECRET)
    for body, label in (("{", "INVALID_REQUEST_BODY"), ('{"side": "up"}', "INVALID_PARAM_VALUE"),
                        (('{"currency_pair": "BTC_USDT", "side": "buy", "amount": "1e99999",'
                         ' "price": "1"}'), "INVALID_PARAM_VALUE")):
        hdr = rest_headers(creds, "POST", "/api/v4/spot/orders", "", body, now_s())
        async with http.post(base + "/api/v4/spot/orders", data=body, headers=hdr) as r:
            assert r.status == 400 and (await r.json())["label"] == label, body
    hdr = rest_headers(Credentials(KEY, "wrong"), "GET", "/api/v4/spot/open_orders", "", "",
                       now_s())
    async with http.get(base + "/api/v4/spot/open_orders", headers=hdr) as r:
        assert r.status == 401 and (await r.json())["label"] == "INVALID_SIGNATURE"
    hdr = rest_headers(creds, "GET", "/api/v4/spot/open_orders", "", "", now_s() - 120)
    async with http.get(base + "/api/v4/spot/open_orders", headers=hdr) as r:
        assert r.status == 401 and (await r.json())["label"] == "REQUEST_EXPIRED"
    async with http.get(base + "/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=x") as r:
        assert r.status == 400 and (await r.json())["label"] == "INVALID_PARAM_VALUE"

"""The simulated Binance front-end's wire contract, spoken by raw clients: stream control
(SUBSCRIBE/UNSUBSCRIBE/LIST/properties, raw and combined forms, partial depth), WS API
refusals (bad key, signature, stale timestamp, malformed frames) and REST headers, signing
and limits. Hostile input must get Binance's own error and leave the front serving."""
from __future__ import annotations

import time
from typing import Any

import aiohttp
import orjson

from feeds.binance.protocol import orders as O
from feeds.binance.protocol.signing import signed_rest_query
from feeds.sim.venue import CROWD
from pipeline.model import Side, TimeInForce

from .conftest import KEY, MID, SECRET, BinanceSim, crowd_order

BTC = "BTC/USDT"


def ms() -> int:
    return time.time_ns() // 1_000_000


async def recv_json(ws: aiohttp.ClientWebSocketResponse) -> Any:
    msg = await ws.receive(timeout=5)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return orjson.loads(msg.data)


async def test_raw_stream_control_and_partial_depth(binance_sim: BinanceSim) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(binance_sim.ws_public + "/ws") as ws:
        await ws.send_str('{"method":"SUBSCRIBE","params":["btcusdt@depth5"],"id":1}')
        assert await recv_json(ws) == {"result": None, "id": 1}
        await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":"a2"}')
        assert await recv_json(ws) == {"result": ["btcusdt@depth5"], "id": "a2"}
        crowd_order(binance_sim.venue, BTC, Side.BUY, MID[BTC] - 3, 100)
        book = await recv_json(ws)     # raw form: the payload itself, no envelope
        eng = binance_sim.venue.engines[BTC]
        assert book["lastUpdateId"] == eng.sequence and len(book["bids"]) == 5
        assert book["bids"][0] == ["64999.97000000", "0.00100000"]
        await ws.send_str('{"method":"SET_PROPERTY","params":["combined",true],"id":3}')
        assert await recv_json(ws) == {"result": None, "id": 3}
        await ws.send_str('{"method":"GET_PROPERTY","params":["combined"],"id":4}')
        assert await recv_json(ws) == {"result": True, "id": 4}
        await ws.send_str('{"method":"UNSUBSCRIBE","params":["btcusdt@depth5"],"id":5}')
        assert await recv_json(ws) == {"result": None, "id": 5}
    # a fresh connection: five control messages in one second is the venue's limit
    async with aiohttp.ClientSession() as s, s.ws_connect(binance_sim.ws_public + "/ws") as ws:
        await ws.send_str("{not json")
        assert (await recv_json(ws))["code"] == 3
        await ws.send_str('{"method":"EXPLODE","id":6}')
        assert (await recv_json(ws))["code"] == 2


async def test_stream_message_rate_limit_disconnects(binance_sim: BinanceSim) -> None:
    async with aiohttp.ClientSession() as s, \
            s.ws_connect(binance_sim.ws_public + "/ws/btcusdt@trade") as ws:
        for i in range(7):
            await ws.send_str(f'{{"method":"LIST_SUBSCRIPTIONS","id":{i}}}')
        got = []
        while True:
            msg = await ws.receive(timeout=5)
            if msg.type != aiohttp.WSMsgType.TEXT:
                break
            got.append(orjson.loads(msg.data))
        assert len(got) == 5 and got[0] == {"result": ["btcusdt@trade"], "id": 0}
        assert ws.closed


async def test_combined_stream_envelope_for_trades_and_book_ticker(binance_sim: BinanceSim
                                                                   ) -> None:
    url = binance_sim.ws_public + "/stream?streams=ethusdt@trade/ethusdt@bookTicker"
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":1}')
        await recv_json(ws)  # subscribed from the URL before any market event
        venue = binance_sim.venue
        best_ask = venue.engines["ETH/USDT"].best()[1]
        crowd_order(venue, "ETH/USDT", Side.BUY, best_ask[0], 100, TimeInForce.IOC)
        got = {}
        for _ in range(2):  # one of each; the venue orders streams as it likes
            m = await recv_json(ws)
            got[m["stream"]] = m["data"]
        t = got["ethusdt@trade"]
        assert (t["e"], t["s"], t["m"], t["q"]) == ("trade", "ETHUSDT", False, "0.01000000")
        assert set(got["ethusdt@bookTicker"]) == {"u", "s", "b", "B", "a", "A"}


async def test_ws_api_refusals_are_binance_errors(binance_sim: BinanceSim) -> None:
    def place(secret: str = SECRET, key: str = KEY, ts: int | None = None) -> str:
        p = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "price": "60000", "quantity": "0.001", "apiKey": key,
             "timestamp": ms() if ts is None else ts}
        p["signature"] = O.sign_ws(secret, p)
        return orjson.dumps({"id": "r1", "method": "order.place", "params": p}).decode()

    cases = [
        (place(secret="bad"), 400, -1022),
        (place(key="nobody"), 401, -2015),
        (place(ts=ms() - 60_000), 400, -1021),
        ("[1,2]", 400, -1100),
        ('{"id":1,"method":"order.place","params":{"symbol":"BTCUSDT"}}', 400, -1102),
        ('{"id":1,"method":"no.such","params":{}}', 400, -1100),
        (b"\xff\xfe".decode("latin-1"), 400, -1100),
    ]
    async with aiohttp.ClientSession() as s, s.ws_connect(binance_sim.ws_private) as ws:
        for frame, status, code in cases:
            await ws.send_str(frame)
            r = await recv_json(ws)
            assert (r["status"], r["error"]["code"]) == (status, code), frame
            assert r["rateLimits"][-1]["rateLimitType"] == "REQUEST_WEIGHT"
        await ws.send_str(place())
        ok = await recv_json(ws)
        assert ok["status"] == 200 and ok["result"]["status"] == "NEW"
        assert [rl["rateLimitType"] for rl in ok["rateLimits"]] == ["ORDERS", "ORDERS",
                                                                   "REQUEST_WEIGHT"]
        await ws.send_str('{"id":"t","method":"time"}')
        assert abs((await recv_json(ws))["result"]["serverTime"] - ms()) < 5_000


async def test_rest_signed_endpoints_headers_and_errors(binance_sim: BinanceSim) -> None:
    rest = binance_sim.rest
    hdr = {"X-MBX-APIKEY": KEY}
    async with aiohttp.ClientSession() as s:
        q = signed_rest_query([("symbol", "BTCUSDT"), ("side", "SELL"), ("type", "LIMIT"),
                               ("timeInForce", "GTC"), ("quantity", "0.01"),
                               ("price", "70000"), ("newClientOrderId", "rest-1"),
                               ("timestamp", ms())], SECRET)
        async with s.post(rest + "/api/v3/order", data=q, headers={
                **hdr, "Content-Type": "application/x-www-form-urlencoded"}) as r:
            body = await r.json()
            assert r.status == 200 and body["clientOrderId"] == "rest-1"
            assert body["fills"] == [] and body["status"] == "NEW"  # FULL by default
            assert int(r.headers["X-MBX-USED-WEIGHT-1M"]) > 0
            assert r.headers["X-MBX-ORDER-COUNT-10S"] == "1"
        q = signed_rest_query([("symbol", "BTCUSDT"), ("origClientOrderId", "rest-1"),
                               ("timestamp", ms())], SECRET)
        async with s.get(f"{rest}/api/v3/order?{q}", headers=hdr) as r:
            assert (await r.json())["status"] == "NEW"
        async with s.get(f"{rest}/api/v3/order?{q[:-3]}abc", headers=hdr) as r:
            assert r.status == 400 and (await r.json())["code"] == -1022
        async with s.get(f"{rest}/api/v3/order?{q}") as r:
            assert r.status == 401 and (await r.json())["code"] == -2014
        async with s.get(f"{rest}/api/v3/account?{signed_rest_query([('timestamp', ms())], SECRET)}",
                         headers=hdr) as r:
            acct = await r.json()
            usdt = next(b for b in acct["balances"] if b["asset"] == "BTC")
            assert usdt == {"asset": "BTC", "free": "19.99000000", "locked": "0.01000000"}
        async with s.get(rest + "/api/v3/depth", params={"symbol": "NOPE"}) as r:
            assert r.status == 400 and (await r.json())["code"] == -1121
        async with s.get(rest + "/api/v3/depth", params={"symbol": "BTCUSDT",
                                                          "limit": "x"}) as r:
            assert r.status == 400 and (await r.json())["code"] == -1100
        binance_sim.front.weight_limit = 1
        async with s.get(rest + "/api/v3/exchangeInfo") as r:
            assert r.status == 429 and (await r.json())["code"] == -1003
            assert int(r.headers["Retry-After"]) >= 1
    assert CROWD not in binance_sim.front._orders

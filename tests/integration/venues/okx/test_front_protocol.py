"""The simulated OKX front-end's wire behaviour for clients that misbehave or probe.

Every frame is read with the OKX codec's client parsers where one exists, so the shapes are
checked from the client side too. Garbage never breaks a connection; errors carry OKX's codes.
"""
from __future__ import annotations

import time

import aiohttp
import orjson

from feeds.okx.protocol import market as m
from feeds.okx.protocol import orders as o
from feeds.okx.protocol.signing import Credentials, iso_timestamp, rest_headers

from .conftest import KEY, PASSPHRASE, SECRET, OkxSim


async def recv(ws: aiohttp.ClientWebSocketResponse) -> str:
    msg = await ws.receive(timeout=5)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return msg.data


async def test_public_ping_subscribe_errors_and_garbage(okx_sim: OkxSim):
    async with aiohttp.ClientSession() as http, http.ws_connect(okx_sim.ws_public) as ws:
        await ws.send_str("ping")
        assert await recv(ws) == "pong"
        for bad, code in (("{not json", "60012"), ("[1,2]", "60012"),
                          ('{"op":"subscribe","args":[]}', "60012"),
                          ('{"op":"subscribe","args":[{"channel":1}]}', "60013"),
                          ('{"op":"nope","args":[{"channel":"books"}]}', "60012")):
            await ws.send_str(bad)
            ctl = m.parse_market(await recv(ws), 0)[0]
            assert ctl.kind == "error" and ctl.detail["code"] == code, bad
        for arg, code in (({"channel": "books", "instId": "NOPE-USDT"}, "60018"),
                          ({"channel": "candle1m", "instId": "BTC-USDT"}, "60018"),
                          ({"channel": "books-l2-tbt", "instId": "BTC-USDT"}, "64003")):
            await ws.send_str(orjson.dumps({"id": "7", "op": "subscribe",
                                            "args": [arg]}).decode())
            ctl = m.parse_market(await recv(ws), 0)[0]
            assert ctl.kind == "error" and ctl.detail["code"] == code
            assert ctl.detail["id"] == "7"
        # each ack is followed by the channel's current state (bbo, then the books snapshot)
        await ws.send_str(m.build_subscribe(["BTC-USDT"], ["bbo-tbt", "books"], "9")[0])
        frames = [await recv(ws) for _ in range(4)]
        ack1, bbo, ack2, snap = (m.parse_market(f, 0)[0] for f in frames)
        assert ack1.kind == ack2.kind == "ack" and ack1.detail["id"] == "9"
        assert bbo.bid_px > 0 and bbo.ask_px > bbo.bid_px
        assert snap.is_snapshot and snap.prev_id == -1
        assert snap.last_id == okx_sim.front.published_seq("BTC/USDT")
        assert len(snap.bids) == len(okx_sim.venue.engines["BTC/USDT"].depth(400)[0])
        assert not ws.closed


async def test_private_login_errors_and_trading_before_login(okx_sim: OkxSim):
    creds = Credentials(KEY, SECRET, PASSPHRASE)
    now = int(time.time())
    async with aiohttp.ClientSession() as http, http.ws_connect(okx_sim.ws_private) as ws:
        # a trading op before login: op error 60011 under the request id
        await ws.send_str('{"id":"1","op":"order","args":[{"instIdCode":100001,"side":"buy",'
                          '"ordType":"limit","tdMode":"cash","sz":"0.001","px":"1"}]}')
        r = o.parse_op_response(orjson.loads(await recv(ws)))
        assert (r.req_id, r.code) == ("1", "60011")
        cases = [
            (Credentials("unknown-key", SECRET, PASSPHRASE), now, "60005"),
            (Credentials(KEY, SECRET, "bad pass"), now, "60024"),
            (Credentials(KEY, "bad secret", PASSPHRASE), now, "60007"),
            (creds, now - 120, "60006"),
        ]
        for c, ts, code in cases:
            await ws.send_str(o.build_login(c, ts))
            ctl = o.parse_private(await recv(ws), 0, {})[0]
            assert ctl.kind == "error" and ctl.detail["code"] == code
        await ws.send_str('{"op":"login","args":[{"apiKey":1}]}')
        assert o.parse_private(await recv(ws), 0, {})[0].detail["code"] == "60012"
        # a bad args trading op is answered as an op error, invalid args
        await ws.send_str(o.build_login(creds, now))
        assert o.parse_private(await recv(ws), 0, {})[0].kind == "ack"
        await ws.send_str('{"id":"2","op":"order","args":[{"instIdCode":"x"}]}')
        r = o.parse_op_response(orjson.loads(await recv(ws)))
        assert (r.req_id, r.code, r.items) == ("2", "60013", ())
        # an unknown instIdCode is a per-item 51001
        await ws.send_str('{"id":"3","op":"order","args":[{"instIdCode":999,"side":"buy",'
                          '"ordType":"limit","tdMode":"cash","sz":"0.001","px":"1"}]}')
        r = o.parse_op_response(orjson.loads(await recv(ws)))
        assert r.code == "1" and r.items[0].s_code == "51001"
        assert not ws.closed


async def test_rest_auth_and_parameter_errors(okx_sim: OkxSim):
    async with aiohttp.ClientSession() as http:
        async def get(path: str, headers: dict | None = None) -> tuple[int, dict]:
            async with http.get(okx_sim.rest + path, headers=headers) as resp:
                return resp.status, await resp.json()
        assert (await get("/api/v5/public/instruments"))[1]["code"] == "50014"
        st, body = await get("/api/v5/public/instruments?instType=SPOT")
        assert st == 200 and [d["instIdCode"] for d in body["data"]] == [100001, 100002]
        assert (await get("/api/v5/market/books?instId=NOPE-X"))[1]["code"] == "51001"
        assert (await get("/api/v5/market/books?instId=BTC-USDT&sz=401"))[1]["code"] == "51000"
        st, body = await get("/api/v5/trade/orders-pending")
        assert (st, body["code"]) == (401, "50103")
        creds = Credentials(KEY, SECRET, PASSPHRASE)
        req = o.rest_orders_pending(creds, int(time.time() * 1000) - 60_000)
        st, body = await get(req.request_path, req.headers)
        assert (st, body["code"]) == (401, "50102")
        req = o.rest_orders_pending(Credentials(KEY, "wrong", PASSPHRASE),
                                    int(time.time() * 1000))
        st, body = await get(req.request_path, req.headers)
        assert (st, body["code"]) == (401, "50113")
        signed = o.rest_cancel_all_after(creds, int(time.time() * 1000), 0)
        bad = signed.body.replace('"0"', '"5"')  # 5 s is outside 0 / 10-120; re-sign it
        ts = iso_timestamp(int(time.time() * 1000))
        headers = rest_headers(creds, ts, "POST", signed.path, bad)
        async with http.post(okx_sim.rest + signed.path, data=bad, headers=headers) as resp:
            assert (await resp.json())["code"] == "51000"
        headers = rest_headers(creds, ts, "POST", "/api/v5/trade/order", "{oops")
        async with http.post(okx_sim.rest + "/api/v5/trade/order", data="{oops",
                             headers=headers) as resp:
            assert (await resp.json())["code"] == "51000"


async def test_a_batch_of_placements_is_pushed_as_one_orders_update(okx_sim: OkxSim):
    """OKX packs simultaneous order updates into one `orders` push (several `data` items)."""
    creds = Credentials(KEY, SECRET, PASSPHRASE)
    inst = okx_sim.venue.by_symbol["BTC/USDT"]
    bid = okx_sim.venue.engines["BTC/USDT"].best()[0][0]
    px = str(inst.ticks_to_price(bid - 50))
    async with aiohttp.ClientSession() as http, http.ws_connect(okx_sim.ws_private) as ws:
        await ws.send_str(o.build_login(creds, int(time.time())))
        assert o.parse_private(await recv(ws), 0, {})[0].kind == "ack"
        await ws.send_str(o.build_orders_subscribe("s1"))
        assert orjson.loads(await recv(ws))["event"] == "subscribe"
        args = [{"instIdCode": inst.venue_code, "side": "buy", "ordType": "limit",
                 "tdMode": "cash", "sz": "0.001", "px": px, "clOrdId": f"pk{i}"}
                for i in range(3)]
        await ws.send_str(orjson.dumps({"id": "9", "op": "batch-orders",
                                        "args": args}).decode())
        frames = [orjson.loads(await recv(ws)) for _ in range(3)]
    [answer] = [f for f in frames if f.get("op") == "batch-orders"]
    [push] = [f for f in frames if f.get("arg", {}).get("channel") == "orders"]
    assert [i["sCode"] for i in answer["data"]] == ["0", "0", "0"]
    assert [d["clOrdId"] for d in push["data"]] == ["pk0", "pk1", "pk2"]
    assert {d["state"] for d in push["data"]} == {"live"}
    reports = o.parse_private(orjson.dumps(push), 0, {inst.venue_symbol: inst})
    assert [r.client_id for r in reports] == ["pk0", "pk1", "pk2"]

"""The simulated Binance venue's WS API order path answers byte for byte as before its
speed-ups: every frame of seeded runs of signed WS API requests hashes to what the code
before the change sent (digests recorded at commit d32ad79, the code before any of the
order-path speed-ups of issue #3).

One in-process `BinanceFront` (no sockets: each connection's outbox is read back) serves WS
API connections (two subscribed to one account's user-data stream, one to another account's,
one with `returnRateLimits=false` trading for an account nobody subscribed to, one never
subscribed) and market-stream connections, while
a crowd book moves between requests. The seeded mix: resting and crossing LIMIT (GTC, IOC,
FOK), LIMIT_MAKER (resting and refused for crossing), MARKET, every `newOrderRespType`,
`recvWindow` as int, string and absent, `returnRateLimits: false`, cancels by `orderId` and by
`origClientOrderId` (with and without `newClientOrderId`), unknown orders, cancel-all, order
and open-order status, account, trades, ping/time/session calls, bad signatures, unknown keys,
stale timestamps, malformed frames and parameters, user-data unsubscribe mid-run, the
order-count limit, and (optionally) a scripted fault plan's forced rejects, rate limits and
lost acks.
"""
from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from feeds.binance.protocol.signing import sign_ws
from feeds.sim.binance_front import ApiConn, StreamConn, make_front
from feeds.sim.venue import SimVenue
from pipeline.errors import ProtocolError
from tests.unit.feeds.sim.market_trace import digest
from tests.unit.feeds.sim.order_trace import Clock, Crowd, FakeWs, ScriptedFaults

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
VSYM = {"BTC/USDT": "BTCUSDT", "ETH/USDT": "ETHUSDT"}
MID = {"BTC/USDT": 6_500_000, "ETH/USDT": 320_000}   # ticks of 0.01
LOT = {"BTC/USDT": 100, "ETH/USDT": 100}             # 0.001 BTC (lot 1e-5), 0.01 ETH (1e-4)
STEP = {"BTC/USDT": 100, "ETH/USDT": 10}             # ticks between crowd levels
CROWD_BOOK = Crowd(SYMBOLS, MID, LOT, STEP)
KEYS = {"k1": "secret1", "k2": "secret2", "k3": "secret3"}   # k3: no user-data stream


def _px(ticks: int) -> str:
    s = f"{ticks / 100:.2f}"
    return s.rstrip("0").rstrip(".") if ticks % 7 else s   # both spellings reach the venue


def _qty(sym: str, lots: int) -> str:
    return f"{lots / 10**5:.5f}" if sym == "BTC/USDT" else f"{lots / 10**4:.4f}"


class Script:
    """Builds the seeded request frames and remembers what was placed (to cancel it)."""

    def __init__(self, rng: random.Random, clock: Clock) -> None:
        self.rng = rng
        self.clock = clock
        self.n = 0
        self.live: list[tuple[str, str, str]] = []   # (symbol, clientOrderId, key)
        self.order_ids: dict[str, int] = {}         # clientOrderId -> orderId

    def rid(self) -> int | str:
        self.n += 1
        return self.n if self.n % 3 else f"r{self.n}"

    def frame(self, method: str, params: dict[str, Any], key: str | None = "k1",
              signed: bool = True, secret: str | None = None) -> str:
        p = dict(params)
        if key is not None:
            p["apiKey"] = key
        if signed:
            p.setdefault("timestamp", self.clock.t // 1_000_000)
            try:
                p["signature"] = sign_ws(secret or KEYS.get(key or "", "nosecret"), p)
            except ProtocolError:   # a float cannot be signed: the venue must refuse it
                p["signature"] = "0" * 64
        return orjson.dumps({"id": self.rid(), "method": method, "params": p}).decode()

    def place(self, key: str) -> str:
        rng = self.rng
        sym = rng.choice(SYMBOLS)
        mid, lot, step = MID[sym], LOT[sym], STEP[sym]
        side = rng.choice(("BUY", "SELL"))
        kind = rng.choice(("maker", "maker", "gtc", "gtc", "ioc", "fok", "market", "maker_x",
                           "gtc_x"))
        sign = -1 if side == "BUY" else 1
        if kind in ("maker", "gtc"):
            ticks = mid + sign * rng.randint(3, 40) * step
        else:   # crossing: takes a level or two (maker_x: refused, would take)
            ticks = mid - sign * rng.randint(1, 4) * step
        cid = f"c{self.n}x{rng.randint(0, 999)}"
        p: dict[str, Any] = {"symbol": VSYM[sym], "side": side,
                             "quantity": _qty(sym, lot * rng.randint(1, 4))}
        if kind in ("maker", "maker_x"):
            p["type"] = "LIMIT_MAKER"
        elif kind == "market":
            p["type"] = "MARKET"
        else:
            p["type"] = "LIMIT"
            p["timeInForce"] = {"gtc": "GTC", "gtc_x": "GTC", "ioc": "IOC", "fok": "FOK"}[kind]
        if kind != "market":
            p["price"] = _px(ticks)
        r = rng.random()
        if r < 0.8:
            p["newClientOrderId"] = cid
            if kind in ("maker", "gtc", "gtc_x"):
                self.live.append((sym, cid, key))
        resp = rng.choice(("RESULT", "RESULT", "FULL", "ACK", None))
        if resp is not None:
            p["newOrderRespType"] = resp
        w = rng.random()
        if w < 0.15:
            p["recvWindow"] = 10_000
        elif w < 0.25:
            p["recvWindow"] = "7000"
        elif w < 0.3:
            p["recvWindow"] = 5000.5
        if rng.random() < 0.1:
            p["returnRateLimits"] = False
        return self.frame("order.place", p, key)

    def cancel(self) -> tuple[str, str]:
        rng = self.rng
        if not self.live or rng.random() < 0.1:
            sym = rng.choice(SYMBOLS)
            return self.frame("order.cancel", {"symbol": VSYM[sym],
                                               "origClientOrderId": "nosuch"}), "k1"
        sym, cid, key = self.live.pop(rng.randrange(len(self.live)))
        p: dict[str, Any] = {"symbol": VSYM[sym]}
        r = rng.random()
        if cid in self.order_ids and r < 0.4:
            p["orderId"] = self.order_ids[cid]
            if r < 0.1:
                p["origClientOrderId"] = cid
        else:
            p["origClientOrderId"] = cid
        if rng.random() < 0.3:
            p["newClientOrderId"] = f"x{self.n}"
        return self.frame("order.cancel", p, key), key

    def other(self) -> str:
        rng = self.rng
        sym = VSYM[rng.choice(SYMBOLS)]
        t = self.clock.t // 1_000_000
        return rng.choice([
            self.frame("ping", {}, None, signed=False),
            self.frame("time", {}, None, signed=False),
            self.frame("session.status", {}, None, signed=False),
            self.frame("order.status", {"symbol": sym, "origClientOrderId": "nosuch"}),
            self.frame("openOrders.status", {"symbol": sym}),
            self.frame("openOrders.status", {}),
            self.frame("account.status", {}),
            self.frame("myTrades", {"symbol": sym, "limit": 5}),
            self.frame("order.place", {"symbol": sym, "side": "BUY", "type": "LIMIT",
                                       "timeInForce": "GTC", "price": "1", "quantity": "1"},
                       secret="wrong"),                                  # bad signature
            self.frame("order.place", {"symbol": sym, "side": "BUY", "type": "LIMIT",
                                       "timeInForce": "GTC", "price": "1", "quantity": "1"},
                       key="nokey"),                                     # unknown key
            self.frame("order.place", {"symbol": sym, "side": "BUY", "type": "LIMIT_MAKER",
                                       "price": "1", "quantity": "1", "timestamp": t - 60_000}),
            self.frame("order.place", {"symbol": sym, "side": "UP", "type": "LIMIT",
                                       "price": "1", "quantity": "1"}),
            self.frame("order.place", {"symbol": sym, "side": "BUY", "type": "LIMIT",
                                       "price": "1", "quantity": "1"}),   # no timeInForce
            self.frame("order.place", {"symbol": sym, "side": "BUY", "type": "LIMIT_MAKER",
                                       "price": "1.001", "quantity": "1"}),  # off tick
            self.frame("order.place", {"symbol": sym, "side": "BUY", "type": "LIMIT_MAKER",
                                       "price": "1", "quantity": "-1"}),
            self.frame("order.place", {"symbol": "NOSUCH", "side": "BUY",
                                       "type": "LIMIT_MAKER", "price": "1", "quantity": "1"}),
            self.frame("order.cancel", {"symbol": sym}),
            self.frame("order.cancel", {"symbol": sym, "orderId": 10**9}),
            self.frame("order.place", {"symbol": sym, "side": "BUY", "type": "LIMIT_MAKER",
                                       "price": "1", "quantity": "1", "newClientOrderId": "b@d"}),
            '{"id":1,"method":"order.place","params":{"symbol":["x"]}}',
            '{"id":true,"method":"ping"}', "{not json", "[]",
            '{"id":"q1","method":"nosuch","params":{}}',
        ])


def _subscribe(script: Script, key: str) -> str:
    return script.frame("userDataStream.subscribe.signature", {}, key)


def order_frames(seed: int, steps: int = 400, faults: bool = False) -> list[str]:
    """The trace: `"<connection> <frame>"` lines, every connection's frames in order."""
    rng = random.Random(seed)
    clock = Clock()
    venue = SimVenue("binance", SYMBOLS, KEYS, clock)
    front, _ = make_front(venue, orders_per_10s=25)
    CROWD_BOOK.seed(venue)
    conns: list[Any] = []

    def api(rate_limits: bool = True) -> ApiConn:
        c = ApiConn(FakeWs(), "127.0.0.1", venue, rate_limits)  # type: ignore[arg-type]
        front.api.add(c)
        conns.append(c)
        return c

    def stream(names: list[str], combined: bool) -> StreamConn:
        c = StreamConn(FakeWs(), "127.0.0.2", venue, combined)  # type: ignore[arg-type]
        c.subs.update(names)
        front.streams.add(c)
        conns.append(c)
        return c

    def send(c: ApiConn, frame: str) -> None:
        clock.t += rng.randint(1_000, 900_000)
        front.on_api_frame(c, frame)

    a_sub1, a_sub2, b_sub, quiet, plain = api(), api(), api(), api(False), api()
    stream(["btcusdt@depth", "btcusdt@bookTicker", "btcusdt@trade", "ethusdt@depth5"], True)
    stream(["ethusdt@depth@100ms", "ethusdt@trade", "btcusdt@depth10@100ms"], False)
    script = Script(rng, clock)
    send(a_sub1, _subscribe(script, "k1"))
    send(a_sub2, _subscribe(script, "k1"))
    send(a_sub2, _subscribe(script, "k1"))     # the same subscription again
    send(b_sub, _subscribe(script, "k2"))
    send(plain, script.frame("userDataStream.subscribe", {}, None, signed=False))
    if faults:
        venue.faults = ScriptedFaults()
    senders = [(a_sub1, "k1"), (a_sub1, "k1"), (a_sub2, "k1"), (b_sub, "k2"), (quiet, "k3"),
               (plain, "k2")]
    by_key = {"k1": [a_sub1, a_sub2], "k2": [b_sub, plain], "k3": [quiet]}
    for step in range(steps):
        for _ in range(rng.randint(0, 3)):
            CROWD_BOOK.move(venue, rng)
        if step % 100 == 99:
            clock.t += 10 * 10**9   # the next 10 s order-count window
        c, key = rng.choice(senders)
        r = rng.random()
        if r < 0.5:
            frame = script.place(key)
        elif r < 0.85:
            frame, key = script.cancel()
            c = rng.choice(by_key[key])
        elif r < 0.88:
            frame = script.frame("openOrders.cancelAll", {"symbol": VSYM[rng.choice(SYMBOLS)]},
                                 key)
        else:
            frame = script.other()
        n0 = len(c.out._frames)
        send(c, frame)
        for _, out in list(c.out._frames)[n0:]:   # orderIds, for cancels by orderId
            d = orjson.loads(out)
            res = d.get("result") if isinstance(d, dict) else None
            if isinstance(res, dict) and "orderId" in res and "clientOrderId" in res \
                    and "origClientOrderId" not in res:
                script.order_ids[res["clientOrderId"]] = res["orderId"]
        if step == steps // 2:
            send(a_sub2, script.frame("userDataStream.unsubscribe", {}, None, signed=False))
        if step == 3 * steps // 4:
            venue.stale = True
        if step == 3 * steps // 4 + 20:
            venue.stale = False
            venue.suppress_depth.add("ETH/USDT")
    return [f"{i} {f}" for i, c in enumerate(conns) for _, f in c.out._frames]



ORDER_DIGESTS: dict[tuple[int, bool], str] = {
    (1, False): "abe22c95682a43898332d145fbff3f7555e4aa01aa47b757f713d1011749c162",
    (1, True): "1a4318d4b10b1cdd3208477bd3ebc518a1eee1b46800550b8a4f79d83236ec9b",
    (2, False): "b1f5c88729eb4c22b38b1242a0d797e69216606a6795f29c1269042a6bdd5ca9",
    (2, True): "58243c6152afcae0b6452e82791c805c3debacab8ac6067c2cc7125ae3b43d70",
}
KINDS = ['"x":"NEW"', '"x":"CANCELED"', '"x":"TRADE"', '"x":"EXPIRED"', '"X":"FILLED"',
         '"X":"PARTIALLY_FILLED"', '"outboundAccountPosition"', '"fills":[{',
         '"code":-2010', '"code":-2011', '"code":-1022', '"code":-2015', '"code":-1021',
         '"code":-1015', '"code":-1102', '"rateLimits"', '"e":"depthUpdate"',
         '"e":"trade"', '"lastUpdateId"', '"stream":"btcusdt@bookTicker"']


@pytest.mark.parametrize("faults", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_binance_order_path_frames_are_the_original_bytes(seed: int, faults: bool) -> None:
    frames = order_frames(seed, faults=faults)
    text = "\n".join(frames)
    assert len(frames) > 2000
    assert [k for k in KINDS if k not in text] == []   # a real mix
    assert digest(frames) == ORDER_DIGESTS[seed, faults]

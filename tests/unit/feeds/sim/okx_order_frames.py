"""Every frame the simulated OKX venue sends during a seeded run of WebSocket requests, per
connection and in order: the trace that pins the order path's bytes.

One in-process `OkxFront` (no sockets: each `Session`'s outbox is read back) serves private
connections logged in with a real signed `login` (one subscribed to `orders` for every
instrument, one for BTC-USDT only, one of another account, one never logged in) and public
connections that subscribe and unsubscribe mid-run. A seeded mix of requests runs against a
crowd book that moves between them: resting and crossing places, IOC, FOK, market buys sized
in quote, tags and `tgtCcy`, batches with a bad item, cancels by `ordId` and `clOrdId`,
unknown orders, malformed frames and arguments, pings, a dead-man expiry, and (optionally) a
fault plan's forced rejects, rate limits and lost acks. Two implementations of the order path
answer byte for byte the same exactly when their traces are equal; `market_trace.digest`
pins one.
"""
from __future__ import annotations

import random
from typing import Any

import orjson

from feeds.okx.protocol.signing import sign_ws_login
from feeds.sim.okx_front import Session, make_front
from feeds.sim.venue import SimVenue
from tests.unit.feeds.sim.order_trace import Clock, Crowd, FakeWs, ScriptedFaults

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
MID = {"BTC/USDT": 650_000, "ETH/USDT": 320_000}   # ticks (0.1, 0.01)
LOT = {"BTC/USDT": 100_000, "ETH/USDT": 1_000}     # 0.001 BTC, 0.001 ETH
CODE = {"BTC/USDT": 100001, "ETH/USDT": 100002}
KEYS = {"k1": "secret1", "k2": "secret2"}
PASSPHRASES = {"k1": "pass1", "k2": "pass2"}
CROWD_BOOK = Crowd(SYMBOLS, MID, LOT, {s: 10 for s in SYMBOLS})
_crowd = Crowd.order


def _px(sym: str, ticks: int) -> str:
    return str(ticks / 10) if sym == "BTC/USDT" else f"{ticks / 100:.2f}"


def _sz(sym: str, lots: int) -> str:
    return f"{lots / 10**8:.8f}" if sym == "BTC/USDT" else f"{lots / 10**6:.6f}"


class Script:
    """Builds the seeded request frames and remembers what was placed (to cancel it)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.n = 0
        self.live: list[tuple[str, str]] = []   # (symbol, clOrdId)

    def rid(self) -> str:
        self.n += 1
        return f"r{self.n}"

    def place_arg(self) -> dict[str, Any]:
        rng = self.rng
        sym = rng.choice(SYMBOLS)
        mid, lot = MID[sym], LOT[sym]
        side = rng.choice(("buy", "sell"))
        kind = rng.choice(("post_only", "post_only", "limit", "limit", "ioc", "fok", "market",
                           "post_cross"))
        sign = -1 if side == "buy" else 1
        if kind in ("post_only", "limit"):
            ticks = mid + sign * rng.randint(5, 60) * 10
        else:   # crossing: takes a level or two (post_cross: refused, would take)
            ticks = mid - sign * rng.randint(1, 4) * 10
        cl = f"c{self.n}x{rng.randint(0, 999)}"
        a: dict[str, Any] = {"instIdCode": CODE[sym], "tdMode": "cash", "side": side,
                             "ordType": "post_only" if kind == "post_cross" else kind,
                             "sz": _sz(sym, lot * rng.randint(1, 4)), "clOrdId": cl}
        if kind == "market":
            if side == "buy" and rng.random() < 0.7:
                a["sz"] = "50"            # quote-sized market buy
                if rng.random() < 0.5:
                    a["tgtCcy"] = "quote_ccy"
            else:
                a["tgtCcy"] = "base_ccy"
        else:
            a["px"] = _px(sym, ticks)
        if rng.random() < 0.3:
            a["tag"] = f"t{rng.randint(0, 9)}"
        if rng.random() < 0.2:
            del a["clOrdId"]
        elif kind in ("post_only", "limit"):
            self.live.append((sym, cl))
        return a

    def cancel_arg(self, by_ord_id: dict[str, str]) -> dict[str, Any]:
        rng = self.rng
        if not self.live or rng.random() < 0.1:
            return {"instIdCode": CODE[rng.choice(SYMBOLS)], "clOrdId": "nosuch"}
        sym, cl = self.live.pop(rng.randrange(len(self.live)))
        if cl in by_ord_id and rng.random() < 0.5:
            return {"instIdCode": CODE[sym], "ordId": by_ord_id[cl]}
        return {"instIdCode": CODE[sym], "clOrdId": cl}


def _login(key: str, now_s: int) -> str:
    return orjson.dumps({"op": "login", "args": [{
        "apiKey": key, "passphrase": PASSPHRASES[key], "timestamp": str(now_s),
        "sign": sign_ws_login(KEYS[key], now_s)}]}).decode()


def _sub(op: str, args: list[dict[str, str]], rid: str | None = None) -> str:
    d: dict[str, Any] = {"op": op, "args": args}
    if rid:
        d["id"] = rid
    return orjson.dumps(d).decode()


def order_frames(seed: int, steps: int = 400, faults: bool = False) -> list[str]:
    """The trace: `"<connection> <frame>"` lines, every connection's frames in order."""
    rng = random.Random(seed)
    clock = Clock()
    venue = SimVenue("okx", SYMBOLS, KEYS, clock, PASSPHRASES)
    front, _ = make_front(venue)
    CROWD_BOOK.seed(venue)
    conns: list[Session] = []

    def connect(private: bool) -> Session:
        s = Session(FakeWs(), len(conns) + 1, private, venue)  # type: ignore[arg-type]
        front.sessions.add(s)
        conns.append(s)
        return s

    def send(s: Session, frame: str) -> None:
        clock.t += rng.randint(1_000, 900_000)
        front._on_text(s, frame)

    p_all, p_btc, p_other, p_anon = (connect(True) for _ in range(4))
    pub_btc, pub_late = connect(False), connect(False)
    now_s = clock.t // 10**9
    send(p_all, _login("k1", now_s))
    send(p_btc, _login("k1", now_s))
    send(p_other, _login("k2", now_s))
    send(p_anon, _login("k2", now_s - 3600))       # refused: timestamp expired
    send(p_all, _sub("subscribe", [{"channel": "orders", "instType": "SPOT"}], "s1"))
    send(p_btc, _sub("subscribe", [{"channel": "orders", "instType": "SPOT",
                                    "instId": "BTC-USDT"}]))
    send(p_anon, _sub("subscribe", [{"channel": "orders", "instType": "SPOT"}]))
    send(p_other, _sub("subscribe", [{"channel": "orders", "instType": "SPOT",
                                      "instId": "ETH-USDT"}, {"channel": "orders",
                                                              "instType": "SPOT"}], "s2"))
    channels = ["books", "books5", "bbo-tbt", "tickers", "trades"]
    send(pub_btc, _sub("subscribe", [{"channel": ch, "instId": "BTC-USDT"} for ch in channels]))
    send(p_all, "ping")
    send(pub_btc, "ping")
    if faults:
        venue.faults = ScriptedFaults()
    script = Script(rng)
    by_ord_id: dict[str, str] = {}   # clOrdId -> ordId, from the op responses
    seen: dict[Session, int] = {}
    senders = [p_all, p_all, p_all, p_btc, p_other]
    for step in range(steps):
        for _ in range(rng.randint(0, 3)):
            CROWD_BOOK.move(venue, rng)
        s = rng.choice(senders)
        r = rng.random()
        if r < 0.45:
            frame = _sub("order", [script.place_arg()], script.rid())
        elif r < 0.8:
            frame = _sub("cancel-order", [script.cancel_arg(by_ord_id)], script.rid())
        elif r < 0.87:
            frame = _sub("batch-orders", [script.place_arg() for _ in range(rng.randint(2, 4))]
                         + ([{"instIdCode": 999, "tdMode": "cash", "side": "buy",
                              "ordType": "limit", "sz": "1", "px": "1"}]
                            if rng.random() < 0.3 else []), script.rid())
        elif r < 0.93:
            frame = _sub("batch-cancel-orders",
                         [script.cancel_arg(by_ord_id) for _ in range(rng.randint(2, 3))],
                         script.rid())
        else:
            frame = rng.choice([
                "ping", "{not json", '{"op":"order","id":"bad1","args":[{"instIdCode":1}]}',
                '{"op":"nosuch","id":"x1"}', _sub("order", [script.place_arg()]),
                _sub("order", [{"instIdCode": CODE["BTC/USDT"], "tdMode": "cross",
                                "side": "buy", "ordType": "limit", "sz": "0.001",
                                "px": "1000"}], script.rid())])
            s = rng.choice([p_all, p_anon, p_btc])
        send(s, frame)
        for _, out in list(s.out._frames)[seen.get(s, 0):]:   # ordIds, for cancels by ordId
            d = orjson.loads(out) if out.startswith('{"id"') else None
            if d and d.get("op") in ("order", "batch-orders"):
                for item in d["data"]:
                    if item["ordId"]:
                        by_ord_id[item["clOrdId"]] = item["ordId"]
        seen[s] = len(s.out._frames)
        if step == steps // 4:
            send(pub_late, _sub("subscribe", [{"channel": ch, "instId": i}
                                              for ch in channels
                                              for i in ("BTC-USDT", "ETH-USDT")]))
            send(pub_btc, _sub("unsubscribe", [{"channel": "books5", "instId": "BTC-USDT"}]))
        if step == steps // 2:
            send(p_btc, _sub("unsubscribe", [{"channel": "orders", "instType": "SPOT",
                                              "instId": "BTC-USDT"}]))
            front.sessions.discard(pub_btc)   # disconnected
            venue.deadman["k2"] = clock.t + 1
        if step == steps // 2 + 1:
            clock.t += 10
            venue.check_deadman()
        if step == 3 * steps // 4:
            send(p_btc, _sub("subscribe", [{"channel": "orders", "instType": "ANY"}]))
            venue.stale = True
        if step == 3 * steps // 4 + 20:
            venue.stale = False
            venue.suppress_depth.add("ETH/USDT")
    return [f"{i} {f}" for i, s in enumerate(conns) for _, f in s.out._frames]



"""The simulated Gate venue's WS order path answers byte for byte as before its speed-ups:
every frame of seeded runs of `/ws/v4/` requests hashes to what the code before the change
sent (digests recorded at commit d32ad79, the code before any of the order-path speed-ups of
issue #3).

One in-process `GateFront` (no sockets: each `Session`'s outbox is read back) serves sessions
logged in with a real signed `spot.login` (one subscribed to `spot.orders` and
`spot.usertrades` for every pair, one for BTC_USDT only, one of another account, one whose
login is refused) and public sessions on `spot.order_book_update`, `spot.book_ticker` and
`spot.trades`, while a crowd book moves between requests. The seeded mix: resting and crossing
limit orders (gtc, ioc, fok, poc refused for crossing), market buys and sells, texts and
default texts, batches with a bad item, cancels by id and by text, unknown and finished
orders, `spot.order_cancel_ids`, `spot.order_cancel_cp`, `spot.order_status`,
`spot.order_list`, SDK-style per-request signatures, expired requests, malformed frames and
parameters, pings, a private unsubscribe mid-run, and (optionally) a scripted fault plan's
forced rejects, rate limits and lost acks.
"""
from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest

from feeds.gate.protocol.signing import sign_ws_api, sign_ws_channel
from feeds.sim.gate_front import Session, make_front
from feeds.sim.venue import SimVenue
from tests.unit.feeds.sim.market_trace import digest
from tests.unit.feeds.sim.order_trace import Clock, Crowd, FakeWs, ScriptedFaults

SYMBOLS = ["BTC/USDT", "ETH/USDT"]
PAIR = {"BTC/USDT": "BTC_USDT", "ETH/USDT": "ETH_USDT"}
MID = {"BTC/USDT": 650_000, "ETH/USDT": 320_000}   # ticks of 0.1 and 0.01
LOT = {"BTC/USDT": 1_000, "ETH/USDT": 100}          # 0.001 BTC (lot 1e-6), 0.01 ETH (1e-4)
STEP = {"BTC/USDT": 10, "ETH/USDT": 10}
CROWD_BOOK = Crowd(SYMBOLS, MID, LOT, STEP)
KEYS = {"k1": "secret1", "k2": "secret2"}


def _px(sym: str, ticks: int) -> str:
    return str(ticks / 10) if sym == "BTC/USDT" else f"{ticks / 100:.2f}"


def _amount(sym: str, lots: int) -> str:
    return f"{lots / 10**6:.6f}" if sym == "BTC/USDT" else f"{lots / 10**4:.4f}"


class Script:
    """Builds the seeded request frames and remembers what was placed (to cancel it)."""

    def __init__(self, rng: random.Random, clock: Clock) -> None:
        self.rng = rng
        self.clock = clock
        self.n = 0
        self.live: list[tuple[str, str]] = []   # (symbol, text)
        self.ids: dict[str, str] = {}            # text -> order id, from the results

    def rid(self) -> str:
        self.n += 1
        return str(self.n)

    def api(self, channel: str, req_param: Any, *, sign: str | None = None,
            header: dict[str, Any] | None = None) -> str:
        payload: dict[str, Any] = {"req_id": self.rid(), "req_param": req_param}
        if header is not None:
            payload["req_header"] = header
        if sign is not None:   # the SDK's way: each request signed
            ts = str(self.clock.t // 10**9)
            payload.update(api_key=sign, timestamp=ts, signature=sign_ws_api(
                KEYS[sign], channel, json.dumps(req_param), ts))
        return orjson.dumps({"time": self.clock.t // 10**9, "channel": channel,
                             "event": "api", "payload": payload}).decode()

    def place_param(self) -> dict[str, Any]:
        rng = self.rng
        sym = rng.choice(SYMBOLS)
        mid, lot, step = MID[sym], LOT[sym], STEP[sym]
        side = rng.choice(("buy", "sell"))
        kind = rng.choice(("poc", "poc", "gtc", "gtc", "ioc", "fok", "market", "poc_x",
                           "gtc_x"))
        sign = -1 if side == "buy" else 1
        if kind in ("poc", "gtc"):
            ticks = mid + sign * rng.randint(3, 40) * step
        else:   # crossing: takes a level or two (poc_x: refused, would take)
            ticks = mid - sign * rng.randint(1, 4) * step
        text = f"t-c{self.n}x{rng.randint(0, 999)}"
        p: dict[str, Any] = {"text": text, "currency_pair": PAIR[sym], "type": "limit",
                             "account": "spot", "side": side,
                             "amount": _amount(sym, lot * rng.randint(1, 4)),
                             "price": _px(sym, ticks),
                             "time_in_force": kind.removesuffix("_x")}
        if kind == "market":
            p.update(type="market", time_in_force="ioc")
            del p["price"]
            if side == "buy":
                p["amount"] = "50"   # quote
        r = rng.random()
        if r < 0.15:
            del p["text"]
        elif kind in ("poc", "gtc", "gtc_x"):
            self.live.append((sym, text))
        if rng.random() < 0.2:
            del p["account"]
        return p

    def cancel(self) -> str:
        rng = self.rng
        if not self.live or rng.random() < 0.1:
            return self.api("spot.order_cancel", {"order_id": "t-nosuch",
                                                  "currency_pair": "BTC_USDT"})
        sym, text = self.live.pop(rng.randrange(len(self.live)))
        ref = self.ids[text] if text in self.ids and rng.random() < 0.5 else text
        return self.api("spot.order_cancel", {"order_id": ref, "currency_pair": PAIR[sym]})


def _login(key: str, rid: str, now_s: int) -> str:
    ts = str(now_s)
    return orjson.dumps({"time": now_s, "channel": "spot.login", "event": "api", "payload": {
        "req_id": rid, "api_key": key, "timestamp": ts,
        "signature": sign_ws_api(KEYS[key], "spot.login", "", ts)}}).decode()


def _channel(channel: str, event: str, payload: list[str], now_s: int,
             key: str | None = None, rid: int | None = None) -> str:
    d: dict[str, Any] = {"time": now_s, "channel": channel, "event": event, "payload": payload}
    if rid is not None:
        d["id"] = rid
    if key is not None:
        d["auth"] = {"method": "api_key", "KEY": key,
                     "SIGN": sign_ws_channel(KEYS[key], channel, event, now_s)}
    return orjson.dumps(d).decode()


def order_frames(seed: int, steps: int = 400, faults: bool = False) -> list[str]:
    """The trace: `"<session> <frame>"` lines, every session's frames in order."""
    rng = random.Random(seed)
    clock = Clock()
    venue = SimVenue("gate", SYMBOLS, KEYS, clock)
    front, _ = make_front(venue)
    CROWD_BOOK.seed(venue)
    conns: list[Session] = []

    def connect() -> Session:
        s = Session(FakeWs(), len(conns) + 1, venue)  # type: ignore[arg-type]
        front.sessions.add(s)
        conns.append(s)
        return s

    def send(s: Session, frame: str) -> None:
        clock.t += rng.randint(1_000, 90_000_000)
        front._on_text(s, frame)

    p_all, p_btc, p_other, p_anon = (connect() for _ in range(4))
    pub_btc, pub_late = connect(), connect()
    now_s = clock.t // 10**9
    send(p_all, _login("k1", "l1", now_s))
    send(p_btc, _login("k1", "l2", now_s))
    send(p_other, _login("k2", "l3", now_s))
    send(p_anon, _login("k2", "l4", now_s - 3600))   # refused: timestamp expired
    for ch in ("spot.orders", "spot.usertrades"):
        send(p_all, _channel(ch, "subscribe", ["!all"], now_s, "k1", 1))
        send(p_btc, _channel(ch, "subscribe", ["BTC_USDT"], now_s, "k1"))
        send(p_other, _channel(ch, "subscribe", ["ETH_USDT", "BTC_USDT"], now_s, "k2", 2))
    send(p_anon, _channel("spot.orders", "subscribe", ["!all"], now_s))   # no auth
    send(pub_btc, _channel("spot.order_book_update", "subscribe", ["BTC_USDT", "100ms"], now_s))
    send(pub_btc, _channel("spot.book_ticker", "subscribe", ["BTC_USDT"], now_s))
    send(pub_btc, _channel("spot.trades", "subscribe", ["BTC_USDT"], now_s, rid=7))
    send(p_all, orjson.dumps({"time": now_s, "channel": "spot.ping"}).decode())
    if faults:
        venue.faults = ScriptedFaults()
    script = Script(rng, clock)
    seen: dict[Session, int] = {}
    senders = [p_all, p_all, p_all, p_btc, p_other]
    for step in range(steps):
        for _ in range(rng.randint(0, 3)):
            CROWD_BOOK.move(venue, rng)
        s = rng.choice(senders)
        r = rng.random()
        if r < 0.45:
            frame = script.api("spot.order_place", script.place_param())
        elif r < 0.8:
            frame = script.cancel()
        elif r < 0.85:
            frame = script.api("spot.order_place", [script.place_param()
                                                    for _ in range(rng.randint(2, 3))]
                               + ([{"currency_pair": "NO_PAIR", "side": "buy",
                                    "amount": "1", "price": "1"}]
                                  if rng.random() < 0.5 else []))
        elif r < 0.88:
            items = [{"currency_pair": PAIR[sym], "id": script.ids.get(text, text)}
                     for sym, text in script.live[-2:]] + [{"currency_pair": "BTC_USDT",
                                                            "id": "123"}]
            frame = script.api("spot.order_cancel_ids", items)
        elif r < 0.9:
            frame = script.api("spot.order_cancel_cp", {"currency_pair": PAIR[rng.choice(
                SYMBOLS)], "side": rng.choice(["buy", "sell", ""])})
            script.live.clear()
        else:
            pair = PAIR[rng.choice(SYMBOLS)]
            t = clock.t // 10**6
            frame = rng.choice([
                script.api("spot.order_status", {"order_id": "t-nosuch", "currency_pair": pair}),
                script.api("spot.order_status", {"order_id": script.ids.get(
                    script.live[0][1], "1") if script.live else "1", "currency_pair": pair}),
                script.api("spot.order_list", {"currency_pair": pair, "status": "open"}),
                script.api("spot.order_list", {"currency_pair": pair, "status": "finished"}),
                script.api("spot.order_place", script.place_param(), sign="k1"),
                script.api("spot.order_place", script.place_param(),
                           header={"x-gate-exptime": str(t - 5)}),
                script.api("spot.order_place", script.place_param(),
                           header={"x-gate-exptime": str(t + 50_000)}),
                script.api("spot.order_place", {"currency_pair": pair, "side": "up",
                                                "amount": "1", "price": "1"}),
                script.api("spot.order_place", {"currency_pair": pair, "side": "buy",
                                                "amount": "1", "price": "1",
                                                "text": "bad text"}),
                script.api("spot.order_amend", {"order_id": "1", "currency_pair": pair}),
                script.api("spot.order_cancel", {"currency_pair": pair}),
                "{not json", "[]", '{"time":1,"channel":"spot.order_place","event":"api"}',
                orjson.dumps({"time": clock.t // 10**9, "channel": "spot.ping"}).decode()])
            s = rng.choice([p_all, p_anon, p_btc])
        send(s, frame)
        for _, out in list(s.out._frames)[seen.get(s, 0):]:   # order ids, for cancels by id
            d = orjson.loads(out)
            res = (d.get("data") or {}).get("result") if isinstance(d, dict) else None
            for item in res if isinstance(res, list) else [res]:
                if isinstance(item, dict) and "id" in item and "text" in item:
                    script.ids[item["text"]] = item["id"]
        seen[s] = len(s.out._frames)
        if step == steps // 4:
            now_s = clock.t // 10**9
            send(pub_late, _channel("spot.order_book_update", "subscribe",
                                    ["ETH_USDT", "100ms"], now_s))
            send(pub_late, _channel("spot.trades", "subscribe", ["BTC_USDT", "ETH_USDT"], now_s))
            send(pub_btc, _channel("spot.book_ticker", "unsubscribe", ["BTC_USDT"], now_s))
        if step == steps // 2:
            send(p_btc, _channel("spot.usertrades", "unsubscribe", ["BTC_USDT"],
                                 clock.t // 10**9, "k1"))
            front.sessions.discard(pub_btc)   # disconnected
        if step == 3 * steps // 4:
            venue.stale = True
        if step == 3 * steps // 4 + 20:
            venue.stale = False
            venue.suppress_depth.add("ETH/USDT")
    return [f"{i} {f}" for i, s in enumerate(conns) for _, f in s.out._frames]



ORDER_DIGESTS: dict[tuple[int, bool], str] = {
    (1, False): "e9c76962fa9f0b6ad34773a86a1a4184c2652b52f9b068226e4962cd57c65cfb",
    (1, True): "2ae3a62b0d230d85858170800053502123a1278493b9d09108245d9a9cb724b7",
    (2, False): "ebce2c09bcfbcbd4e303ed27e4a6c257955583b0d12fab97ef4430d09052fdb8",
    (2, True): "6a694a75a355dcb8d03d9ddb4f3f9ee8e16a10bbcf9098a242547dc89b5ca1e9",
}
KINDS = ['"channel":"spot.order_place"', '"channel":"spot.order_cancel"', '"ack":true',
         '"event":"put"', '"event":"update"', '"event":"finish"', '"finish_as":"filled"',
         '"finish_as":"cancelled"', '"finish_as":"ioc"', '"channel":"spot.usertrades"',
         '"succeeded":false', '"channel":"spot.order_cancel_ids"',
         '"channel":"spot.order_cancel_cp"', '"label":"ORDER_NOT_FOUND"',
         '"label":"REQUEST_EXPIRED"', '"channel":"spot.order_book_update","event":"update"',
         '"channel":"spot.book_ticker","event":"update"', '"channel":"spot.trades"',
         '"channel":"spot.pong"']


@pytest.mark.parametrize("faults", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_gate_order_path_frames_are_the_original_bytes(seed: int, faults: bool) -> None:
    frames = order_frames(seed, faults=faults)
    text = "\n".join(frames)
    assert len(frames) > 1500
    assert [k for k in KINDS if k not in text] == []   # a real mix
    assert digest(frames) == ORDER_DIGESTS[seed, faults]

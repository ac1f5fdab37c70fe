"""The OKX front's subscriber index and the hub's `wants_*` short cut: a push reaches exactly
the sessions subscribed when it happens, across subscribe, unsubscribe, login, `orders`
subscriptions and disconnects (also of sessions added or dropped directly); a front without
the optional `wants_*` methods still gets every call; one that wants nothing costs no
`DepthChange`, yet the published sequence and best price stay current, so a session that
subscribes mid-run gets diffs that chain and BBO pushes on real changes only."""
from __future__ import annotations

from typing import Any

import orjson

from feeds.sim.okx_front import Session, make_front
from feeds.sim.venue import DepthChange, SimVenue
from pipeline.model import Side
from tests.unit.feeds.sim.okx_order_frames import (
    CROWD_BOOK,
    KEYS,
    PASSPHRASES,
    SYMBOLS,
    Clock,
    FakeWs,
    _crowd,
    _login,
    _sub,
)

CHANNELS = ["books", "books5", "bbo-tbt", "tickers", "trades"]


def _setup() -> tuple[SimVenue, Any, Clock]:
    clock = Clock()
    venue = SimVenue("okx", SYMBOLS, KEYS, clock, PASSPHRASES)
    front, _ = make_front(venue)
    CROWD_BOOK.seed(venue)
    return venue, front, clock


def _session(front: Any, venue: SimVenue, n: int, private: bool = False) -> Session:
    s = Session(FakeWs(), n, private, venue)  # type: ignore[arg-type]
    front.sessions.add(s)
    return s


def _take(s: Session) -> list[dict[str, Any]]:
    out = [orjson.loads(f) for _, f in s.out._frames if f != "pong"]
    s.out._frames.clear()
    return out


def _channels(frames: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["arg"]["channel"], f["arg"].get("instId", "")) for f in frames
            if "data" in f and "event" not in f}


def _move_btc(venue: SimVenue, n: int) -> None:
    """A crowd bid inside the spread: a depth diff, a new best bid, a ticker change."""
    _crowd(venue, "BTC/USDT", Side.BUY, 650_000 - 5 + n, 100_000)


def test_pushes_follow_subscribe_unsubscribe_and_disconnect() -> None:
    venue, front, _ = _setup()
    a, b = _session(front, venue, 1), _session(front, venue, 2)
    assert not front.wants_depth("BTC/USDT") and not front.wants_bbo("BTC/USDT")
    front._on_text(a, _sub("subscribe", [{"channel": ch, "instId": "BTC-USDT"}
                                         for ch in CHANNELS]))
    _take(a)
    assert front.wants_depth("BTC/USDT") and front.wants_bbo("BTC/USDT")
    assert not front.wants_depth("ETH/USDT")
    _move_btc(venue, 0)
    assert _channels(_take(a)) == {(ch, "BTC-USDT") for ch in
                                   ("books", "books5", "bbo-tbt", "tickers")}
    assert _take(b) == []
    # b joins mid-run on books only; a drops books5
    front._on_text(b, _sub("subscribe", [{"channel": "books", "instId": "BTC-USDT"}]))
    front._on_text(a, _sub("unsubscribe", [{"channel": "books5", "instId": "BTC-USDT"}]))
    snap = next(f for f in _take(b) if f.get("action") == "snapshot")
    _take(a)
    _move_btc(venue, 1)
    assert _channels(_take(a)) == {("books", "BTC-USDT"), ("bbo-tbt", "BTC-USDT"),
                                   ("tickers", "BTC-USDT")}
    upd = _take(b)
    assert _channels(upd) == {("books", "BTC-USDT")}
    assert upd[0]["data"][0]["prevSeqId"] == snap["data"][0]["seqId"]   # chains
    # a disconnects (as the WS handler does); b is dropped directly (as tests do)
    front.sessions.discard(a)
    _move_btc(venue, 2)
    assert _take(a) == [] and _channels(_take(b)) == {("books", "BTC-USDT")}
    assert front.wants_depth("BTC/USDT") and not front.wants_bbo("BTC/USDT")
    front.sessions.discard(b)
    assert not front.wants_depth("BTC/USDT")


def test_order_pushes_follow_login_and_orders_subscriptions() -> None:
    venue, front, clock = _setup()
    p, q = _session(front, venue, 1, private=True), _session(front, venue, 2, private=True)
    place = ('{"id":"%s","op":"order","args":[{"instIdCode":100001,"tdMode":"cash",'
             '"side":"buy","ordType":"post_only","sz":"0.001","px":"60000","clOrdId":"%s"}]}')

    def pushes(s: Session) -> int:
        return sum(1 for f in _take(s) if f.get("arg", {}).get("channel") == "orders"
                   and "data" in f)

    front._on_text(p, _login("k1", clock.t // 10**9))
    front._on_text(p, place % ("1", "a1"))
    assert pushes(p) == 0                       # logged in, not subscribed
    front._on_text(p, _sub("subscribe", [{"channel": "orders", "instType": "SPOT",
                                          "instId": "ETH-USDT"}]))
    front._on_text(p, place % ("2", "a2"))
    assert pushes(p) == 0                       # another instrument's filter
    front._on_text(q, _login("k1", clock.t // 10**9))
    front._on_text(q, _sub("subscribe", [{"channel": "orders", "instType": "ANY"}]))
    _take(q)
    front._on_text(p, place % ("3", "a3"))
    assert pushes(p) == 0 and pushes(q) == 1    # same account, other connection
    front._on_text(p, _sub("subscribe", [{"channel": "orders", "instType": "SPOT"}]))
    front._on_text(q, _sub("unsubscribe", [{"channel": "orders", "instType": "ANY"}]))
    _take(p), _take(q)
    front._on_text(p, place % ("4", "a4"))
    assert pushes(p) == 1 and pushes(q) == 0
    front.sessions.discard(p)
    front._on_text(q, place % ("5", "a5"))
    assert pushes(p) == 0


class _Recorder:
    """A front with no `wants_*` methods (as the Binance and Gate fronts may be)."""

    def __init__(self, venue: SimVenue) -> None:
        self.calls: list[str] = []
        venue.fronts.append(self)

    def on_depth(self, change: DepthChange) -> None:
        self.calls.append("depth")

    def on_bbo(self, *a: Any) -> None:
        self.calls.append("bbo")

    def on_trade(self, *a: Any) -> None:
        self.calls.append("trade")

    def on_private(self, *a: Any) -> None:
        self.calls.append("private")


def test_a_front_without_wants_methods_gets_every_call() -> None:
    venue, _front, _ = _setup()
    rec = _Recorder(venue)
    _move_btc(venue, 0)
    assert rec.calls == ["depth", "bbo"]
    _crowd(venue, "BTC/USDT", Side.SELL, 640_000, 100_000)
    assert "trade" in rec.calls


def test_no_depth_change_is_built_when_no_front_wants_it(monkeypatch: Any) -> None:
    venue, front, _ = _setup()
    built: list[int] = []
    import feeds.sim.venue as hub

    class Counting(DepthChange):   # type: ignore[misc]
        __slots__ = ()

        def __init__(self, *a: Any) -> None:
            built.append(1)
            super().__init__(*a)

    monkeypatch.setattr(hub, "DepthChange", Counting)
    seq0 = venue.published_seq("BTC/USDT")
    _move_btc(venue, 0)
    assert built == [] and venue.published_seq("BTC/USDT") > seq0
    s = _session(front, venue, 1)
    front._on_text(s, _sub("subscribe", [{"channel": "bbo-tbt", "instId": "BTC-USDT"}]))
    _take(s)
    _crowd(venue, "BTC/USDT", Side.BUY, 600_000, 100_000)   # far below: best unchanged
    assert _take(s) == []
    _move_btc(venue, 1)                                               # best moves
    frames = _take(s)
    assert _channels(frames) == {("bbo-tbt", "BTC-USDT")} and built == []

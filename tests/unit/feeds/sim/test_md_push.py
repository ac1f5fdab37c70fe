"""The faster market-data push (memoised spellings, encoders that take spelled numbers) sends
the very bytes the original encoders sent: every frame of seeded runs on all three venues
(Binance raw and combined streams, every public channel of OKX and Gate) hashes to what the
code before the change produced (digests recorded at commit cd1b3af), on the compiled and
the pure path alike; each `*_spelled` encoder equals its original for any numbers
(hypothesis); Binance's integer `fmt8` equals `fmt8(step * n)`; the memo gives the
formatter's own strings and forgets everything when full."""
from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.binance.protocol import market as bm
from feeds.gate.protocol import market as gm
from feeds.okx.protocol import market as om
from feeds.sim import spellings
from feeds.sim.binance_front import fmt8_of_multiple
from feeds.sim.instruments import listed
from feeds.sim.spellings import Spellings
from pipeline.model import Side
from tests.unit.feeds.sim.market_trace import digest
from tests.unit.feeds.sim.md_frames import md_frames

FRAME_DIGESTS = {
    ("binance", 1): "5fa51c9323a95d4e13d431ee0bb708b14b43022cdf887f2bb35ca1404202ffe0",
    ("binance", 2): "24b510a031b87e7ef23cfbe3a040574ee9659950502cc662645815513ddf8d87",
    ("okx", 1): "8c2c0c517b89c91fdc377bbc5e6fa22761d6e95bdb9ee37379f6110dd70db821",
    ("okx", 2): "a40903def9d65d6f8647e2d006affbc325a0d318d36f396daaf2045f0cadc82c",
    ("gate", 1): "1331611a44acee8da5416b969d79157b921bef109864d9c249376ad028318b5b",
    ("gate", 2): "a7848dacd5cd922d87a0cd0240cc795cdfad45e85efcaf927175bcc98273e5c2",
}

KINDS = {"binance": ['"e":"trade"', '"e":"depthUpdate"', '"lastUpdateId"', '{"u":',
                     '{"stream":"btcusdt@bookTicker"'],
         "okx": ['"channel":"trades"', '"channel":"books"', '"channel":"books5"',
                 '"channel":"bbo-tbt"', '"channel":"tickers"'],
         "gate": ['"spot.trades"', '"spot.order_book_update"', '"spot.book_ticker"']}


@pytest.mark.parametrize("venue", ["binance", "okx", "gate"])
@pytest.mark.parametrize("seed", [1, 2])
def test_pushed_frames_are_the_original_encoders_bytes(venue: str, seed: int) -> None:
    frames = md_frames(venue, seed)
    text = "\n".join(frames)
    assert len(frames) > 500 and all(k in text for k in KINDS[venue])   # a real mix
    assert digest(frames) == FRAME_DIGESTS[venue, seed]


ticks = st.integers(0, 10**12)
steps = st.sampled_from(["0.01", "0.00001", "0.1", "1", "10", "0.00000001", "0.000000001",
                         "5E+1", "0.10", "0.0025", "0.000001"])


def _call(f, *a):  # type: ignore[no-untyped-def]
    try:
        return f(*a)
    except (ArithmeticError, ValueError, TypeError) as exc:   # the same failure, the same answer
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(step=steps, n=st.one_of(ticks, st.integers(10**17, 10**28), st.integers(-5, -1)))
def test_binance_integer_fmt8_equals_fmt8_of_the_decimal(step: str, n: int) -> None:
    assert _call(fmt8_of_multiple(D(step)), n) == _call(lambda: bm.fmt8(D(step) * n))


levels = st.lists(st.tuples(ticks, st.integers(0, 10**9)), max_size=8)
ts = st.integers(0, 2**62)


def _binance_num(step: str, n: int) -> str:
    return bm.fmt8(D(step) * n)


@settings(max_examples=150, deadline=None)
@given(bids=levels, asks=levels, a=ts, b=ts, u=st.integers(0, 2**62),
       side=st.sampled_from([Side.BUY, Side.SELL]))
def test_binance_spelled_encoders_equal_the_originals(bids, asks, a, b, u, side) -> None:  # type: ignore[no-untyped-def]
    px, qx = fmt8_of_multiple(D("0.01")), fmt8_of_multiple(D("0.00001"))
    dp = [(D("0.01") * p, D("0.00001") * q) for p, q in bids]
    dq = [(D("0.01") * p, D("0.00001") * q) for p, q in asks]
    sb = [[px(p), qx(q)] for p, q in bids]
    sa = [[px(p), qx(q)] for p, q in asks]
    assert bm.encode_depth_update_spelled("BTCUSDT", u, u + 3, sb, sa, a) == \
        bm.encode_depth_update("BTCUSDT", u, u + 3, dp, dq, a)
    assert bm.encode_partial_depth_spelled(u, sb, sa) == bm.encode_partial_depth(u, dp, dq)
    if bids and asks:
        assert bm.encode_bbo_spelled("BTCUSDT", sb[0][0], sb[0][1], sa[0][0], sa[0][1], u) == \
            bm.encode_bbo("BTCUSDT", *dp[0], *dq[0], u)
        assert bm.encode_trade_spelled("BTCUSDT", u, sb[0][0], sb[0][1], side, a, b) == \
            bm.encode_trade("BTCUSDT", u, dp[0][0], dp[0][1], side, a, b)
    for name in ("btcusdt@trade", "ethusdt@depth@100ms", 'a"b\\c'):
        assert bm.wrap_combined(name, '{"x":1}') == \
            f'{{"stream":{bm.dumps(name)},"data":{{"x":1}}}}'


@settings(max_examples=150, deadline=None)
@given(bids=levels, asks=levels, a=ts, u=st.integers(1, 2**62), now=ts,
       side=st.sampled_from([Side.BUY, Side.SELL]), gid=st.one_of(st.none(), ts))
def test_okx_and_gate_spelled_encoders_equal_the_originals(bids, asks, a, u, now, side,  # type: ignore[no-untyped-def]
                                                           gid) -> None:
    for inst in (listed("okx", ["BTC/USDT"])[0], listed("gate", ["ETH/USDT"])[0]):
        fp, fq = inst.format_price, inst.format_qty
        strs_b = [(fp(p), fq(q), 1 if q else 0) for p, q in bids]
        strs_a = [(fp(p), fq(q), 1 if q else 0) for p, q in asks]
        sb = [[fp(p), fq(q), "0", "1" if q else "0"] for p, q in bids]
        sa = [[fp(p), fq(q), "0", "1" if q else "0"] for p, q in asks]
        assert om.encode_books_spelled("update", "BTC-USDT", sb, sa, a, u, u - 1) == \
            om.encode_books("update", "BTC-USDT", strs_b, strs_a, a, u, u - 1)
        top_b = [[fp(bids[0][0]), fq(bids[0][1]), "0", "1"]] if bids else []
        top_a = [[fp(asks[0][0]), fq(asks[0][1]), "0", "1"]] if asks else []
        assert om.encode_bbo_spelled("BTC-USDT", top_b, top_a, a, u) == om.encode_bbo(
            "BTC-USDT", (fp(bids[0][0]), fq(bids[0][1])) if bids else None,
            (fp(asks[0][0]), fq(asks[0][1])) if asks else None, a, u)
        gb = [[fp(p), fq(q)] for p, q in bids]
        ga = [[fp(p), fq(q)] for p, q in asks]
        assert gm.encode_order_book_update_spelled("ETH_USDT", u, u + 2, gb, ga, a, now) == \
            gm.encode_order_book_update("ETH_USDT", u, u + 2, [(x, y) for x, y in gb],
                                        [(x, y) for x, y in ga], a, now)
        if bids and asks:
            p, q = bids[0]
            # the OKX push spells a trade from format_price: num_str of the Decimal, exactly
            assert om.encode_trade_spelled("BTC-USDT", u, fp(p), fq(q), side, a, seq_id=u) == \
                om.encode_trade("BTC-USDT", u, inst.ticks_to_price(p), inst.lots_to_qty(q),
                                side, a, seq_id=u)
            assert gm.encode_trade_spelled("ETH_USDT", u, fp(p), fq(q), side, a, now,
                                           global_id=gid) == \
                gm.encode_trade("ETH_USDT", u, fp(p), fq(q), side, a, now, global_id=gid)
            ap, aq = ga[0]
            assert gm.encode_bbo_spelled("ETH_USDT", fp(p), fq(q), ap, aq, u, a, now) == \
                gm.encode_bbo("ETH_USDT", fp(p), fq(q), ap, aq, u, a, now)


def test_the_memo_returns_the_formatters_strings_and_forgets_when_full(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def fmt(n: int) -> str:
        calls.append(n)
        return f"<{n}>"

    sp = Spellings(fmt, lambda n: f"[{n}]")
    assert sp.levels([(5, 0), (5, 7)]) == [["<5>", "[0]"], ["<5>", "[7]"]]
    assert sp.price(5) == "<5>" and calls == [5]          # formatted once, then reused
    monkeypatch.setattr(spellings, "MAX_ENTRIES", 3)
    for n in range(6, 12):
        sp.price(n)
    assert len(sp._price) <= 3                          # bounded: dropped whole when full
    assert sp.price(5) == "<5>" and calls[-1] == 5      # forgotten, so formatted again


fmt8_like = st.one_of(st.builds(lambda n: bm.fmt8(D(n).scaleb(-8)), st.integers(0, 10**20)),
                      st.sampled_from(["0.00000000", "-0.00000000", "1E+5"]))
ints = st.one_of(st.integers(-2**63, 2**63 - 1), st.integers(2**63, 2**70),
                 st.integers(-2**70, -2**63 - 1), st.sampled_from([0, 1, True, False]))


@settings(max_examples=300, deadline=None)
@given(sym=st.sampled_from(["BTCUSDT", "1000SATSUSDT", 'Q"\\UOTE', "ÜNI"]), tid=ints,
       p=fmt8_like, q=fmt8_like, side=st.sampled_from([Side.BUY, Side.SELL]),
       t=st.one_of(ts, st.integers(2**64, 2**80)), e=ts,
       unit=st.sampled_from([bm.MS, 1000]))
def test_binance_text_built_frames_are_dumps_of_the_payload(sym, tid, p, q, side, t, e,  # type: ignore[no-untyped-def]
                                                            unit) -> None:
    """The trade and bookTicker frames put together as text are exactly `dumps` of their
    payload dicts (the reference layout, spelled out here), or fail the same way."""
    want = _call(lambda: bm.dumps({"e": "trade", "E": e // unit, "s": sym, "t": tid, "p": p,
                                   "q": q, "T": t // unit, "m": side is Side.SELL,
                                   "M": True}))
    assert _call(bm.encode_trade_spelled, sym, tid, p, q, side, t, e, unit) == want
    want = _call(lambda: bm.dumps({"u": tid, "s": sym, "b": p, "B": q, "a": q, "A": p}))
    assert _call(bm.encode_bbo_spelled, sym, p, q, q, p, tid) == want


num_like = st.one_of(st.builds(str, st.integers(0, 10**12)),
                     st.builds(lambda n: str(D(n).scaleb(-6)), st.integers(1, 10**12)),
                     st.sampled_from(["0", "-1.5", "65000.1"]))


@settings(max_examples=300, deadline=None)
@given(inst=st.sampled_from(["BTC-USDT", 'Q"U\\OTE', "ÜNI_USDT"]), tid=ints,
       sid=st.one_of(ints, st.sampled_from(["123", "x7", "١٢"])), px=num_like, sz=num_like,
       side=st.sampled_from([Side.BUY, Side.SELL]), t=st.one_of(ts, st.integers(2**64, 2**70)),
       now=st.one_of(st.none(), ts), gid=st.one_of(st.none(), ints),
       count=st.integers(0, 5), source=st.sampled_from(["0", "1", 'we"ird']))
def test_okx_and_gate_text_built_trades_are_dumps_of_the_payload(  # type: ignore[no-untyped-def]
        inst, tid, sid, px, sz, side, t, now, gid, count, source) -> None:
    """OKX and Gate trade frames put together as text equal `dumps` of their payloads (the
    reference layout, spelled out here), or fail the same way."""
    from feeds.gate.protocol import _wire as gw
    from feeds.okx.protocol import _wire as ow
    want = _call(lambda: ow.dumps({"arg": {"channel": "trades", "instId": inst}, "data": [{
        "instId": inst, "tradeId": str(sid), "px": px, "sz": sz, "side": ow.side_str(side),
        "ts": ow.ms_str(t), "count": str(count), "source": source, "seqId": int(tid)}]}))
    assert _call(lambda: om.encode_trade_spelled(inst, sid, px, sz, side, t, count=count,
                                                 source=source, seq_id=tid)) == want
    n = t if now is None else now
    want = _call(lambda: gw.dumps({
        "time": n // 10**9, "time_ms": n // 10**6, "channel": "spot.trades",
        "event": "update", "result": {
            "id": tid if gid is None else gid, "id_market": tid, "create_time": t // 10**9,
            "create_time_ms": gw.ms_str(t), "side": gw.side_str(side), "currency_pair": inst,
            "amount": sz, "price": px, "range": f"{tid}-{tid}"}}))
    assert _call(lambda: gm.encode_trade_spelled(inst, tid, px, sz, side, t, now,
                                                 global_id=gid)) == want

"""GatewayCore: correlation of venue answers to requests, local rejects, the order budget,
time-outs followed by status queries, and the engine-heartbeat dead-man switch.

The adapter is a test double speaking a tiny JSON dialect; the venue codecs are tested in
their own packages. Time is a fake clock.
"""
from __future__ import annotations

from decimal import Decimal

import orjson

from feeds.adapter import Ack, Failure, HttpRequest, RateInfo, WsPlan
from feeds.gateway_core import GatewayCore
from pipeline.errors import ProtocolError
from pipeline.messages import CancelOrder, ExecReport, ExecType, GatewayStatus, Heartbeat, NewOrder
from pipeline.model import Instrument, OrderStatus, RejectReason, Side
from pipeline.ratelimit import TokenBucket

INST = Instrument("binance", "BTC/USDT", "BTCUSDT", "BTC", "USDT", Decimal("0.01"),
                  Decimal("0.001"), min_qty=Decimal("0.001"), min_notional=Decimal("5"))


class Dialect:
    venue = "binance"
    order_rate_per_s = 100.0
    order_burst = 3

    def encode_place(self, o, inst, rid, now_ms):
        return orjson.dumps({"id": rid, "op": "place", "cid": o.client_id,
                             "px": inst.format_price(o.price_ticks),
                             "qty": inst.format_qty(o.lots)}).decode()

    def encode_cancel(self, c, inst, rid, now_ms):
        return orjson.dumps({"id": rid, "op": "cancel", "cid": c.client_id}).decode()

    def encode_status(self, cid, inst, rid, now_ms):
        return orjson.dumps({"id": rid, "op": "status", "cid": cid}).decode()

    def parse(self, frame, ts_recv):
        try:
            m = orjson.loads(frame)
            if m["t"] == "ack":
                return [Ack(m["id"], m["oid"], 5)]
            if m["t"] == "fail":
                return [Failure(m["id"], RejectReason(m["r"]), m["code"], "no")]
            if m["t"] == "rate":
                return [RateInfo("orders", m["used"], m["limit"], 10.0)]
        except (KeyError, ValueError, TypeError) as exc:
            raise ProtocolError("binance", str(exc)) from exc
        raise ProtocolError("binance", "unknown")

    def ws_plan(self, url):
        return WsPlan(url)

    def session_frames(self, now_ms):
        return []

    def session_ready(self, rec):
        return True

    def open_orders_request(self, now_ms):
        return HttpRequest("GET", "/open")

    def parse_open_orders(self, payload, ts_recv):
        return []

    def cancel_all_request(self, inst, now_ms):
        return None

    def deadman_request(self, now_ms, timeout_s):
        return None


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000_000

    def ns(self) -> int:
        return self.t

    def ms(self) -> int:
        return self.t // 1_000_000


def _core(clock: Clock, max_ops: float = 1_000.0) -> GatewayCore:
    return GatewayCore(Dialect(), {"BTC/USDT": INST}, max_ops, clock.ns, clock.ms)


def _order(cid: str = "c1", px: int = 5_000_000, lots: int = 10) -> NewOrder:
    return NewOrder(cid, "binance", "BTC/USDT", Side.BUY, px, lots, ts_tick_recv=11,
                    ts_decision=22)


def _frame(**kw) -> bytes:
    return orjson.dumps(kw)


def test_place_sends_exact_decimal_strings_and_an_ack_becomes_a_stamped_new_report() -> None:
    clock = Clock()
    core = _core(clock)
    core.place(_order())
    frames, reports = core.take()
    assert orjson.loads(frames[0]) == {"id": "1", "op": "place", "cid": "c1", "px": "50000",
                                       "qty": "0.01"}
    assert reports == []
    clock.t += 300_000
    core.on_frame(_frame(t="ack", id="1", oid="V9"), clock.t)
    _, reports = core.take()
    r = reports[0]
    assert (r.exec_type, r.status, r.venue_order_id, r.lots) == (ExecType.NEW, OrderStatus.NEW,
                                                                 "V9", 10)
    assert (r.ts_sent, r.ts_tick_recv, r.ts_decision) == (1_000_000_000, 11, 22)
    assert core.ack_ns.count == 1 and core.ack_ns.max >= 300_000


def test_orders_the_venue_would_refuse_are_rejected_locally_and_typed() -> None:
    core = _core(Clock())
    core.place(_order(lots=0))
    core.place(_order(cid="c2", px=100, lots=1))            # notional 0.001*1 < 5
    core.place(NewOrder("c3", "binance", "DOGE/USDT", Side.SELL, 1, 1))
    frames, reports = core.take()
    assert frames == []
    assert [r.reason for r in reports] == [RejectReason.BAD_SIZE, RejectReason.BAD_SIZE,
                                           RejectReason.BAD_SYMBOL]
    assert all(r.status is OrderStatus.REJECTED for r in reports)


def test_failure_is_matched_to_its_request() -> None:
    core = _core(Clock())
    core.place(_order())
    core.take()
    core.on_frame(_frame(t="fail", id="1", r=int(RejectReason.POST_ONLY_WOULD_CROSS),
                         code="-2010"), 5)
    _, reports = core.take()
    assert reports[0].reason is RejectReason.POST_ONLY_WOULD_CROSS
    assert reports[0].client_id == "c1" and "-2010" in reports[0].reason_text


def test_budget_burst_then_local_rate_limit_rejects() -> None:
    clock = Clock()
    core = _core(clock)
    for i in range(5):
        core.place(_order(cid=f"c{i}"))
    frames, reports = core.take()
    assert len(frames) == 3  # burst
    assert [r.reason for r in reports] == [RejectReason.RATE_LIMITED] * 2
    clock.t += 20_000_000  # 20 ms at 100/s -> 2 more tokens
    core.place(_order(cid="c9"))
    assert len(core.take()[0]) == 1


def test_the_venues_burst_is_kept_unless_our_own_ceiling_is_lower() -> None:
    """The adapter sizes rate and burst to the venue's windows (`bucket_under_window`): a slow
    venue rate must not shrink that burst (Binance's 10 became 3 when the burst was capped at
    a second of the venue's 3.96/s); our own lower ceiling caps it at one second of itself."""
    slow = type("Slow", (Dialect,), {"order_rate_per_s": 3.96, "order_burst": 10})
    core = GatewayCore(slow(), {"BTC/USDT": INST}, 1_000.0, Clock().ns, Clock().ms)
    assert (core.bucket.rate, core.bucket.burst) == (3.96, 10)
    capped = GatewayCore(slow(), {"BTC/USDT": INST}, 2.0, Clock().ns, Clock().ms)
    assert (capped.bucket.rate, capped.bucket.burst) == (2.0, 2)


def test_venue_rate_limit_error_backs_off_and_tells_the_engine() -> None:
    clock = Clock()
    core = _core(clock)
    core.place(_order())
    core.take()
    core.on_frame(_frame(t="fail", id="1", r=int(RejectReason.RATE_LIMITED), code="-1003"), 1)
    _, reports = core.take()
    assert any(isinstance(r, GatewayStatus) and r.state == "rate_limited" for r in reports)
    clock.t += 500_000_000
    core.place(_order(cid="c2"))
    frames, reports = core.take()
    assert frames == [] and reports[0].reason is RejectReason.RATE_LIMITED
    clock.t += 600_000_000  # back-off (1 s) over
    core.place(_order(cid="c3"))
    assert len(core.take()[0]) == 1


def test_venue_reported_usage_clamps_the_budget() -> None:
    core = _core(Clock())
    core.on_frame(_frame(t="rate", used=99, limit=100), 1)
    core.place(_order(cid="a"))
    core.place(_order(cid="b"))
    frames, reports = core.take()
    assert len(frames) == 1 and reports[0].reason is RejectReason.RATE_LIMITED


def test_unanswered_request_is_followed_by_a_status_query_not_a_guess() -> None:
    clock = Clock()
    core = _core(clock)
    core.place(_order())
    core.take()
    clock.t += 3_000_000_000
    assert core.on_timer(clock.t) is False
    frames, reports = core.take()
    assert reports == []
    assert orjson.loads(frames[0])["op"] == "status" and core.counters["timeouts"] == 1


def test_cancel_of_unknown_symbol_is_a_cancel_reject() -> None:
    core = _core(Clock())
    core.cancel(CancelOrder("zz", "binance", "DOGE/USDT"))
    _, reports = core.take()
    assert reports[0].exec_type is ExecType.CANCEL_REJECTED


def test_engine_heartbeat_loss_fires_once() -> None:
    clock = Clock()
    core = _core(clock)
    assert core.on_timer(clock.t + 10_000_000_000) is False  # never armed: no engine yet
    core.on_message(Heartbeat(clock.t))
    clock.t += 1_000_000_000
    assert core.on_timer(clock.t) is False
    clock.t += 5_000_000_000
    assert core.on_timer(clock.t) is True
    assert core.on_timer(clock.t + 1) is False


def test_garbage_is_counted() -> None:
    core = _core(Clock())
    assert core.on_frame(b"{]", 1) == []
    assert core.counters["parse_errors"] == 1


def test_token_bucket_refills_at_rate() -> None:
    b = TokenBucket(10.0, 2, 0)
    assert b.take(0) and b.take(0) and not b.take(0)
    assert b.take(100_000_000) and not b.take(100_000_000)


def test_full_report_settles_the_pending_place() -> None:
    core = _core(Clock())
    core.place(_order())
    core.take()
    rep = ExecReport("binance", "BTC/USDT", "c1", "V1", ExecType.NEW, OrderStatus.NEW, Side.BUY,
                     5_000_000, 10, ts_recv=2)
    core._report(rep)
    assert core.pending == {}
    assert core.take()[1][0].ts_decision == 22


def test_an_order_the_codec_refuses_is_rejected_locally_not_raised() -> None:
    class Refusing(Dialect):
        def encode_place(self, o, inst, rid, now_ms):
            raise ValueError("client id too long")

    core = GatewayCore(Refusing(), {"BTC/USDT": INST}, 1_000.0, Clock().ns, Clock().ms)
    core.place(_order())
    frames, reports = core.take()
    assert frames == [] and reports[0].status is OrderStatus.REJECTED
    assert "client id" in reports[0].reason_text


def test_a_status_query_the_venue_cannot_answer_closes_the_order_as_expired() -> None:
    """"No such order" to a status query: the order is nowhere, so it is reported EXPIRED
    (UNKNOWN_ORDER) instead of staying open in the OMS forever."""
    clock = Clock()
    core = _core(clock)
    core.place(_order("c9"))
    core.take()
    clock.t += 3_000_000_000          # the place is never answered: time-out -> status query
    core.on_timer(clock.t)
    frames, _ = core.take()
    [query] = [orjson.loads(f) for f in frames]
    assert query["op"] == "status" and query["cid"] == "c9"
    core.on_frame(_frame(t="fail", id=query["id"], r=RejectReason.UNKNOWN_ORDER.value,
                         code="-2013"), clock.t)
    _, reports = core.take()
    [r] = reports
    assert (r.exec_type, r.status, r.reason) == (ExecType.STATUS, OrderStatus.EXPIRED,
                                                 RejectReason.UNKNOWN_ORDER)
    assert (r.client_id, r.symbol, r.side) == ("c9", "BTC/USDT", Side.BUY)
    assert "-2013" in r.reason_text and not core.pending
    # any other refusal of a status query is not an answer about the order
    core.query_status("c9", "BTC/USDT")
    [f] = [orjson.loads(x) for x in core.take()[0]]
    core.on_frame(_frame(t="fail", id=f["id"], r=RejectReason.RATE_LIMITED.value,
                         code="-1003"), clock.t)
    assert not [x for x in core.take()[1] if isinstance(x, ExecReport)]


class RestStatusDialect(Dialect):
    """A venue with no WS order query (OKX): status goes over REST."""

    def status_request(self, cid, inst, now_ms):
        return HttpRequest("GET", "/order", {"cid": cid})

    def parse_status(self, payload, rid, ts_recv):
        return []


def test_a_rest_only_venue_gets_its_status_queries_over_rest() -> None:
    clock = Clock()
    core = GatewayCore(RestStatusDialect(), {"BTC/USDT": INST}, 1_000.0, clock.ns, clock.ms)
    core.query_status("c5", "BTC/USDT")
    assert core.take()[0] == []                      # nothing goes out on the socket
    [(rid, q, inst)] = core.rest_queries
    assert (q.client_id, q.symbol, inst) == ("c5", "BTC/USDT", INST) and rid in core.pending
    answer = ExecReport(venue="binance", symbol="BTC/USDT", client_id="c5",
                        venue_order_id="V5", exec_type=ExecType.STATUS,
                        status=OrderStatus.CANCELED, side=Side.SELL, lots=10, filled_lots=4)
    core.on_rest_answer(rid, [answer], clock.t)
    assert core.take()[1] == [answer] and not core.pending
    core.query_status("c6", "BTC/USDT")
    [(rid2, _, _)] = core.rest_queries[1:]
    core.on_rest_answer(rid2, [Failure(rid2, RejectReason.UNKNOWN_ORDER, "51603", "gone")],
                        clock.t)
    [gone] = core.take()[1]
    assert gone.status is OrderStatus.EXPIRED and gone.client_id == "c6"


class BatchingDialect(Dialect):
    """A venue with a batch place op of up to 3 orders; answers stay per order."""

    max_place_batch = 3

    def __init__(self) -> None:
        self.batched: list[list[str]] = []

    def batch_places(self, rids):
        self.batched.append(list(rids))
        return orjson.dumps({"op": "batch", "ids": list(rids)}).decode()


def test_back_to_back_places_go_out_in_batches_but_never_across_a_cancel() -> None:
    clock = Clock()
    d = BatchingDialect()
    core = GatewayCore(d, {"BTC/USDT": INST}, 1_000.0, clock.ns, clock.ms)
    core.bucket = TokenBucket(1_000.0, 100, clock.t)
    for i in range(5):
        core.place(_order(f"a{i}"))
    core.cancel(CancelOrder("a0", "binance", "BTC/USDT"))
    core.place(_order("b0"))
    frames, _ = core.take()
    kinds = [orjson.loads(f).get("op") for f in frames]
    assert kinds == ["batch", "batch", "cancel", "place"]
    assert d.batched == [["1", "2", "3"], ["4", "5"]]     # request ids, in engine order
    assert core.counters["batches_sent"] == 2
    assert len(core.pending) == 7                          # still answered per request
    core.on_frame(_frame(t="ack", id="4", oid="V4"), clock.t)
    [new] = core.take()[1]
    assert new.client_id == "a3" and new.exec_type is ExecType.NEW
    core.place(_order("c0"))                               # a lone place stays a single frame
    assert [orjson.loads(f)["op"] for f in core.take()[0]] == ["place"]


def test_only_the_overdue_requests_are_followed_up_oldest_first() -> None:
    """The time-out scan stops at the first request still within its time: requests sent
    later are left alone, and each overdue one is queried once."""
    clock = Clock()
    core = _core(clock)
    core.place(_order("old1"))
    core.place(_order("old2"))
    core.take()
    clock.t += 1_500_000_000
    core.place(_order("young"))
    core.take()
    clock.t += 1_000_000_000          # old1/old2 at 2.5 s (overdue), young at 1.0 s
    core.on_timer(clock.t)
    frames, _ = core.take()
    asked = [orjson.loads(f)["cid"] for f in frames]
    assert asked == ["old1", "old2"] and core.counters["timeouts"] == 2
    clock.t += 1_500_000_000          # now young is overdue too; the queries are not re-asked
    core.on_timer(clock.t)
    frames, _ = core.take()
    assert [orjson.loads(f)["cid"] for f in frames] == ["young"]
    assert core.counters["timeouts"] == 3


class CancelBatchingDialect(BatchingDialect):
    """Batch places and batch cancels of up to 3; a run holding a request id listed in
    `decline` is declined (as a codec that refused one of its requests does)."""

    max_cancel_batch = 3

    def __init__(self) -> None:
        super().__init__()
        self.cancel_batches: list[list[str]] = []
        self.decline: set[str] = set()

    def batch_places(self, rids):
        if self.decline & set(rids):
            return None
        return super().batch_places(rids)

    def batch_cancels(self, rids):
        self.cancel_batches.append(list(rids))
        return orjson.dumps({"op": "batch_cancel", "ids": list(rids)}).decode()


def test_back_to_back_cancels_go_out_in_batches_in_engine_order() -> None:
    """A kill or a requote cancels many orders at once: they leave in batch frames, never
    merged across a place (which must not be overtaken) and never holding one order twice;
    each cancel is still answered on its own."""
    clock = Clock()
    d = CancelBatchingDialect()
    core = GatewayCore(d, {"BTC/USDT": INST}, 1_000.0, clock.ns, clock.ms)
    core.bucket = TokenBucket(1_000.0, 100, clock.t)
    for cid in ("k0", "k1", "k2", "k3"):
        core.cancel(CancelOrder(cid, "binance", "BTC/USDT"))
    core.place(_order("p0"))
    core.cancel(CancelOrder("p0", "binance", "BTC/USDT"))
    core.cancel(CancelOrder("p0", "binance", "BTC/USDT"))   # cancelled twice: a new run
    core.cancel(CancelOrder("k9", "binance", "BTC/USDT"))
    frames, _ = core.take()
    assert [orjson.loads(f)["op"] for f in frames] == [
        "batch_cancel", "cancel", "place", "cancel", "batch_cancel"]
    assert d.cancel_batches == [["1", "2", "3"], ["7", "8"]]
    assert orjson.loads(frames[1])["cid"] == "k3" and orjson.loads(frames[3])["cid"] == "p0"
    assert len(core.pending) == 8
    core.on_frame(_frame(t="fail", id="2", r=RejectReason.UNKNOWN_ORDER.value, code="51400"),
                  clock.t)
    [rej] = core.take()[1]
    assert rej.client_id == "k1" and rej.exec_type is ExecType.CANCEL_REJECTED


def test_a_run_the_adapter_declines_goes_out_one_frame_per_request() -> None:
    clock = Clock()
    d = CancelBatchingDialect()
    d.decline = {"2"}
    core = GatewayCore(d, {"BTC/USDT": INST}, 1_000.0, clock.ns, clock.ms)
    core.bucket = TokenBucket(1_000.0, 100, clock.t)
    for i in range(5):
        core.place(_order(f"a{i}"))
    frames, _ = core.take()
    assert [orjson.loads(f)["op"] for f in frames] == ["place", "place", "place", "batch"]
    assert d.batched == [["4", "5"]] and core.counters["batches_sent"] == 1

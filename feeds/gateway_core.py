"""The gateway's venue-agnostic middle: engine messages in, venue frames out, reports back.

`feeds/gateway.py` (asyncio) feeds it `NewOrder` / `CancelOrder` / `CancelAll` / `Heartbeat`
from the engine's queue and every frame from the venue; the venue adapter encodes and parses.
What lives here, once for every venue:

- instrument lookup and a local filter check (an order the venue would refuse for tick, lot or
  notional is rejected here, typed, without spending rate limit);
- the order-rate budget: a token bucket at the lower of the venue's limit and
  `[system] max_orders_per_second`, tightened by what the venue reports it has counted, and a
  back-off window after a rate-limit error during which orders are rejected RATE_LIMITED at
  once (the engine hears it as a report and a `GatewayStatus`);
- request correlation: every frame sent carries a request id; acks and failures are turned
  into complete `ExecReport`s from the pending request; requests with no answer in time are
  followed by a status query (never a guess) — over the WS API, or over REST for a venue
  that has no WS order query (the adapter offers `status_request`/`parse_status`; the driver
  sends what `rest_queries` holds and hands the answer to `on_rest_answer`). A venue that
  answers "no such order" has the order nowhere: it is reported EXPIRED (UNKNOWN_ORDER), so
  the OMS closes it instead of holding it open forever (missed fills still arrive by trade
  id through reconciliation);
- batching: a venue with a batch place op (OKX `batch-orders`) offers `batch_places`, one
  with a batch cancel op (OKX `batch-cancel-orders`) `batch_cancels`; places that go out
  back to back, and cancels that go out back to back, are merged into batch frames at
  `take()` (never across a request of another kind, so the venue sees the engine's order;
  a cancel run also ends where an order is cancelled twice), and the adapter still answers
  per request (Ack/Failure by request id). A hook may decline a run it cannot merge (a
  request its codec refused and answers in band): those frames then go out one by one;
- latency stamps: each report carries the order's `ts_tick_recv`, `ts_decision` and the
  gateway's `ts_sent`, and order->ack samples go into a histogram;
- the engine heartbeat watch (our own dead-man switch): no heartbeat for `deadman_s` ->
  cancel everything.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from feeds.adapter import Ack, Failure, GatewayAdapter, RateInfo
from pipeline.errors import ProtocolError
from pipeline.histogram import Histogram
from pipeline.logging_setup import RateLimitedLog
from pipeline.messages import (
    ZERO_FEE,
    CancelAll,
    CancelOrder,
    ExecReport,
    ExecType,
    GatewayStatus,
    Heartbeat,
    NewOrder,
    build_exec_report,
    with_order_stamps,
)
from pipeline.model import TERMINAL_STATUSES, Instrument, OrderStatus, RejectReason, Side
from pipeline.ratelimit import TokenBucket

log = logging.getLogger(__name__)

COUNTERS = ("orders_sent", "cancels_sent", "reports", "acks", "rejects", "local_rejects",
            "rate_limited", "parse_errors", "timeouts", "status_queries", "deadman_fired",
            "unmatched", "reconnects", "batches_sent")


@dataclass(slots=True)
class Pending:
    kind: str            # "place" | "cancel" | "status"
    msg: Any             # the NewOrder / CancelOrder / StatusQuery
    sent_ns: int


@dataclass(frozen=True, slots=True)
class StatusQuery:
    client_id: str
    symbol: str


@dataclass
class GatewayCore:
    adapter: GatewayAdapter
    instruments: dict[str, Instrument]            # internal symbol -> Instrument
    max_orders_per_second: float
    clock_ns: Callable[[], int]
    clock_ms: Callable[[], int]
    enforce_venue_limits: bool = True
    response_timeout_ns: int = 2_000_000_000
    deadman_ns: int = 5_000_000_000
    rate_backoff_ns: int = 1_000_000_000
    out: list[str] = field(default_factory=list)             # frames to send
    reports: list[Any] = field(default_factory=list)         # ExecReport / GatewayStatus out
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    ack_ns: Histogram = field(default_factory=Histogram)

    def __post_init__(self) -> None:
        if self.enforce_venue_limits:
            # the venue's bucket (sized to its windows by the adapter), unless our own
            # ceiling is lower: then at most a second of that ceiling as burst
            rate = min(self.adapter.order_rate_per_s, self.max_orders_per_second)
            burst = self.adapter.order_burst
            if self.max_orders_per_second < self.adapter.order_rate_per_s:
                burst = min(burst, max(int(self.max_orders_per_second), 1))
        else:  # benchmarks against the simulator: our own ceiling only
            rate, burst = self.max_orders_per_second, max(int(self.max_orders_per_second), 1)
        self.bucket = TokenBucket(rate, burst, self.clock_ns())
        self.pending: dict[str, Pending] = {}
        self.place_rid: dict[str, str] = {}   # client id -> request id of its pending place
        self.orders: dict[str, tuple[NewOrder, int]] = {}   # client id -> (order, ts_sent)
        # status queries the venue answers over REST only: (request id, query, instrument)
        self.rest_queries: list[tuple[str, StatusQuery, Instrument]] = []
        # per frame in `out`: (kind, request id, client id) of a place ("p") or cancel ("c")
        # the adapter can merge with its neighbours (None: a frame that goes out alone)
        self._out_rids: list[tuple[str, str, str] | None] = []
        self._batch_hooks: dict[str, tuple[Callable[[list[str]], str | None], int]] = {}
        for kind, hook, size in (("p", "batch_places", "max_place_batch"),
                                 ("c", "batch_cancels", "max_cancel_batch")):
            fn = getattr(self.adapter, hook, None)
            limit = int(getattr(self.adapter, size, 1))
            if fn is not None and limit > 1:
                self._batch_hooks[kind] = (fn, limit)
        self._rest_status = callable(getattr(self.adapter, "status_request", None))
        self._ids = itertools.count(1)
        self.rate_limited_until = 0
        self.last_heartbeat_ns = 0
        self.deadman_armed = False
        self._log = RateLimitedLog(log, per_s=5.0)

    # -- engine side -------------------------------------------------------------------------
    def on_message(self, msg: Any) -> None:
        if isinstance(msg, NewOrder):
            self.place(msg)
        elif isinstance(msg, CancelOrder):
            self.cancel(msg)
        elif isinstance(msg, CancelAll):
            self.cancel_all_local(msg.symbol)
        elif isinstance(msg, Heartbeat):
            self.last_heartbeat_ns = self.clock_ns()
            self.deadman_armed = True

    def _req_id(self) -> str:
        return str(next(self._ids))

    def _local_reject(self, o: NewOrder, reason: RejectReason, text: str) -> None:
        self.counters["local_rejects"] += 1
        self.reports.append(ExecReport(
            venue=o.venue, symbol=o.symbol, client_id=o.client_id, venue_order_id="",
            exec_type=ExecType.REJECTED, status=OrderStatus.REJECTED, side=o.side,
            price_ticks=o.price_ticks, lots=o.lots, reason=reason, reason_text=text,
            ts_recv=self.clock_ns(), ts_tick_recv=o.ts_tick_recv, ts_decision=o.ts_decision))

    def place(self, o: NewOrder) -> None:
        inst = self.instruments.get(o.symbol)
        if inst is None:
            self._local_reject(o, RejectReason.BAD_SYMBOL, f"unknown symbol {o.symbol}")
            return
        why = inst.check(o.price_ticks if o.price_ticks else None, o.lots)
        if why is not RejectReason.NONE:
            self._local_reject(o, why, "instrument filters")
            return
        now = self.clock_ns()
        if now < self.rate_limited_until or not self.bucket.take(now):
            self.counters["rate_limited"] += 1
            self._local_reject(o, RejectReason.RATE_LIMITED, "gateway order budget exhausted")
            return
        rid = self._req_id()
        try:
            frame = self.adapter.encode_place(o, inst, rid, self.clock_ms())
        except (ValueError, ProtocolError) as exc:  # the codec refuses it: never send it
            self._local_reject(o, getattr(exc, "reason", RejectReason.OTHER), str(exc)[:200])
            return
        self.out.append(frame)
        self._out_rids.append(("p", rid, o.client_id))
        sent = self.clock_ns()
        self.pending[rid] = Pending("place", o, sent)
        self.place_rid[o.client_id] = rid
        self.orders[o.client_id] = (o, sent)
        self.counters["orders_sent"] += 1

    def cancel(self, c: CancelOrder) -> None:
        inst = self.instruments.get(c.symbol)
        if inst is None:
            self.reports.append(self._cancel_reject(c, RejectReason.BAD_SYMBOL, "unknown symbol"))
            return
        rid = self._req_id()
        try:
            frame = self.adapter.encode_cancel(c, inst, rid, self.clock_ms())
        except (ValueError, ProtocolError) as exc:
            self.reports.append(self._cancel_reject(
                c, getattr(exc, "reason", RejectReason.OTHER), str(exc)[:200]))
            return
        self.out.append(frame)
        self._out_rids.append(("c", rid, c.client_id))
        self.pending[rid] = Pending("cancel", c, self.clock_ns())
        self.counters["cancels_sent"] += 1

    def cancel_all_local(self, symbol: str) -> list[Instrument]:
        """Cancel every known open order we sent (WS); returns instruments for a REST sweep."""
        for cid, (o, _) in list(self.orders.items()):
            if not symbol or o.symbol == symbol:
                self.cancel(CancelOrder(cid, o.venue, o.symbol))
        return [i for s, i in self.instruments.items() if not symbol or s == symbol]

    def query_status(self, client_id: str, symbol: str) -> None:
        inst = self.instruments.get(symbol)
        if inst is None:
            return
        rid = self._req_id()
        q = StatusQuery(client_id, symbol)
        if self._rest_status:
            self.rest_queries.append((rid, q, inst))
        else:
            try:
                frame = self.adapter.encode_status(client_id, inst, rid, self.clock_ms())
            except (ValueError, ProtocolError) as exc:
                self._log.warning("%s: status query for %s not encodable: %s",
                                  self.adapter.venue, client_id, exc)
                return
            self.out.append(frame)
            self._out_rids.append(None)
        self.pending[rid] = Pending("status", q, self.clock_ns())
        self.counters["status_queries"] += 1

    def on_rest_answer(self, rid: str, records: list[Any], ts_recv: int) -> None:
        """The venue's REST answer to status query `rid` (reports, or a Failure for `rid`)."""
        for r in records:
            if isinstance(r, ExecReport):
                self._report(r)
            elif isinstance(r, Failure):
                self._failure(r, ts_recv)
        self._settle(rid)

    # -- venue side --------------------------------------------------------------------------
    def on_frame(self, data: str | bytes, ts_recv: int) -> list[Any]:
        """Parse one venue frame; returns the non-order records (controls, session events)."""
        try:
            records = self.adapter.parse(data, ts_recv)
        except ProtocolError as exc:
            self.counters["parse_errors"] += 1
            self._log.warning("%s: dropped malformed frame: %s", self.adapter.venue, exc)
            return []
        other = []
        for r in records:
            if isinstance(r, ExecReport):
                self._report(r)
            elif isinstance(r, Ack):
                self._ack(r, ts_recv)
            elif isinstance(r, Failure):
                self._failure(r, ts_recv)
            elif isinstance(r, RateInfo):
                if r.kind == "orders" and r.limit > 0:
                    self.bucket.clamp(r.limit - r.used)
            else:
                other.append(r)
        return other

    def _stamp(self, r: ExecReport) -> ExecReport:
        known = self.orders.get(r.client_id)
        if known is None:
            return r
        o, sent = known
        if r.exec_type is ExecType.NEW and r.ts_recv and sent:
            self.ack_ns.record(max(r.ts_recv - sent, 0))
        if r.status in TERMINAL_STATUSES:
            self.orders.pop(r.client_id, None)
        return with_order_stamps(r, sent, o.ts_tick_recv, o.ts_decision)

    def _report(self, r: ExecReport) -> None:
        self.counters["reports"] += 1
        if r.exec_type is ExecType.REJECTED:
            self.counters["rejects"] += 1
        # a full report answers the pending place of the same order, if any
        rid = self.place_rid.pop(r.client_id, None)
        if rid is not None:
            self.pending.pop(rid, None)
        self.reports.append(self._stamp(r))

    def _ack(self, a: Ack, ts_recv: int) -> None:
        p = self._settle(a.req_id)
        if p is None:
            self.counters["unmatched"] += 1
            return
        self.counters["acks"] += 1
        if p.kind == "place":
            # the NEW report, built once with its order's stamps (what `_stamp` would add)
            o: NewOrder = p.msg
            known = self.orders.get(o.client_id)
            if known is None:
                sent = tick = decision = 0
            else:
                sent, tick, decision = known[1], known[0].ts_tick_recv, known[0].ts_decision
                if ts_recv and sent:
                    self.ack_ns.record(max(ts_recv - sent, 0))
            self.reports.append(build_exec_report(
                o.venue, o.symbol, o.client_id, a.venue_order_id, ExecType.NEW,
                OrderStatus.NEW, o.side, o.price_ticks, o.lots, 0, 0, 0, ZERO_FEE, "", "", False,
                RejectReason.NONE, "", a.ts_event, ts_recv, sent, tick, decision))
        # a cancel ack carries no fill state: the venue's canceled report (response or
        # private stream) is what moves the order, so nothing is invented here

    def _failure(self, f: Failure, ts_recv: int) -> None:
        p = self._settle(f.req_id)
        if f.reason is RejectReason.RATE_LIMITED:
            self.rate_limited_until = self.clock_ns() + self.rate_backoff_ns
            self.reports.append(GatewayStatus(self.adapter.venue, "rate_limited",
                                              f"{f.code} {f.text}"[:200], ts_recv))
        if p is None:
            self.counters["unmatched"] += 1
            return
        self.counters["rejects"] += 1
        if p.kind == "place":
            o: NewOrder = p.msg
            self.reports.append(self._stamp(ExecReport(
                venue=o.venue, symbol=o.symbol, client_id=o.client_id, venue_order_id="",
                exec_type=ExecType.REJECTED, status=OrderStatus.REJECTED, side=o.side,
                price_ticks=o.price_ticks, lots=o.lots, reason=f.reason,
                reason_text=f"{f.code} {f.text}"[:200], ts_recv=ts_recv)))
        elif p.kind == "cancel":
            self.reports.append(self._cancel_reject(p.msg, f.reason, f"{f.code} {f.text}"[:200]))
        elif p.kind == "status" and f.reason is RejectReason.UNKNOWN_ORDER:
            self.reports.append(self._gone(p.msg, f"{f.code} {f.text}"[:200], ts_recv))

    def _gone(self, q: StatusQuery, text: str, ts_recv: int) -> ExecReport:
        """The venue has no such order (never arrived, or finished and aged out)."""
        known = self.orders.get(q.client_id)
        side = known[0].side if known else Side.BUY
        return self._stamp(ExecReport(
            venue=self.adapter.venue, symbol=q.symbol, client_id=q.client_id,
            venue_order_id="", exec_type=ExecType.STATUS, status=OrderStatus.EXPIRED,
            side=side, reason=RejectReason.UNKNOWN_ORDER,
            reason_text=f"venue does not know the order: {text}"[:200], ts_recv=ts_recv))

    def _settle(self, rid: str) -> Pending | None:
        """The request `rid` is answered: forget it (and its place index entry)."""
        p = self.pending.pop(rid, None)
        if p is not None and p.kind == "place":
            self.place_rid.pop(p.msg.client_id, None)
        return p

    def _cancel_reject(self, c: CancelOrder, reason: RejectReason, text: str) -> ExecReport:
        known = self.orders.get(c.client_id)
        side = known[0].side if known else Side.BUY
        return ExecReport(venue=c.venue, symbol=c.symbol, client_id=c.client_id,
                          venue_order_id=c.venue_order_id, exec_type=ExecType.CANCEL_REJECTED,
                          status=OrderStatus.NEW, side=side, reason=reason, reason_text=text,
                          ts_recv=self.clock_ns())

    # -- timers ------------------------------------------------------------------------------
    def on_timer(self, now_ns: int) -> bool:
        """Follow up unanswered requests with a status query; returns True when the engine's
        heartbeat is overdue and everything must be cancelled (our own dead-man switch).

        `pending` is in send order (a request id is new each time and stamped as it is
        added), so the overdue requests are the oldest ones: the scan stops at the first
        that is not, instead of walking every request in flight each tick (2,000 in flight
        under load made that scan 4 % of the gateway). Should the wall clock step back, a
        request stamped after the step is looked at once those ahead of it are overdue:
        late by at most the step, never lost."""
        overdue = []
        for rid, p in self.pending.items():
            if now_ns - p.sent_ns < self.response_timeout_ns:
                break
            overdue.append((rid, p))
        for rid, p in overdue:
            self._settle(rid)
            self.counters["timeouts"] += 1
            if p.kind in ("place", "cancel"):  # a status query's own time-out is not re-asked
                self.query_status(p.msg.client_id, p.msg.symbol)
        if self.deadman_armed and now_ns - self.last_heartbeat_ns > self.deadman_ns:
            self.deadman_armed = False
            self.counters["deadman_fired"] += 1
            log.error("%s: engine heartbeat lost for %.1fs: cancelling everything",
                      self.adapter.venue, (now_ns - self.last_heartbeat_ns) / 1e9)
            return True
        return False

    def on_disconnect(self) -> None:
        """Requests in flight on a dead connection will never be answered: query after
        reconnect (reconciliation covers them)."""
        self.counters["reconnects"] += 1
        self.pending.clear()
        self.place_rid.clear()

    def _batched(self, out: list[str], tags: list[tuple[str, str, str] | None]) -> list[str]:
        """Runs of consecutive place frames, and of consecutive cancel frames, -> batch
        frames of up to each hook's size, in place (see the module docstring)."""
        hooks = self._batch_hooks
        merged: list[str] = []
        run: list[int] = []
        run_kind = ""
        run_cids: set[str] = set()

        def close_run() -> None:
            if not run:
                return
            fn, limit = hooks[run_kind]
            for k in range(0, len(run), limit):
                chunk = run[k:k + limit]
                frame = fn([tags[i][1] for i in chunk]) if len(chunk) > 1 else None  # type: ignore[index]
                if frame is None:   # alone, or a run the adapter cannot merge
                    merged.extend(out[i] for i in chunk)
                else:
                    merged.append(frame)
                    self.counters["batches_sent"] += 1
            run.clear()
            run_cids.clear()

        for i, frame in enumerate(out):
            tag = tags[i]
            if tag is None or tag[0] not in hooks:
                close_run()
                merged.append(frame)
                continue
            kind, _, cid = tag
            if kind != run_kind or cid in run_cids:
                close_run()
                run_kind = kind
            run.append(i)
            run_cids.add(cid)
        close_run()
        return merged

    def take(self) -> tuple[list[str], list[Any]]:
        out, rep = self.out, self.reports
        if self._batch_hooks and len(out) > 1:
            out = self._batched(out, self._out_rids)
        self.out, self.reports, self._out_rids = [], [], []
        return out, rep


"""Prometheus endpoint: `/metrics` on 127.0.0.1:`[monitoring] prometheus_port`.

A custom collector reads everything at scrape time — the shared status table (heartbeats,
restarts, per-process counters), latency histograms, and psutil system figures — so the hot
path pays nothing: processes only bump numbers in shared memory, and this exporter, running
in the supervisor, turns them into conventional names with `process`, `venue`, `symbol` labels.

`MetricsSource` is what the supervisor provides: `processes()` (rows as in `hft status`) and
`histograms()` (name -> (labels, Histogram) in nanoseconds, exported in seconds).
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, Protocol

import psutil
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)
from prometheus_client.registry import Collector, CollectorRegistry

from pipeline.histogram import N_BUCKETS, Histogram, bucket_bounds

log = logging.getLogger(__name__)

# Exported histogram bucket bounds (seconds): a fixed, readable subset of the log buckets.
EXPORT_BOUNDS_NS = [1_000 * b for b in (5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000,
                                        10_000, 50_000, 250_000, 1_000_000)]


class MetricsSource(Protocol):
    def processes(self) -> list[dict[str, Any]]: ...
    def histograms(self) -> list[tuple[str, dict[str, str], Histogram]]: ...


def _cumulative(h: Histogram) -> list[tuple[str, float]]:
    counts = h.a[:N_BUCKETS]
    uppers = [bucket_bounds(i)[1] for i in range(N_BUCKETS)]
    out = []
    for bound in EXPORT_BOUNDS_NS:
        n = sum(int(c) for c, u in zip(counts, uppers) if u <= bound)
        out.append((f"{bound / 1e9:g}", float(n)))
    out.append(("+Inf", float(h.count)))
    return out


class HftCollector(Collector):
    def __init__(self, source: MetricsSource) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        try:
            rows = self.source.processes()
        except Exception:  # a scrape must never crash the supervisor
            log.exception("metrics source failed")
            rows = []
        up = GaugeMetricFamily("hft_process_up", "1 if the process is running", labels=["process"])
        age = GaugeMetricFamily("hft_process_heartbeat_age_seconds",
                                "Seconds since the process last heart-beat", labels=["process"])
        restarts = CounterMetricFamily("hft_process_restarts", "Restarts by the supervisor",
                                       labels=["process"])
        cpu = GaugeMetricFamily("hft_process_cpu_percent", "CPU use of the process",
                                labels=["process"])
        rss = GaugeMetricFamily("hft_process_resident_memory_bytes", "Resident memory",
                                labels=["process"])
        counters = CounterMetricFamily("hft_events", "Per-process event counters",
                                       labels=["process", "counter"])
        for r in rows:
            name = str(r.get("name", ""))
            up.add_metric([name], 1.0 if r.get("state") == "running" else 0.0)
            if r.get("heartbeat_age_s") is not None:
                age.add_metric([name], float(r["heartbeat_age_s"]))
            restarts.add_metric([name], float(r.get("restarts", 0)))
            for cname, value in (r.get("counters") or {}).items():
                counters.add_metric([name, str(cname)], float(value))
            pid = int(r.get("pid") or 0)
            if pid:
                try:
                    p = psutil.Process(pid)
                    cpu.add_metric([name], p.cpu_percent(interval=None))
                    rss.add_metric([name], float(p.memory_info().rss))
                except psutil.Error:
                    pass
        yield from (up, age, restarts, cpu, rss, counters)

        core = GaugeMetricFamily("hft_system_cpu_percent", "CPU use per core", labels=["core"])
        for i, pct in enumerate(psutil.cpu_percent(percpu=True)):
            core.add_metric([str(i)], pct)
        yield core
        mem = psutil.virtual_memory()
        yield GaugeMetricFamily("hft_system_memory_used_bytes", "Memory in use", value=mem.used)
        net = psutil.net_io_counters()
        yield CounterMetricFamily("hft_system_network_sent_bytes", "Bytes sent", value=net.bytes_sent)
        yield CounterMetricFamily("hft_system_network_received_bytes", "Bytes received",
                                  value=net.bytes_recv)
        disk = psutil.disk_io_counters()
        if disk is not None:
            yield CounterMetricFamily("hft_system_disk_written_bytes", "Bytes written",
                                      value=disk.write_bytes)

        try:
            hists = self.source.histograms()
        except Exception:
            log.exception("histogram source failed")
            hists = []
        families: dict[str, HistogramMetricFamily] = {}
        for name, labels, h in hists:
            fam = families.get(name)
            if fam is None:
                fam = families[name] = HistogramMetricFamily(
                    f"hft_{name}_seconds", f"{name} latency", labels=sorted(labels))
            fam.add_metric([labels[k] for k in sorted(labels)], _cumulative(h),
                           sum_value=float(h.a[N_BUCKETS + 1]) / 1e9)
        yield from families.values()
        yield from self._business()

    def _business(self) -> Iterator[Any]:
        """Trading figures from the engine's live state, when the source has it."""
        get = getattr(self.source, "engine_state", None)
        try:
            state = get() if get is not None else None
        except Exception:
            log.exception("engine state unreadable")
            state = None
        if not state:
            return
        for name, helptext in (("orders", "Orders sent"), ("fills", "Fills applied"),
                               ("cancels", "Cancels sent"), ("venue_rejects", "Venue rejects"),
                               ("risk_rejects", "Orders denied by the RMS")):
            yield CounterMetricFamily(f"hft_{name}", helptext, value=float(state.get(name, 0)))
        sent = float(state.get("orders", 0))
        rej = float(state.get("venue_rejects", 0))
        yield GaugeMetricFamily("hft_order_success_ratio",
                                "Orders not rejected by the venue / orders sent",
                                value=(sent - rej) / sent if sent else 1.0)
        yield GaugeMetricFamily("hft_open_orders", "Open orders (OMS)",
                                value=float(state.get("open_orders", 0)))
        states = {"ACTIVE": 0.0, "REDUCING": 1.0, "HALTED": 2.0}
        yield GaugeMetricFamily("hft_trading_state",
                                "0 ACTIVE, 1 REDUCING, 2 HALTED, -1 not started",
                                value=states.get(str(state.get("trading_state")), -1.0))
        for key in ("realized", "unrealized", "fees", "equity"):
            yield GaugeMetricFamily(f"hft_pnl_{key}_quote", f"PnL {key} (quote currency)",
                                    value=float(state.get(key, 0) or 0))
        by_reason = CounterMetricFamily("hft_rejects_by_reason", "Rejects by typed reason",
                                        labels=["reason"])
        for reason, n in (state.get("rejects_by_reason") or {}).items():
            by_reason.add_metric([str(reason)], float(n))
        yield by_reason
        labels = ["venue", "symbol"]
        fams = {k: GaugeMetricFamily(f"hft_{k}", h, labels=labels) for k, h in (
            ("position_base", "Position (base units)"),
            ("pnl_realized_market_quote", "Realized PnL per market"),
            ("pnl_unrealized_market_quote", "Unrealized PnL per market"),
            ("volume_quote", "Traded volume (quote) this run"),
            ("best_bid", "Venue best bid"), ("best_ask", "Venue best ask"),
            ("quote_bid", "Our best resting bid"), ("quote_ask", "Our best resting ask"))}
        for m in state.get("markets", []):
            lv = [str(m["venue"]), str(m["symbol"])]
            for fam, field in (("position_base", "position"),
                               ("pnl_realized_market_quote", "realized"),
                               ("pnl_unrealized_market_quote", "unrealized"),
                               ("volume_quote", "volume"), ("best_bid", "bid"),
                               ("best_ask", "ask"), ("quote_bid", "quote_bid"),
                               ("quote_ask", "quote_ask")):
                v = m.get(field)
                if v not in ("", None):
                    fams[fam].add_metric(lv, float(v))
        yield from fams.values()


def serve(source: MetricsSource, port: int, host: str = "127.0.0.1") -> tuple[Any, Any]:
    """Start the endpoint in a daemon thread; returns (server, thread) for shutdown."""
    from prometheus_client import start_http_server

    registry = CollectorRegistry()
    registry.register(HftCollector(source))
    return start_http_server(port, addr=host, registry=registry)

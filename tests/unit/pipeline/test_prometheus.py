"""The Prometheus collector exports process, system and latency metrics with conventional
names and labels, scraped over real HTTP."""
from __future__ import annotations

import os
import socket
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from pipeline.histogram import Histogram
from pipeline.prometheus import serve


class Source:
    def processes(self):
        return [{"name": "engine", "pid": os.getpid(), "state": "running", "heartbeat_age_s": 0.02,
                 "restarts": 1, "counters": {"orders": 12, "fills": 3}},
                {"name": "feed:okx", "pid": 0, "state": "failed", "heartbeat_age_s": None,
                 "restarts": 5, "counters": {}}]

    def histograms(self):
        h = Histogram()
        for us in (20, 40, 80, 300):
            h.record(us * 1000)
        return [("order_ack", {"venue": "okx", "process": "gateway:okx"}, h)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scrape():
    port = free_port()
    server, thread = serve(Source(), port)
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    finally:
        server.shutdown()
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    up = {s.labels["process"]: s.value for s in fams["hft_process_up"].samples}
    assert up == {"engine": 1.0, "feed:okx": 0.0}
    ev = {(s.labels["process"], s.labels["counter"]): s.value for s in fams["hft_events"].samples}
    assert ev[("engine", "orders")] == 12 and ev[("engine", "fills")] == 3
    assert any(s.labels["process"] == "engine" for s in fams["hft_process_resident_memory_bytes"].samples)
    hist = fams["hft_order_ack_seconds"]
    buckets = {s.labels["le"]: s.value for s in hist.samples if s.name.endswith("_bucket")}
    assert buckets["5e-05"] == 2 and buckets["0.0001"] == 3 and buckets["+Inf"] == 4
    count = [s.value for s in hist.samples if s.name.endswith("_count")][0]
    assert count == 4
    assert all(s.labels["venue"] == "okx" for s in hist.samples)
    assert "hft_system_cpu_percent" in fams

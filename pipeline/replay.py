"""`hft replay PATH`: captured venue frames back through the very feed code that parsed them.

A capture (one `.cap.gz` file or a folder with its index, written by the writer when
`[pipeline] capture = true`) holds every raw frame with its `ts_recv` and every REST snapshot
the feed fetched (`conn = "snapshot:<venue symbol>"`). Replay builds, per venue, the venue's
feed adapter and a `FeedCore` over private shared-memory segments (created here, unlinked at
the end), and pushes the frames through in capture order — snapshots at the point the live
feed applied them — as fast as possible or paced by the captured `ts_recv` gaps. Nothing
touches the network. The result: per venue frames, parse errors, gaps, resyncs, and the
final top-20 books, which for a clean capture equal what the live feed had.

This is the CLI's composition layer (like `hft sim`): it imports feeds and the writer's
capture reader lazily; neither of those packages imports the other.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from pipeline.errors import ProtocolError

SNAPSHOT_CONN = "snapshot:"


@dataclass
class VenueReplay:
    venue: str
    core: Any
    ring: Any
    books: Any
    names: list[str]
    frames: int = 0
    snapshots: int = 0
    snapshot_errors: int = 0
    symbols: dict[str, int] = field(default_factory=dict)  # venue symbol -> symbol id

    def book(self, venue_symbol: str) -> dict[str, list[list[float]]]:
        view = self.books.read(self.symbols[venue_symbol])
        return {"bids": view.bids.tolist(), "asks": view.asks.tolist(),
                "status": int(view.status), "update_id": int(view.update_id)}


def private_feed(venue: str, config: Any, depth: int = 20) -> VenueReplay:
    """The venue's feed code (adapter + FeedCore) over private shm segments, for replay and
    benchmarks; `close_all` unlinks them."""
    from feeds.feed_core import FeedCore
    from feeds.runner import load_feed_adapter
    from shm import registry
    from shm.book import BookSlots
    from shm.layout import TICK_DTYPE
    from shm.ring import RingWriter

    adapter = load_feed_adapter(venue, config)
    symbols = list(getattr(config.exchanges, venue).symbols)
    vsyms = [adapter.venue_symbol(s) for s in symbols]
    rname = registry.segment_name("ring", f"replay.{venue}")
    bname = registry.segment_name("book", f"replay.{venue}")
    ring = RingWriter.create(rname, TICK_DTYPE, 1 << 16)
    books = BookSlots.create(bname, n_symbols=len(vsyms), depth=depth)
    core = FeedCore(adapter, list(enumerate(vsyms)), ring, books, depth=depth,
                    stale_ns=1 << 62)  # captured time is not wall time: no staleness here
    return VenueReplay(venue, core, ring, books, [rname, bname],
                       symbols={vs: i for i, vs in enumerate(vsyms)})


def replay(path: str, config: Any, *, speed: float = 0.0, venues: list[str] | None = None,
           depth: int = 20, sleep: Callable[[float], None] | None = None
           ) -> dict[str, VenueReplay]:
    """Replay a capture; returns the per-venue state (close with `close_all`)."""
    from writer.capture import replay as read_replay

    out: dict[str, VenueReplay] = {}
    try:
        for ts, venue, conn, frame in read_replay(path, speed=speed, sleep=sleep):
            if venues and venue not in venues:
                continue
            vr = out.get(venue)
            if vr is None:
                vr = out[venue] = private_feed(venue, config, depth)
            if conn.startswith(SNAPSHOT_CONN):
                vs = conn[len(SNAPSHOT_CONN):]
                try:
                    snap = vr.core.adapter.parse_snapshot(vs, orjson.loads(frame))
                except (ProtocolError, ValueError):  # counted, like a bad frame
                    vr.snapshot_errors += 1
                    continue
                vr.core.on_snapshot(snap, ts)
                vr.snapshots += 1
            else:
                vr.frames += 1
                vr.core.on_frame(frame, ts)
            vr.core.replies.clear()       # pongs have nowhere to go
            vr.core.take_snapshot_requests()  # the capture carries the snapshots it used
    except BaseException:
        close_all(out)
        raise
    return out


def close_all(states: dict[str, VenueReplay]) -> None:
    from shm import registry
    for vr in states.values():
        vr.ring.close()
        vr.books.close()
        for n in vr.names:
            registry.unlink(n)


def summary(states: dict[str, VenueReplay]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for venue, vr in states.items():
        c = vr.core.counters.values
        books = {vs: vr.book(vs) for vs in vr.symbols}
        out[venue] = {"frames": vr.frames, "snapshots": vr.snapshots,
                      "parse_errors": c["parse_errors"], "gaps": c["gaps"],
                      "resyncs": c["resyncs"], "snapshot_errors": vr.snapshot_errors,
                      "top": {vs: {"bid": b["bids"][0] if b["bids"] else None,
                                   "ask": b["asks"][0] if b["asks"] else None,
                                   "status": b["status"]} for vs, b in books.items()},
                      "books": books}
    return out


def main(path: str, config: Any, speed: float, venue: str | None,
         books_json: str | None) -> int:
    if not os.path.exists(path):
        print(f"no capture at {path}")
        return 2
    states = replay(path, config, speed=speed, venues=[venue] if venue else None)
    try:
        s = summary(states)
    finally:
        close_all(states)
    for v, info in s.items():
        print(f"{v}: {info['frames']} frames, {info['snapshots']} snapshots, "
              f"{info['parse_errors']} parse errors, {info['gaps']} gaps")
        for vs, top in info["top"].items():
            print(f"  {vs}: bid {top['bid']} ask {top['ask']} (status {top['status']})")
    if books_json:
        with open(books_json, "wb") as f:
            f.write(orjson.dumps({v: info["books"] for v, info in s.items()}))
    if not s:
        print("the capture holds no frames")
    return 0

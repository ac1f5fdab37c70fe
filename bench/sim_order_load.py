"""A load generator for the simulated venues' order APIs: what one simulator core can serve.

Why it exists: driven by our whole gateway (`GatewayCore`, which parses every response and
push into execution reports: `bench/sim.py`'s `gateway_*` figures), the simulator is not the
limit, because that client costs more CPU per order than the simulator does; on two cores the
simulator then idles part of the time. Dividing by the simulator's CPU share then extrapolates
from a half-loaded server, whose per-request cost includes an epoll wake and a socket write
for almost every request. This client is light enough that the simulator is the limit:

- the session is opened exactly as the gateway opens it (`GatewayCore` with the venue's
  adapter: login, private subscriptions), then
- every request is the adapter's own frame (`encode_place` / `encode_cancel`: the bytes the
  gateway sends, signed, fresh timestamp), written at once;
- an answer is read only for its request id and status (one `orjson.loads`); the private
  pushes the simulator sends for each order (execution reports, balances) are received and
  counted but not interpreted.

A window of requests stays in flight. Each post-only buy (resting far below the book, at the
venue minimum) is cancelled by client id once accepted; each cancel answered is followed by
a new order. One round trip is one request answered. About once every 1,300 background
arrivals a crowd market order empties the whole visible bid side and fills whatever rests
below it, these buys included (the simulated market orders have no price protection yet):
their cancels then find nothing and are counted as `cancels_too_late`, still a round trip.
Requests go one per frame on every venue (OKX too: no `batch-orders` here, so the figure is
the unbatched one).
"""
from __future__ import annotations

import os
import time
from typing import Any

import aiohttp
import orjson
from aiohttp import WSMsgType

from bench.cpu_meter import CpuMeter

# (the answer's request-id key, a test of its success) per venue's order API
_ANSWERS: dict[str, tuple[str, Any]] = {
    "binance": ("id", lambda a: a.get("status") == 200),
    "okx": ("id", lambda a: a.get("code") == "0"),
    "gate": ("request_id", lambda a: str((a.get("header") or {}).get("status")) == "200"),
}


def order_client(venue: str, config: Any, symbol: str) -> tuple[Any, Any, Any, int, int]:
    """What both order measures start from: the venue's gateway adapter and a `GatewayCore`
    over it (no budgets: this measures the simulator), the instrument as the simulator lists
    it, and a post-only buy that rests far below the book (half the reference price) at the
    venue's minimum size: (adapter, core, instrument, price ticks, lots)."""
    from feeds.gateway import load_gateway_adapter
    from feeds.gateway_core import GatewayCore
    from feeds.sim.instruments import listed, reference_price

    adapter = load_gateway_adapter(venue, config)
    inst = listed(venue, [symbol])[0]
    core = GatewayCore(adapter, {inst.symbol: inst}, max_orders_per_second=1e12,
                       clock_ns=time.time_ns, clock_ms=lambda: time.time_ns() // 1_000_000,
                       enforce_venue_limits=False)
    price = inst.price_to_ticks(reference_price(inst.symbol) / 2)
    lots = max(inst.qty_to_lots(inst.min_qty), 1)
    while inst.check(price, lots).name != "NONE":
        lots += 1
    return adapter, core, inst, price, lots


async def saturate(venue: str, config: Any, symbol: str, seconds: float, window: int,
                   sim: CpuMeter, warmup: float = 1.0) -> dict[str, Any]:
    """Drive `venue`'s simulator (already serving `config`) at full speed: round trips/s,
    the simulator's and this client's CPU shares, `rejects` (refused places),
    `cancels_too_late` (cancels of an order no longer open) and the other frames received
    per round trip (private pushes, and Gate's `ack` frames)."""
    from feeds.sim.endpoints import sim_endpoints
    from pipeline.messages import CancelOrder, NewOrder
    from pipeline.model import Side, TimeInForce

    adapter, core, inst, price, lots = order_client(venue, config, symbol)
    id_key, succeeded = _ANSWERS[venue]
    loads = orjson.loads
    ids = iter(range(1, 1 << 62))
    in_flight: dict[str, str] = {}     # request id -> client order id ("" for a cancel)
    answered = rejected = gone = pushes = 0

    plan = adapter.ws_plan(sim_endpoints(config, venue).ws_private)
    async with aiohttp.ClientSession() as http, \
            http.ws_connect(plan.url, max_msg_size=1 << 24, autoping=True) as ws:
        send = ws.send_str   # writes at once; awaits only when the socket buffer is full
        for f in adapter.session_frames(int(time.time() * 1000)):
            await send(f)
        ready = False
        while not ready:
            msg = await ws.receive(timeout=5)
            if msg.type is not WSMsgType.TEXT:
                raise RuntimeError(f"{venue} sim closed the session: {msg.type!r}")
            ready = any(adapter.session_ready(r) for r in core.on_frame(msg.data, time.time_ns()))

        async def place() -> None:
            i = next(ids)
            cid, rid = f"ld{i}", f"p{i}"
            in_flight[rid] = cid
            await send(adapter.encode_place(
                NewOrder(cid, venue, inst.symbol, Side.BUY, price, lots,
                         tif=TimeInForce.POST_ONLY), inst, rid, time.time_ns() // 1_000_000))

        async def cancel(cid: str) -> None:
            rid = f"c{next(ids)}"
            in_flight[rid] = ""
            await send(adapter.encode_cancel(CancelOrder(cid, venue, inst.symbol), inst, rid,
                                             time.time_ns() // 1_000_000))

        for _ in range(window):
            await place()
        me = CpuMeter(os.getpid())
        t_start = time.monotonic()
        t0 = 0.0
        while True:
            now = time.monotonic()
            if not t0 and now - t_start >= warmup:
                t0 = now
                answered = rejected = gone = pushes = 0
                me.start()
                sim.start()
            elif t0 and now - t0 >= seconds:
                break
            msg = await ws.receive(timeout=5)
            if msg.type is not WSMsgType.TEXT:
                raise RuntimeError(f"{venue} sim closed the session: {msg.type!r}")
            a = loads(msg.data)
            rid = a.get(id_key) if type(a) is dict else None
            cid = in_flight.pop(rid, None) if rid is not None and not a.get("ack") else None
            if cid is None:
                pushes += 1
                continue
            answered += 1
            ok = succeeded(a)
            if cid and ok:
                await cancel(cid)
                continue
            if not ok:
                if cid:
                    rejected += 1     # a refused place: never expected here
                else:
                    gone += 1         # the order was no longer open (see the docstring)
            await place()
        el = time.monotonic() - t0
        sim_share, my_share = sim.share(), me.share()
    return {"rate": answered / el, "sim_cpu": sim_share, "client_cpu": my_share,
            "rejects": rejected, "cancels_too_late": gone,
            "pushes_per_rtt": pushes / answered if answered else None}

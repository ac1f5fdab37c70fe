"""`bench/sim_order_load.py` must measure real round trips: every order it places is accepted
and its cancel finds it, and what it counts as answers are the answers (the other frames are
exactly the pushes each venue sends per order), or `order_rtt_per_s` would count short cuts."""
from __future__ import annotations

import pytest

from bench.sim import SYMBOLS, _sim
from bench.sim_order_load import saturate
from pipeline import aio

# frames other than the answer, per request: Binance an executionReport and an
# outboundAccountPosition each; OKX one `orders` push each; Gate one `spot.orders` push each
# plus the `ack` frame of every place (half the requests)
OTHER_FRAMES_PER_RTT = {"binance": 2.0, "okx": 1.0, "gate": 1.5}
WINDOW = 16


@pytest.mark.parametrize("venue", ["binance", "okx", "gate"])
def test_every_request_is_answered_right_and_pushes_are_not_answers(venue: str) -> None:
    with _sim(venue, "message_rate = 50.0\norder_rate_limits = false") as (config, meter):
        r = aio.run(saturate(venue, config, SYMBOLS[0], 0.5, WINDOW, meter, warmup=0.3))
    assert r["rate"] > 100
    assert r["rejects"] == 0
    # only a rare crowd sweep fills ours, and one fills at most the orders in flight
    assert r["cancels_too_late"] <= WINDOW
    # the window's edges leave a few frames of the requests around them: within 5 %
    assert r["pushes_per_rtt"] == pytest.approx(OTHER_FRAMES_PER_RTT[venue], rel=0.05)
    assert 0 < r["sim_cpu"] <= 1.05 and 0 < r["client_cpu"] <= 1.05

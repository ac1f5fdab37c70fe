"""The simulated OKX venue's order path answers byte for byte as before its speed-ups: every
frame of seeded runs of private and public WebSocket requests (`okx_order_frames`: places,
cancels, batches, fills, rejects, malformed requests, subscriptions made and dropped mid-run,
a dead-man expiry, stale and gapped market data, and a scripted fault plan's rejects, rate
limits and lost acks) hashes to what the code before the change sent (digests recorded at
commit d32ad79, identical on the compiled and the pure-Python engine)."""
from __future__ import annotations

import pytest

from tests.unit.feeds.sim.market_trace import digest
from tests.unit.feeds.sim.okx_order_frames import order_frames

ORDER_DIGESTS = {
    (1, False): "0a170d6b92f121a14cb184516b99df899f2813c826f9a9afc551473b7cf734ab",
    (1, True): "62730e373d3018f8fbe4cc63f2c62bd693e2b6facc1203fe1cb4a8c81039c82a",
    (2, False): "3884cc668d9d08762bbd1544dbe7f75467e5867ac0627b6c975ab6a2bc02da9b",
    (2, True): "f881ee11f259d4e76d8405e80469280e19fe3d535ac85b88ecbc547dd21d7c29",
}
KINDS = ['"op":"order"', '"op":"cancel-order"', '"op":"batch-orders"',
         '"op":"batch-cancel-orders"', '"channel":"orders"', '"state":"filled"',
         '"state":"partially_filled"', '"cancelSource":"20"', '"cancelSource":"31"',
         '"channel":"books"', '"channel":"books5"', '"channel":"bbo-tbt"',
         '"channel":"tickers"', '"channel":"trades"', '"event":"error"', "pong"]


@pytest.mark.parametrize("faults", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_order_path_frames_are_the_original_bytes(seed: int, faults: bool) -> None:
    frames = order_frames(seed, faults=faults)
    text = "\n".join(frames)
    assert len(frames) > 2000 and all(k in text for k in KINDS)   # a real mix
    assert digest(frames) == ORDER_DIGESTS[seed, faults]

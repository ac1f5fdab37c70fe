"""The writer's capture sink: feed capture records -> per-venue capture files; bad records
are counted, not written; the files read back in order with their connection ids."""
from __future__ import annotations

from feeds.runner import SNAPSHOT_CONN, capture_record
from pipeline.messages import Record
from writer.capture import read_frames
from writer.main import CaptureSink


class Q:
    def __init__(self, items):
        self.items = list(items)

    def get_many(self, timeout=0.0, max_messages=4096):
        out, self.items = self.items[:max_messages], self.items[max_messages:]
        return out


def test_records_land_in_one_capture_per_venue_in_order(tmp_path) -> None:
    recs = [capture_record("okx", "public", '{"a":1}', 10),
            capture_record("gate", "ws", b'{"b":2}', 11),
            capture_record("okx", SNAPSHOT_CONN + "BTC-USDT", b'{"data":[]}', 12),
            Record("capture", {"venue": "okx"}),            # malformed: no ts/frame
            Record("capture", ["not", "a", "dict"])]        # type: ignore[arg-type]
    sink = CaptureSink(str(tmp_path))
    assert sink.drain(Q(recs)) == 5
    sink.close()
    assert (sink.frames, sink.bad) == (3, 2)
    okx = list(read_frames(tmp_path / "okx"))
    assert [(ts, conn, frame) for ts, _, conn, frame in okx] == [
        (10, "public", b'{"a":1}'), (12, "snapshot:BTC-USDT", b'{"data":[]}')]
    assert [f for *_, f in read_frames(tmp_path / "gate")] == [b'{"b":2}']

"""Client order ids: valid on every venue, unique across engine restarts.

The OMS (engine/oms.py) asks a `ClientIdFactory` for one id per new order. Venues only
promise uniqueness among *open* orders and some reuse ids after a terminal state, so a
restarted engine that started its counter at 0 again could collide with a report for an
order of the previous run. The id therefore carries a restart-safe prefix: the engine's
start time in milliseconds, base36, fixed width, then a per-run counter.

    <venue letter><start_ms base36, 9 chars><len(tag)><tag><counter hex>
    binance b0mgj6k3cw01a   okx o0mgj6k3cw01a   gate (adds its mandatory `t-`) t-g0mgj6k3cw01a

The venue letter keeps ids unique across venues too: the OMS keys every order by id alone.

The body uses only [0-9a-z], the intersection of every venue's alphabet:
  * Binance `newClientOrderId`: ^[A-Za-z0-9-_]{1,36}$            (EXCHANGES.md 1.6.1)
  * OKX `clOrdId`: 1-32 case-sensitive alphanumerics               (EXCHANGES.md 2.6.1)
  * Gate `text`: `t-` + <= 28 bytes of [0-9A-Za-z_.-]              (EXCHANGES.md 3.6.1)
The fixed-width time field and the tag's length digit make the split between prefix and
counter unambiguous, so two factories with different start times (or tags) can never
produce the same id. The body is at most 28 chars (Gate's limit, the tightest), leaving
17 - len(tag) hex digits of counter (>= 4.5e15 ids per run).
"""
from __future__ import annotations

import re

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
TIME_WIDTH = 9                      # 36**9 ms ~ year 5138
MARKERS = {"binance": "b", "okx": "o", "gate": "g"}   # first body char: which venue
MAX_BODY = 28                       # Gate: 28 bytes after `t-`; OKX 32 and Binance 36 are looser
MAX_TAG = 4

_VALID = {
    "binance": re.compile(r"[A-Za-z0-9_-]{1,36}"),
    "okx": re.compile(r"[A-Za-z0-9]{1,32}"),
    "gate": re.compile(r"t-[A-Za-z0-9_.-]{1,28}"),
}
_TAG_RE = re.compile(rf"[0-9a-z]{{0,{MAX_TAG}}}")
_OURS_RE = re.compile(rf"(?:t-)?([bog])([0-9a-z]{{{TIME_WIDTH}}})([0-{MAX_TAG}])([0-9a-z]*)")
_VENUE_OF = {m: v for v, m in MARKERS.items()}


def to_base36(n: int, width: int) -> str:
    """Non-negative int as zero-padded lowercase base36; ValueError if it does not fit."""
    if n < 0:
        raise ValueError("negative value")
    digits = []
    while n:
        n, r = divmod(n, 36)
        digits.append(_B36[r])
    s = "".join(reversed(digits)).rjust(width, "0")
    if len(s) > width:
        raise ValueError(f"{n} does not fit in {width} base36 digits")
    return s


def is_valid(venue: str, client_id: str) -> bool:
    """True if `client_id` is acceptable to `venue` as a client order id."""
    rx = _VALID.get(venue)
    if rx is None:
        raise ValueError(f"unknown venue {venue!r}")
    if not client_id.isascii():
        return False
    return rx.fullmatch(client_id) is not None


def parse(client_id: str) -> tuple[str, str, int, int] | None:
    """(venue, tag, start_ms, sequence) of an id made by a `ClientIdFactory`, else None.

    The engine uses it to recognise its own orders from an earlier run (orphans to cancel)
    among a venue's open orders."""
    m = _OURS_RE.fullmatch(client_id)
    if m is None:
        return None
    venue = _VENUE_OF[m.group(1)]
    if client_id.startswith("t-") != (venue == "gate"):
        return None
    n = int(m.group(3))
    rest = m.group(4)
    tag, counter = rest[:n], rest[n:]
    if len(tag) != n or not counter or any(ch not in "0123456789abcdef" for ch in counter):
        return None
    return venue, tag, int(m.group(2), 36), int(counter, 16)


class ClientIdFactory:
    """Ids for one venue. `start_ms` is the engine's start time (wall clock, read by the
    caller); `tag` (<= 4 chars of [0-9a-z]) tells several engines on one account apart."""

    __slots__ = ("_max_seq", "_seq", "prefix", "start_ms", "tag", "venue")

    def __init__(self, venue: str, start_ms: int, tag: str = "") -> None:
        if venue not in _VALID:
            raise ValueError(f"unknown venue {venue!r}")
        if _TAG_RE.fullmatch(tag) is None:
            raise ValueError(f"tag {tag!r}: at most {MAX_TAG} chars of [0-9a-z]")
        self.venue = venue
        self.start_ms = start_ms
        self.tag = tag
        body = f"{MARKERS[venue]}{to_base36(start_ms, TIME_WIDTH)}{len(tag)}{tag}"
        self.prefix = ("t-" + body) if venue == "gate" else body
        self._seq = 0
        self._max_seq = 16 ** (MAX_BODY - len(body)) - 1

    @property
    def issued(self) -> int:
        return self._seq

    def next_id(self) -> str:
        self._seq = seq = self._seq + 1
        if seq > self._max_seq:  # >= 16**13 ids: unreachable, but never emit a bad id
            raise OverflowError("client id counter exhausted")
        return self.prefix + format(seq, "x")

    def owns(self, client_id: str) -> bool:
        """True if this factory (this run) issued `client_id`."""
        return client_id.startswith(self.prefix) and len(client_id) > len(self.prefix)

"""Gate spot market data on the wire, both directions (EXCHANGES.md §3.2–3.4).

Client side (the gate feed): subscribe/unsubscribe/ping frames, `parse_market` turning one
frame into normalized records, and the REST `order_book?with_id=true` snapshot.
Server side (the simulated venue): `decode_channel_request` for what clients send, and
`encode_*` producing pushes, acks, errors and pongs with exactly the documented keys and types.

Times: Gate's envelope carries `time` (s) and `time_ms`; payloads carry `t` (ms). Records get
the payload time in int ns. Server encoders take int ns and derive the rest.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.marketdata import BBO, BookSnapshot, Control, DepthUpdate, Trade
from pipeline.model import Side

from . import _wire as w
from .constants import (
    CH_BOOK_TICKER,
    CH_ORDER_BOOK,
    CH_ORDER_BOOK_UPDATE,
    CH_PING,
    CH_PONG,
    CH_TRADES,
    CH_TRADES_V2,
    EV_SUBSCRIBE,
    EV_UNSUBSCRIBE,
    EV_UPDATE,
    ORDER_BOOK_INTERVALS,
    ORDER_BOOK_LEVELS,
    ORDER_BOOK_UPDATE_INTERVAL,
    PATH_ORDER_BOOK,
    REST_SNAPSHOT_LIMIT,
)
from .market_fast import levels
from .rest import RestRequest, public_request

MarketRecord = BBO | Trade | DepthUpdate | Control
PairLevels = Iterable[tuple[w.Num, w.Num]]

_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000


# ============================================================================ client: requests
def _channel_payloads(channel: str, venue_symbols: Sequence[str], book_level: int,
                      book_interval: str) -> list[list[str]]:
    """Gate takes many pairs per request on list channels, one pair per book channel."""
    if channel == CH_ORDER_BOOK_UPDATE:
        return [[s, ORDER_BOOK_UPDATE_INTERVAL] for s in venue_symbols]
    if channel == CH_ORDER_BOOK:
        if book_level not in ORDER_BOOK_LEVELS or book_interval not in ORDER_BOOK_INTERVALS:
            raise w.err(f"spot.order_book level/interval {book_level}/{book_interval!r:.10}")
        return [[s, str(book_level), book_interval] for s in venue_symbols]
    return [list(venue_symbols)]


def _build(event: str, venue_symbols: Sequence[str], channels: Sequence[str], req_id: int,
           time_s: int, book_level: int, book_interval: str) -> list[str]:
    frames: list[str] = []
    for channel in channels:
        for payload in _channel_payloads(channel, venue_symbols, book_level, book_interval):
            frames.append(w.dumps({"time": int(time_s), "id": req_id + len(frames),
                                   "channel": channel, "event": event, "payload": payload}))
    return frames


def build_subscribe(venue_symbols: Sequence[str], channels: Sequence[str], req_id: int,
                    time_s: int, *, book_level: int = 20, book_interval: str = "100ms"
                    ) -> list[str]:
    """One frame per channel (per pair for the book channels); ids count up from `req_id`."""
    return _build(EV_SUBSCRIBE, venue_symbols, channels, req_id, time_s, book_level,
                  book_interval)


def build_unsubscribe(venue_symbols: Sequence[str], channels: Sequence[str], req_id: int,
                      time_s: int, *, book_level: int = 20, book_interval: str = "100ms"
                      ) -> list[str]:
    return _build(EV_UNSUBSCRIBE, venue_symbols, channels, req_id, time_s, book_level,
                  book_interval)


def build_ping(time_s: int) -> str:
    """Application ping; also resets the server's idle timer (the SDK sends one every 5 s)."""
    return w.dumps({"time": int(time_s), "channel": CH_PING})


def build_snapshot_request(venue_symbol: str, limit: int = REST_SNAPSHOT_LIMIT) -> RestRequest:
    """`GET /spot/order_book?currency_pair=..&limit=..&with_id=true` (the book-sync base)."""
    return public_request("GET", PATH_ORDER_BOOK,
                          [("currency_pair", venue_symbol), ("limit", limit), ("with_id", True)])


# ============================================================================ client: parsing
def _parse_bbo(r: dict[str, Any]) -> BBO:
    return BBO(venue_symbol=w.get_str(r, "s"),
               bid_px=w.to_float(w.field(r, "b"), "b"), bid_sz=w.to_float(w.field(r, "B"), "B"),
               ask_px=w.to_float(w.field(r, "a"), "a"), ask_sz=w.to_float(w.field(r, "A"), "A"),
               ts_event=w.to_ns_from_ms(w.field(r, "t"), "t"), update_id=w.get_int(r, "u"))


def _parse_depth(r: dict[str, Any]) -> DepthUpdate:
    first, last = w.get_int(r, "U"), w.get_int(r, "u")
    if first > last or first < 0:
        raise w.err(f"order_book_update U={first} > u={last}")
    return DepthUpdate(venue_symbol=w.get_str(r, "s"), bids=levels(w.field(r, "b"), "b"),
                       asks=levels(w.field(r, "a"), "a"),
                       ts_event=w.to_ns_from_ms(w.field(r, "t"), "t"),
                       first_id=first, last_id=last)


def _parse_book(r: dict[str, Any]) -> DepthUpdate:
    """`spot.order_book` is a top-N snapshot: a DepthUpdate with `is_snapshot`."""
    return DepthUpdate(venue_symbol=w.get_str(r, "s"), bids=levels(w.field(r, "bids"), "bids"),
                       asks=levels(w.field(r, "asks"), "asks"),
                       ts_event=w.to_ns_from_ms(w.field(r, "t"), "t"),
                       last_id=w.get_int(r, "lastUpdateId"), is_snapshot=True)


def _parse_trade(r: dict[str, Any]) -> Trade:
    # id_market is the per-market consecutive id; `id` is global and to be deprecated
    tid = r.get("id_market")
    trade_id = w.to_int(tid, "id_market") if tid is not None else w.get_int(r, "id")
    if "create_time_ms" in r:
        ts = w.to_ns_from_ms(r["create_time_ms"], "create_time_ms")
    else:
        ts = w.to_ns_from_s(w.field(r, "create_time"), "create_time")
    return Trade(venue_symbol=w.get_str(r, "currency_pair"),
                 price=w.to_float(w.field(r, "price"), "price"),
                 size=w.to_float(w.field(r, "amount"), "amount"),
                 side=w.get_side(r), ts_event=ts, trade_id=trade_id)


def _control_detail(d: dict[str, Any]) -> dict[str, Any]:
    return {"channel": d.get("channel"), "event": d.get("event"), "id": d.get("id"),
            "time": d.get("time")}


def _parse_error(d: dict[str, Any], e: Any) -> Control:
    e = w.as_obj(e, "error")
    code = w.to_int(w.field(e, "code"), "error code")
    msg = e.get("message")
    detail = _control_detail(d)
    detail.update(code=code, message=msg if isinstance(msg, str) else "")
    return Control("error", detail)


def parse_market(frame: str | bytes, ts_recv: int) -> list[MarketRecord]:
    """One WS frame -> records. Unknown channels give `Control("other")`; anything malformed
    raises ProtocolError. `ts_recv` is accepted for symmetry with the other venues' parsers
    (records carry venue time; the feed stamps its own receive time)."""
    d = w.as_obj(w.loads(frame), "frame")
    channel = d.get("channel")
    event = d.get("event")
    if not isinstance(channel, str):
        raise w.err("frame has no channel")
    if channel == CH_PONG:
        return [Control("pong", _control_detail(d))]
    if channel == CH_PING:
        return [Control("ping", _control_detail(d))]
    e = d.get("error")
    if e is not None:
        return [_parse_error(d, e)]
    if event in (EV_SUBSCRIBE, EV_UNSUBSCRIBE):
        res = d.get("result")
        status = res.get("status") if isinstance(res, dict) else None
        detail = _control_detail(d)
        detail["status"] = status
        return [Control("ack" if status == "success" else "error", detail)]
    if event != EV_UPDATE:
        return [Control("other", _control_detail(d))]
    if channel == CH_BOOK_TICKER:
        return [_parse_bbo(w.as_obj(w.field(d, "result"), "result"))]
    if channel == CH_ORDER_BOOK_UPDATE:
        return [_parse_depth(w.as_obj(w.field(d, "result"), "result"))]
    if channel == CH_ORDER_BOOK:
        return [_parse_book(w.as_obj(w.field(d, "result"), "result"))]
    if channel in (CH_TRADES, CH_TRADES_V2):
        res = w.field(d, "result")
        # documented as one object; tolerate a list of them
        items = res if isinstance(res, list) else [res]
        return [_parse_trade(w.as_obj(x, "trade")) for x in items]
    return [Control("other", _control_detail(d))]


def parse_rest_snapshot(payload: Any, venue_symbol: str = "") -> BookSnapshot:
    """`/spot/order_book?with_id=true` (parsed JSON or its text) -> BookSnapshot.

    The response does not name its pair, so pass `venue_symbol` to have it on the record.
    """
    if isinstance(payload, (str, bytes, bytearray, memoryview)):
        payload = w.loads(payload)
    d = w.as_obj(payload, "order book")
    if "id" not in d:
        raise w.err("order book has no id (request it with with_id=true)")
    last_id = w.get_int(d, "id")
    ts = w.to_ns_from_ms(d["update"], "update") if "update" in d else 0
    return BookSnapshot(venue_symbol=venue_symbol, bids=levels(w.field(d, "bids"), "bids"),
                        asks=levels(w.field(d, "asks"), "asks"), last_id=last_id, ts_event=ts)


# ============================================================================ server: requests
@dataclass(frozen=True, slots=True)
class ChannelRequest:
    """A client's subscribe/unsubscribe as the simulator receives it."""

    time: int
    id: int | None
    channel: str
    event: str
    payload: tuple[str, ...]
    auth_key: str = ""
    auth_sign: str = ""

    def __repr__(self) -> str:
        return (f"ChannelRequest({self.event} {self.channel} {list(self.payload)!r:.80}, "
                f"id={self.id}, auth={'yes' if self.auth_sign else 'no'})")


@dataclass(frozen=True, slots=True)
class PingRequest:
    time: int
    id: int | None = None


def decode_channel_request(d: dict[str, Any]) -> ChannelRequest | PingRequest:
    """A parsed client object that is a ping or a (un)subscribe; else ProtocolError."""
    channel = w.get_str(d, "channel")
    time_s = w.get_int(d, "time")
    rid = d.get("id")
    req_id = None if rid is None else w.to_int(rid, "id")
    if channel == CH_PING:
        return PingRequest(time_s, req_id)
    event = w.get_str(d, "event")
    if event not in (EV_SUBSCRIBE, EV_UNSUBSCRIBE):
        raise w.err(f"event {event!r:.20} is not subscribe/unsubscribe")
    items: list[str] = []
    for x in w.as_list(d.get("payload", []), "payload"):
        if isinstance(x, bool) or not isinstance(x, (str, int)):
            raise w.err("payload items must be strings")
        items.append(str(x))  # a book level may come as an int
    payload = tuple(items)
    key = sign = ""
    auth = d.get("auth")
    if auth is not None:
        a = w.as_obj(auth, "auth")
        if a.get("method") != "api_key":
            raise w.err("auth method is not api_key")
        key, sign = w.get_str(a, "KEY"), w.get_str(a, "SIGN")
    return ChannelRequest(time_s, req_id, channel, event, payload, key, sign)


# ============================================================================ server: encoders
def _envelope(channel: str, event: str, now_ns: int) -> dict[str, Any]:
    return {"time": now_ns // _NS_PER_S, "time_ms": now_ns // _NS_PER_MS, "channel": channel,
            "event": event}


def _levels_out(levels: PairLevels) -> list[list[str]]:
    return [[w.num_str(p), w.num_str(s)] for p, s in levels]


def encode_bbo(venue_symbol: str, bid_px: w.Num, bid_sz: w.Num, ask_px: w.Num, ask_sz: w.Num,
               update_id: int, ts_ns: int, now_ns: int | None = None) -> str:
    """`spot.book_ticker` push; `ts_ns` is the book time (`t`), `now_ns` the send time."""
    return encode_bbo_spelled(venue_symbol, w.num_str(bid_px), w.num_str(bid_sz),
                              w.num_str(ask_px), w.num_str(ask_sz), update_id, ts_ns, now_ns)


def encode_bbo_spelled(venue_symbol: str, bid_px: str, bid_sz: str, ask_px: str, ask_sz: str,
                       update_id: int, ts_ns: int, now_ns: int | None = None) -> str:
    """`encode_bbo` with the numbers already spelled by `num_str` (the simulator memoises
    the spellings of its integer ticks and lots: nothing to re-validate or re-format)."""
    d = _envelope(CH_BOOK_TICKER, EV_UPDATE, ts_ns if now_ns is None else now_ns)
    d["result"] = {"t": ts_ns // _NS_PER_MS, "u": update_id, "s": venue_symbol,
                   "b": bid_px, "B": bid_sz, "a": ask_px, "A": ask_sz}
    return w.dumps(d)


def encode_order_book_update(venue_symbol: str, first_id: int, last_id: int, bids: PairLevels,
                             asks: PairLevels, ts_ns: int, now_ns: int | None = None) -> str:
    """`spot.order_book_update` push; sizes are absolute, `0` deletes."""
    return encode_order_book_update_spelled(venue_symbol, first_id, last_id, _levels_out(bids),
                                            _levels_out(asks), ts_ns, now_ns)


def encode_order_book_update_spelled(venue_symbol: str, first_id: int, last_id: int,
                                     bids: list[list[str]], asks: list[list[str]], ts_ns: int,
                                     now_ns: int | None = None) -> str:
    """`encode_order_book_update` with levels already spelled `[num_str(p), num_str(s)]`."""
    d = _envelope(CH_ORDER_BOOK_UPDATE, EV_UPDATE, ts_ns if now_ns is None else now_ns)
    d["result"] = {"t": ts_ns // _NS_PER_MS, "e": "depthUpdate", "E": ts_ns // _NS_PER_S,
                   "s": venue_symbol, "U": first_id, "u": last_id, "b": bids, "a": asks}
    return w.dumps(d)


def encode_order_book(venue_symbol: str, last_update_id: int, bids: PairLevels,
                      asks: PairLevels, ts_ns: int, now_ns: int | None = None) -> str:
    """`spot.order_book` (top-N snapshot) push."""
    d = _envelope(CH_ORDER_BOOK, EV_UPDATE, ts_ns if now_ns is None else now_ns)
    d["result"] = {"t": ts_ns // _NS_PER_MS, "lastUpdateId": last_update_id, "s": venue_symbol,
                   "bids": _levels_out(bids), "asks": _levels_out(asks)}
    return w.dumps(d)


def encode_trade(venue_symbol: str, trade_id: int, price: w.Num, amount: w.Num, side: Side,
                 ts_ns: int, now_ns: int | None = None, *, global_id: int | None = None) -> str:
    """`spot.trades` push; `side` is the taker side, `trade_id` the per-market id."""
    return encode_trade_spelled(venue_symbol, trade_id, w.num_str(price), w.num_str(amount),
                                side, ts_ns, now_ns, global_id=global_id)


def encode_trade_spelled(venue_symbol: str, trade_id: int, price: str, amount: str,
                         side: Side, ts_ns: int, now_ns: int | None = None, *,
                         global_id: int | None = None) -> str:
    """`encode_trade` with price and amount already spelled by `num_str` (digits, '.' and
    '-' only), put together as text: the very bytes `dumps` gives for that payload (the pair
    JSON-encoded once; any id or time that is not a plain 64-bit int takes `dumps`)."""
    now = ts_ns if now_ns is None else now_ns
    gid = trade_id if global_id is None else global_id
    if not (type(trade_id) is int and type(gid) is int and type(ts_ns) is int
            and type(now) is int and _I64_MIN <= trade_id <= _I64_MAX
            and _I64_MIN <= gid <= _I64_MAX and _I64_MIN <= ts_ns <= _I64_MAX
            and _I64_MIN <= now <= _I64_MAX):
        d = _envelope(CH_TRADES, EV_UPDATE, now)
        d["result"] = {"id": gid, "id_market": trade_id,
                       "create_time": ts_ns // _NS_PER_S, "create_time_ms": w.ms_str(ts_ns),
                       "side": w.side_str(side), "currency_pair": venue_symbol,
                       "amount": amount, "price": price, "range": f"{trade_id}-{trade_id}"}
        return w.dumps(d)
    return (f'{{"time":{now // _NS_PER_S},"time_ms":{now // _NS_PER_MS},'
            f'"channel":"{CH_TRADES}","event":"{EV_UPDATE}","result":{{"id":{gid},'
            f'"id_market":{trade_id},"create_time":{ts_ns // _NS_PER_S},'
            f'"create_time_ms":"{w.ms_str(ts_ns)}","side":"{w.side_str(side)}",'
            f'"currency_pair":{_json_str(venue_symbol)},"amount":"{amount}",'
            f'"price":"{price}","range":"{trade_id}-{trade_id}"}}}}')


_I64_MIN, _I64_MAX = -2**63, 2**63 - 1   # what orjson writes as a JSON integer


@functools.lru_cache(maxsize=4096)
def _json_str(s: str) -> str:
    """`dumps(s)`: a currency pair, JSON-encoded once."""
    return w.dumps(s)


def encode_rest_snapshot(last_id: int, bids: PairLevels, asks: PairLevels, now_ns: int,
                         update_ns: int | None = None) -> dict[str, Any]:
    """`/spot/order_book?with_id=true` body (bids high->low, asks low->high, as given)."""
    return {"id": last_id, "current": now_ns // _NS_PER_MS,
            "update": (now_ns if update_ns is None else update_ns) // _NS_PER_MS,
            "asks": _levels_out(asks), "bids": _levels_out(bids)}


def encode_subscribe_ack(channel: str, event: str, now_ns: int, req_id: int | None = None
                         ) -> str:
    """Success reply to subscribe/unsubscribe (`error: null`). Gate echoes a request `id`
    when one was sent; the documented example had none, so it is added only when given."""
    d = _envelope(channel, event, now_ns)
    if req_id is not None:
        d["id"] = req_id
    d["error"] = None
    d["result"] = {"status": "success"}
    return w.dumps(d)


def encode_subscribe_error(channel: str, event: str, code: int, message: str, now_ns: int,
                           req_id: int | None = None) -> str:
    """Failed subscribe: `error: {code, message}`, `result: null` (codes 1..4, §3.2)."""
    d = _envelope(channel, event, now_ns)
    if req_id is not None:
        d["id"] = req_id
    d["error"] = {"code": code, "message": message}
    d["result"] = None
    return w.dumps(d)


def encode_pong(time_s: int) -> str:
    """Reply to `spot.ping`, echoing the request's `time`."""
    return w.dumps({"time": time_s, "channel": CH_PONG, "event": "", "error": None,
                    "result": None})

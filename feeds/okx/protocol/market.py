"""OKX public market data, both sides of the wire (EXCHANGES.md §2.2-2.4).

Client side (the okx feed): `build_subscribe` / `build_unsubscribe` frames, `parse_market` for
every public frame (`bbo-tbt`, `tickers`, `books*`, `books5`, `trades`, events, text `pong`)
and `parse_rest_snapshot` for `GET /api/v5/market/books`. Records are the normalized
`pipeline.marketdata` types with float64 prices and int-ns venue times.

Server side (the simulated OKX venue): `decode_public_request` and `encode_*` frames with exactly
the keys and JSON types the real venue sends, so a real OKX client cannot tell the difference.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.marketdata import BBO, BookSnapshot, Control, DepthUpdate, Trade
from pipeline.model import Side

from . import _wire as w
from . import constants as c
from .errors import RequestError
from .market_fast import levels
from .rest import RestRequest

MarketRecord = BBO | Trade | DepthUpdate | Control

# -- client: requests ------------------------------------------------------------------------


def _check_req_id(req_id: str | int | None) -> str | None:
    if req_id is None:
        return None
    rid = str(req_id)
    if not w.is_alnum_id(rid):
        raise w.err("request id must be 1-32 letters/digits")
    return rid


def _build(op: str, venue_symbols: Sequence[str], channels: Sequence[str],
           req_id: str | int | None) -> list[str]:
    rid = _check_req_id(req_id)
    args = [{"channel": ch, "instId": s} for s in venue_symbols for ch in channels]
    frames: list[str] = []
    chunk: list[dict[str, str]] = []
    size = 2
    for a in args:
        n = len(w.dumps(a)) + 1
        if chunk and size + n > c.MAX_ARGS_BYTES:
            frames.append(_frame(op, chunk, rid))
            chunk, size = [], 2
        chunk.append(a)
        size += n
    if chunk:
        frames.append(_frame(op, chunk, rid))
    return frames


def _frame(op: str, args: list[dict[str, str]], rid: str | None) -> str:
    d: dict[str, Any] = {"id": rid} if rid is not None else {}
    d["op"] = op
    d["args"] = args
    return w.dumps(d)


def build_subscribe(venue_symbols: Sequence[str], channels: Sequence[str],
                    req_id: str | int | None = None) -> list[str]:
    """One `subscribe` frame per ≤64 KB of args, each arg `{"channel", "instId"}`."""
    return _build(c.OP_SUBSCRIBE, venue_symbols, channels, req_id)


def build_unsubscribe(venue_symbols: Sequence[str], channels: Sequence[str],
                      req_id: str | int | None = None) -> list[str]:
    return _build(c.OP_UNSUBSCRIBE, venue_symbols, channels, req_id)


def build_ping() -> str:
    """The text keep-alive OKX expects when idle (no protocol-level ping)."""
    return c.PING


def snapshot_request(inst_id: str, depth: int = c.REST_BOOK_MAX_SZ) -> RestRequest:
    """`GET /api/v5/market/books?instId=..&sz=..` (public, unsigned)."""
    sz = max(1, min(int(depth), c.REST_BOOK_MAX_SZ))
    return RestRequest("GET", c.PATH_BOOKS, {"instId": inst_id, "sz": str(sz)})


# -- client: parsing -------------------------------------------------------------------------
_EVENT_KIND = {
    c.OP_SUBSCRIBE: "ack", c.OP_UNSUBSCRIBE: "ack", c.EVENT_ERROR: "error",
    c.EVENT_NOTICE: "notice", c.EVENT_CONN_COUNT: "other", c.EVENT_CONN_COUNT_ERROR: "error",
}
_DETAIL_KEYS = ("id", "event", "code", "msg", "connId", "connCount", "channel")


def parse_event(d: dict[str, Any]) -> Control:
    """An `event` frame (acks, errors, notices, login, connection counts) -> Control."""
    event = w.get_str(d, "event")
    detail: dict[str, Any] = {}
    for key in _DETAIL_KEYS:
        if key in d:
            v = d[key]
            if not isinstance(v, str):
                raise w.err(f"{key!r} is {type(v).__name__}, not a string")
            detail[key] = v
    if "arg" in d:
        arg = w.as_obj(d["arg"], "arg")
        detail["arg"] = {k: v for k, v in arg.items() if isinstance(v, str)}
    if event == c.OP_LOGIN:
        kind = "ack" if detail.get("code", c.CODE_OK) == c.CODE_OK else "error"
    else:
        kind = _EVENT_KIND.get(event, "other")
    return Control(kind, detail)


def _data_items(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [w.as_obj(x, "data item") for x in w.as_list(w.field(d, "data"), "data")]


def _top(levels: list[tuple[float, float]]) -> tuple[float, float]:
    return levels[0] if levels else (0.0, 0.0)  # an empty side reads as 0/0


def _parse_bbo(inst_id: str, r: dict[str, Any]) -> BBO:
    bid = _top(levels(w.field(r, "bids"), "bids"))
    ask = _top(levels(w.field(r, "asks"), "asks"))
    return BBO(inst_id, bid[0], bid[1], ask[0], ask[1], w.ms_to_ns(w.field(r, "ts"), "ts"),
               w.get_int(r, "seqId"))


def _opt_float(r: dict[str, Any], key: str) -> float:
    v = w.field(r, key)
    return 0.0 if v == "" else w.to_float(v, repr(key))


def _parse_ticker(inst_id: str, r: dict[str, Any]) -> BBO:
    return BBO(inst_id, _opt_float(r, "bidPx"), _opt_float(r, "bidSz"), _opt_float(r, "askPx"),
               _opt_float(r, "askSz"), w.ms_to_ns(w.field(r, "ts"), "ts"), 0)


def _parse_books(inst_id: str, action: str, r: dict[str, Any]) -> DepthUpdate:
    if action == c.ACTION_SNAPSHOT:
        snapshot = True
    elif action == c.ACTION_UPDATE:
        snapshot = False
    else:
        raise w.err("books 'action' is not snapshot/update")
    checksum = r.get("checksum", 0)
    return DepthUpdate(
        inst_id, levels(w.field(r, "bids"), "bids"), levels(w.field(r, "asks"), "asks"),
        w.ms_to_ns(w.field(r, "ts"), "ts"), prev_id=w.get_int(r, "prevSeqId"),
        last_id=w.get_int(r, "seqId"), is_snapshot=snapshot,
        checksum=w.to_int(checksum, "'checksum'"))


def _parse_books5(inst_id: str, r: dict[str, Any]) -> DepthUpdate:
    """books5 is a full 5-level book every push: a snapshot record (prev -1)."""
    return DepthUpdate(
        inst_id, levels(w.field(r, "bids"), "bids"), levels(w.field(r, "asks"), "asks"),
        w.ms_to_ns(w.field(r, "ts"), "ts"), prev_id=c.SNAPSHOT_PREV_SEQ_ID,
        last_id=w.get_int(r, "seqId"), is_snapshot=True)


def _parse_trade(inst_id: str, r: dict[str, Any]) -> Trade:
    return Trade(w.opt_str(r, "instId", inst_id), w.to_float(w.field(r, "px"), "'px'"),
                 w.to_float(w.field(r, "sz"), "'sz'"), w.get_side(r),
                 w.ms_to_ns(w.field(r, "ts"), "ts"), w.get_int(r, "tradeId"))


def parse_market(frame: str | bytes, ts_recv: int) -> list[MarketRecord]:
    """One public frame -> records; ProtocolError on anything malformed.

    `ts_recv` is accepted for the feed adapter's uniform signature; records carry venue time.
    """
    if frame == c.PONG or frame == c.PONG.encode():
        return [Control("pong", {})]
    d = w.as_obj(w.loads(frame), "frame")
    if "event" in d:
        return [parse_event(d)]
    if "arg" not in d:
        raise w.err("frame has neither 'event' nor 'arg'")
    arg = w.as_obj(d["arg"], "arg")
    channel = w.get_str(arg, "channel")
    inst_id = w.opt_str(arg, "instId")
    items = _data_items(d)
    if channel in c.INCREMENTAL_BOOK_CHANNELS:
        action = w.get_str(d, "action")
        return [_parse_books(_need(inst_id), action, r) for r in items]
    if channel == c.CH_BBO_TBT:
        return [_parse_bbo(_need(inst_id), r) for r in items]
    if channel == c.CH_TICKERS:
        return [_parse_ticker(w.opt_str(r, "instId", _need(inst_id)), r) for r in items]
    if channel == c.CH_BOOKS5:
        return [_parse_books5(w.opt_str(r, "instId", _need(inst_id)), r) for r in items]
    if channel == c.CH_TRADES:
        return [_parse_trade(_need(inst_id), r) for r in items]
    return [Control("other", {"channel": channel})]


def _need(inst_id: str) -> str:
    if not inst_id:
        raise w.err("arg has no instId")
    return inst_id


def parse_rest_snapshot(payload: Any, venue_symbol: str = "") -> BookSnapshot:
    """`GET /api/v5/market/books` body -> BookSnapshot with `last_id` = seqId."""
    if isinstance(payload, (str, bytes, bytearray, memoryview)):
        payload = w.loads(payload)
    env = w.as_obj(payload, "payload")
    code = w.field(env, "code")
    if code != c.CODE_OK:
        raise w.err(f"books snapshot error code {str(code)[:12]!r}")
    data = w.as_list(w.field(env, "data"), "data")
    if len(data) != 1:
        raise w.err("books snapshot 'data' must hold one book")
    r = w.as_obj(data[0], "book")
    return BookSnapshot(venue_symbol, levels(w.field(r, "bids"), "bids"),
                        levels(w.field(r, "asks"), "asks"), w.get_int(r, "seqId"),
                        w.ms_to_ns(w.field(r, "ts"), "ts"))


# -- server: requests ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChannelRequest:
    """A client's `subscribe`/`unsubscribe`: `args` are the channel objects as sent."""

    op: str
    args: tuple[dict[str, str], ...]
    req_id: str | None = None


@dataclass(frozen=True, slots=True)
class PingRequest:
    pass


def decode_channel_request(d: dict[str, Any]) -> ChannelRequest:
    """A parsed `{"op": "subscribe"|"unsubscribe", "args": [...]}`; RequestError if bad."""
    rid_raw = d.get("id")
    rid = rid_raw if isinstance(rid_raw, str) and w.is_alnum_id(rid_raw) else None
    op = d.get("op")
    if rid_raw is not None and rid is None:
        raise RequestError("invalid 'id'", c.CODE_INVALID_REQUEST, None, str(op)[:32])
    if op not in (c.OP_SUBSCRIBE, c.OP_UNSUBSCRIBE):
        raise RequestError("unknown 'op'", c.CODE_INVALID_REQUEST, rid)
    args = d.get("args")
    if not isinstance(args, list) or not args:
        raise RequestError("'args' must be a non-empty array", c.CODE_INVALID_REQUEST, rid, op)
    out: list[dict[str, str]] = []
    for a in args:
        if (not isinstance(a, dict) or not isinstance(a.get("channel"), str)
                or not all(isinstance(k, str) and isinstance(v, str) for k, v in a.items())):
            raise RequestError("bad channel arg", c.CODE_INVALID_ARGS, rid, op)
        out.append(dict(a))
    if len(w.dumps(args)) > c.MAX_ARGS_BYTES:
        raise RequestError("args longer than 64 KB", c.CODE_INVALID_REQUEST, rid, op)
    return ChannelRequest(op, tuple(out), rid)


def decode_public_request(frame: str | bytes) -> ChannelRequest | PingRequest:
    if frame == c.PING or frame == c.PING.encode():
        return PingRequest()
    try:
        d = w.loads(frame)
    except w.ProtocolError as exc:
        raise RequestError(exc.what, c.CODE_INVALID_REQUEST) from None
    if not isinstance(d, dict):
        raise RequestError("request is not an object", c.CODE_INVALID_REQUEST)
    return decode_channel_request(d)


# -- server: frames --------------------------------------------------------------------------
Num = w.Num
LevelIn = tuple[Num, Num] | tuple[Num, Num, int]


def _levels_out(levels: Sequence[LevelIn]) -> list[list[str]]:
    out = []
    for lvl in levels:
        count = lvl[2] if len(lvl) > 2 else 1  # type: ignore[misc]
        out.append([w.num_str(lvl[0]), w.num_str(lvl[1]), "0", str(int(count))])
    return out


def _push(arg: dict[str, str], data: list[dict[str, Any]], action: str | None = None) -> str:
    d: dict[str, Any] = {"arg": arg}
    if action is not None:
        d["action"] = action
    d["data"] = data
    return w.dumps(d)


def encode_bbo(inst_id: str, bid: LevelIn | None, ask: LevelIn | None, ts_ns: int,
               seq_id: int) -> str:
    """`bbo-tbt` push; `None` for an empty side (OKX then sends an empty array)."""
    return encode_bbo_spelled(inst_id, _levels_out([bid] if bid is not None else []),
                              _levels_out([ask] if ask is not None else []), ts_ns, seq_id)


def encode_bbo_spelled(inst_id: str, bids: list[list[str]], asks: list[list[str]],
                       ts_ns: int, seq_id: int) -> str:
    """`encode_bbo` with each side already spelled as `_levels_out` spells it (one level, or
    none for an empty side)."""
    return _push({"channel": c.CH_BBO_TBT, "instId": inst_id}, [{
        "asks": asks, "bids": bids, "ts": w.ms_str(ts_ns), "seqId": int(seq_id)}])


def encode_ticker(inst_id: str, *, last: Num, last_sz: Num, bid_px: Num, bid_sz: Num,
                  ask_px: Num, ask_sz: Num, open_24h: Num, high_24h: Num, low_24h: Num,
                  vol_ccy_24h: Num, vol_24h: Num, sod_utc0: Num, sod_utc8: Num,
                  ts_ns: int) -> str:
    """`tickers` push (spot: `volCcy24h` in quote, `vol24h` in base)."""
    n = w.num_str
    return _push({"channel": c.CH_TICKERS, "instId": inst_id}, [{
        "instType": c.INST_TYPE_SPOT, "instId": inst_id, "last": n(last), "lastSz": n(last_sz),
        "askPx": n(ask_px), "askSz": n(ask_sz), "bidPx": n(bid_px), "bidSz": n(bid_sz),
        "open24h": n(open_24h), "high24h": n(high_24h), "low24h": n(low_24h),
        "volCcy24h": n(vol_ccy_24h), "vol24h": n(vol_24h), "sodUtc0": n(sod_utc0),
        "sodUtc8": n(sod_utc8), "ts": w.ms_str(ts_ns)}])


def encode_books(action: str, inst_id: str, bids: Sequence[LevelIn], asks: Sequence[LevelIn],
                 ts_ns: int, seq_id: int, prev_seq_id: int, checksum: int = 0,
                 channel: str = c.CH_BOOKS) -> str:
    """`books` (or `books-l2-tbt`/`books50-l2-tbt`) snapshot or update push.

    A snapshot must carry `prev_seq_id` -1; an update's levels are the changed levels only
    (size 0 deletes). `checksum` is 0 as on production since 2026-06; pass
    `checksum.checksum_of(...)` of the resulting top-25 book to emulate older data.
    """
    _check_books(action, channel, prev_seq_id)
    return encode_books_spelled(action, inst_id, _levels_out(bids), _levels_out(asks), ts_ns,
                                seq_id, prev_seq_id, checksum, channel)


def encode_books_spelled(action: str, inst_id: str, bids: list[list[str]],
                         asks: list[list[str]], ts_ns: int, seq_id: int, prev_seq_id: int,
                         checksum: int = 0, channel: str = c.CH_BOOKS) -> str:
    """`encode_books` with levels already spelled `[px, sz, "0", count]` as `_levels_out`
    spells them (the simulator memoises the spellings of its integer ticks and lots, so the
    push path neither re-validates nor re-formats numbers it formatted itself)."""
    _check_books(action, channel, prev_seq_id)
    return _push({"channel": channel, "instId": inst_id}, [{
        "asks": asks, "bids": bids, "ts": w.ms_str(ts_ns),
        "checksum": int(checksum), "prevSeqId": int(prev_seq_id), "seqId": int(seq_id)}],
        action)


def _check_books(action: str, channel: str, prev_seq_id: int) -> None:
    if action not in (c.ACTION_SNAPSHOT, c.ACTION_UPDATE):
        raise w.err("action must be snapshot or update")
    if channel not in c.INCREMENTAL_BOOK_CHANNELS:
        raise w.err(f"{channel!r} is not an incremental book channel")
    if action == c.ACTION_SNAPSHOT and prev_seq_id != c.SNAPSHOT_PREV_SEQ_ID:
        raise w.err("a snapshot's prevSeqId is -1")


def encode_books5(inst_id: str, bids: Sequence[LevelIn], asks: Sequence[LevelIn], ts_ns: int,
                  seq_id: int) -> str:
    """`books5` push: the top five levels per side, every time."""
    return _push({"channel": c.CH_BOOKS5, "instId": inst_id}, [{
        "asks": _levels_out(asks[:5]), "bids": _levels_out(bids[:5]), "instId": inst_id,
        "ts": w.ms_str(ts_ns), "seqId": int(seq_id)}])


def encode_trade(inst_id: str, trade_id: int | str, px: Num, sz: Num, side: Side, ts_ns: int,
                 *, count: int = 1, source: str = "0", seq_id: int = 0) -> str:
    """`trades` push; `side` is the taker's, `count` the maker matches aggregated."""
    return encode_trade_spelled(inst_id, trade_id, w.num_str(px), w.num_str(sz), side, ts_ns,
                                count=count, source=source, seq_id=seq_id)


def encode_trade_spelled(inst_id: str, trade_id: int | str, px: str, sz: str, side: Side,
                         ts_ns: int, *, count: int = 1, source: str = "0",
                         seq_id: int = 0) -> str:
    """`encode_trade` with price and size already spelled by `num_str` (digits, '.' and '-'
    only), put together as text: the very bytes `_push` gives for that payload (strings
    that may need escaping are JSON-encoded; a sequence beyond 64 bits takes `_push`)."""
    seq = int(seq_id)
    if type(ts_ns) is not int or not -2**63 <= seq < 2**63:
        return _push({"channel": c.CH_TRADES, "instId": inst_id}, [{
            "instId": inst_id, "tradeId": str(trade_id), "px": px, "sz": sz,
            "side": w.side_str(side), "ts": w.ms_str(ts_ns), "count": str(int(count)),
            "source": source, "seqId": seq}])
    inst = _json_str(inst_id)
    tid = str(trade_id)
    tid = f'"{tid}"' if tid.isdigit() and tid.isascii() else w.dumps(tid)
    return (f'{{"arg":{{"channel":"{c.CH_TRADES}","instId":{inst}}},"data":[{{"instId":{inst},'
            f'"tradeId":{tid},'
            f'"px":"{px}","sz":"{sz}","side":"{w.side_str(side)}","ts":"{w.ms_str(ts_ns)}",'
            f'"count":"{int(count)}","source":{_json_str(source)},"seqId":{seq}}}]}}')


@functools.lru_cache(maxsize=4096)
def _json_str(s: str) -> str:
    """`dumps(s)`: an instrument id or source tag, JSON-encoded once."""
    return w.dumps(s)


def encode_rest_snapshot(bids: Sequence[LevelIn], asks: Sequence[LevelIn], ts_ns: int,
                         seq_id: int) -> dict[str, Any]:
    """`GET /api/v5/market/books` response body."""
    return {"code": c.CODE_OK, "msg": "", "data": [{
        "asks": _levels_out(asks), "bids": _levels_out(bids), "ts": w.ms_str(ts_ns),
        "seqId": int(seq_id)}]}


def encode_subscribe_ack(arg: dict[str, str], conn_id: str, req_id: str | None = None,
                         event: str = c.OP_SUBSCRIBE) -> str:
    """`{"id"?, "event": "subscribe"|"unsubscribe", "arg": {...}, "connId": ...}`."""
    d: dict[str, Any] = {"id": req_id} if req_id is not None else {}
    d.update({"event": event, "arg": dict(arg), "connId": conn_id})
    return w.dumps(d)


def encode_conn_count(channel: str, conn_count: int, conn_id: str, error: bool = False) -> str:
    event = c.EVENT_CONN_COUNT_ERROR if error else c.EVENT_CONN_COUNT
    return w.dumps({"event": event, "channel": channel, "connCount": str(conn_count),
                    "connId": conn_id})


def encode_pong() -> str:
    return c.PONG

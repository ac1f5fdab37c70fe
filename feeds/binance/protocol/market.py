"""Binance public market data, both directions: the feed's parser and the simulator's encoders.

Client side (feed process): `build_subscribe`/`build_unsubscribe` make the stream control
frames; `parse_market` turns one frame — raw (`/ws/...`) or combined-stream envelope
(`{"stream":..,"data":..}`) — into normalized `BBO` / `Trade` / `DepthUpdate` / `Control`
records; `parse_rest_snapshot` reads `GET /api/v3/depth`. Server side (simulated venue): the
`encode_*` functions emit frames with exactly the documented keys and types (EXCHANGES.md
§1.2-1.3), and `decode_stream_request` reads a client's SUBSCRIBE. One codec for both sides
keeps the simulator honest: what it sends is what this parser (and real clients) accept.

Times on the wire are ms (µs when the URL asks `timeUnit=MICROSECOND`: pass
`time_unit_ns=1_000`); records carry int ns.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.errors import ProtocolError
from pipeline.marketdata import BBO, BookSnapshot, Control, DepthUpdate, Trade
from pipeline.model import Side

from . import constants as C
from ._wire import (
    Num,
    as_list,
    as_obj,
    dumps,
    err,
    field,
    fmt8,
    get_bool,
    get_int,
    get_str,
    loads,
    to_float,
    to_int,
)
from .market_fast import levels
from .symbols import stream_symbol

MarketRecord = BBO | Trade | DepthUpdate | Control
MS = 1_000_000
US = 1_000


# -- stream names and URLs -------------------------------------------------------------------
def stream_name(venue_symbol: str, channel: str) -> str:
    """`BTCUSDT`, `depth@100ms` -> `btcusdt@depth@100ms`."""
    return f"{stream_symbol(venue_symbol)}@{channel}"


def partial_depth_channel(levels_n: int, fast: bool = True) -> str:
    if levels_n not in C.PARTIAL_DEPTH_LEVELS:
        raise ValueError(f"partial depth has {C.PARTIAL_DEPTH_LEVELS} levels, not {levels_n}")
    return f"depth{levels_n}@100ms" if fast else f"depth{levels_n}"


def symbol_of_stream(stream: str) -> str:
    """`btcusdt@depth20@100ms` -> `BTCUSDT` ("" for `!`-prefixed all-market streams)."""
    head = stream.split("@", 1)[0]
    return "" if head.startswith("!") else head.upper()


def stream_url(base: str, streams: Sequence[str], micros: bool = False) -> str:
    """A combined-stream URL (`/stream?streams=a/b`); `micros` asks for µs timestamps."""
    url = f"{base.rstrip('/')}{C.PATH_WS_COMBINED}?streams={'/'.join(streams)}"
    return f"{url}&{C.QUERY_TIME_UNIT_US}" if micros else url


# -- client: control frames ------------------------------------------------------------------
def _control_frames(method: str, venue_symbols: Iterable[str], channels: Iterable[str],
                    req_id: int, max_per_frame: int) -> list[str]:
    chans = list(channels)
    names = [stream_name(s, ch) for s in venue_symbols for ch in chans]
    if len(names) > C.MAX_STREAMS_PER_CONNECTION:
        raise ValueError(f"{len(names)} streams exceed {C.MAX_STREAMS_PER_CONNECTION} per "
                         "connection: split the symbols over more connections")
    if max_per_frame < 1:
        raise ValueError("max_per_frame must be positive")
    frames: list[str] = []
    for i in range(0, len(names), max_per_frame):
        frames.append(dumps({"method": method, "params": names[i:i + max_per_frame],
                             "id": req_id + len(frames)}))
    return frames


def build_subscribe(venue_symbols: Iterable[str], channels: Iterable[str], req_id: int,
                    max_per_frame: int = 200) -> list[str]:
    """SUBSCRIBE frames for every symbol x channel; ids `req_id`, `req_id+1`, ... Few frames
    on purpose: every control message counts against the 5 msgs/s connection limit."""
    return _control_frames(C.M_SUBSCRIBE, venue_symbols, channels, req_id, max_per_frame)


def build_unsubscribe(venue_symbols: Iterable[str], channels: Iterable[str], req_id: int,
                      max_per_frame: int = 200) -> list[str]:
    return _control_frames(C.M_UNSUBSCRIBE, venue_symbols, channels, req_id, max_per_frame)


def build_list_subscriptions(req_id: int | str) -> str:
    return dumps({"method": C.M_LIST_SUBSCRIPTIONS, "id": req_id})


def depth_weight(limit: int) -> int:
    for top, weight in C.DEPTH_WEIGHTS:
        if limit <= top:
            return weight
    raise ValueError(f"depth limit {limit} exceeds {C.DEPTH_LIMIT_MAX}")


def build_depth_request(venue_symbol: str, limit: int = C.DEPTH_LIMIT_MAX
                        ) -> tuple[str, str, dict[str, str]]:
    """(method, path, params) of the REST snapshot for the local-book recipe (§1.3)."""
    if not 1 <= limit <= C.DEPTH_LIMIT_MAX:
        raise ValueError(f"depth limit must be 1..{C.DEPTH_LIMIT_MAX}")
    return "GET", C.PATH_DEPTH, {"symbol": venue_symbol.upper(), "limit": str(limit)}


# -- client: parsing -------------------------------------------------------------------------
def _ts(v: Any, what: str, unit_ns: int) -> int:
    t = to_int(v, what)
    if t < 0:
        raise err(f"{what} is negative")
    return t * unit_ns


def _id(d: dict[str, Any], key: str) -> int:
    v = get_int(d, key)
    if v < 0:
        raise err(f"{key!r} is negative")
    return v


def _book_ticker(d: dict[str, Any]) -> BBO:
    return BBO(venue_symbol=get_str(d, "s"),
               bid_px=to_float(field(d, "b"), "'b'"), bid_sz=to_float(field(d, "B"), "'B'"),
               ask_px=to_float(field(d, "a"), "'a'"), ask_sz=to_float(field(d, "A"), "'A'"),
               ts_event=0, update_id=_id(d, "u"))


def _depth_update(d: dict[str, Any], unit_ns: int) -> DepthUpdate:
    return DepthUpdate(venue_symbol=get_str(d, "s"), bids=levels(field(d, "b"), "bids"),
                       asks=levels(field(d, "a"), "asks"), ts_event=_ts(field(d, "E"), "'E'",
                                                                        unit_ns),
                       first_id=_id(d, "U"), last_id=_id(d, "u"))


def _partial_depth(d: dict[str, Any], symbol: str) -> DepthUpdate:
    return DepthUpdate(venue_symbol=symbol, bids=levels(field(d, "bids"), "bids"),
                       asks=levels(field(d, "asks"), "asks"), ts_event=0,
                       last_id=_id(d, "lastUpdateId"), is_snapshot=True)


def _trade(d: dict[str, Any], unit_ns: int, id_key: str) -> Trade:
    # `m`: the buyer was the maker, so the aggressor (taker) sold
    return Trade(venue_symbol=get_str(d, "s"), price=to_float(field(d, "p"), "'p'"),
                 size=to_float(field(d, "q"), "'q'"),
                 side=Side.SELL if get_bool(d, "m") else Side.BUY,
                 ts_event=_ts(field(d, "T"), "'T'", unit_ns), trade_id=_id(d, id_key))


def _event(d: dict[str, Any], unit_ns: int, stream: str) -> MarketRecord:
    e = d["e"]
    if e == "depthUpdate":
        return _depth_update(d, unit_ns)
    if e == "trade":
        return _trade(d, unit_ns, "t")
    if e == "aggTrade":
        return _trade(d, unit_ns, "a")
    if e == "serverShutdown":
        return Control("shutdown", {"e": e, "E": _ts(field(d, "E"), "'E'", unit_ns)})
    if not isinstance(e, str):
        raise err("'e' is not a string")
    return Control("other", {"e": e[:64], "stream": stream[:128]})


def _payload(d: dict[str, Any], stream: str, symbol: str, unit_ns: int) -> MarketRecord:
    if "e" in d:
        return _event(d, unit_ns, stream)
    if "lastUpdateId" in d:
        sym = symbol_of_stream(stream) if stream else symbol.upper()
        if not sym:
            raise err("partial depth without a symbol (raw stream: pass symbol=)")
        return _partial_depth(d, sym)
    if "u" in d and "s" in d:
        return _book_ticker(d)
    raise err("unrecognized market payload")


def _control(d: dict[str, Any]) -> Control:
    rid = d.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, (int, str))):
        raise err("'id' is not an int, string or null")
    if "code" in d:
        code = get_int(d, "code")
        msg = d.get("msg", "")
        if not isinstance(msg, str):
            raise err("'msg' is not a string")
        return Control("error", {"id": rid, "code": code, "msg": msg[:256]})
    result = d["result"]
    if result is not None and not isinstance(result, (list, dict, bool, int, str)):
        raise err("'result' has an unexpected type")
    return Control("ack", {"id": rid, "result": result})


def parse_market(frame: str | bytes, ts_recv: int, *, symbol: str = "",
                 time_unit_ns: int = MS) -> list[MarketRecord]:
    """One stream frame -> records. `symbol` names the symbol of a raw single-stream
    connection whose partial-depth payloads carry none. Raises ProtocolError only."""
    del ts_recv  # records carry the venue's time; the caller keeps its own receipt stamp
    try:
        obj = as_obj(loads(frame), "frame")
        if "stream" in obj and "data" in obj:
            stream = get_str(obj, "stream")
            return [_payload(as_obj(obj["data"], "data"), stream, symbol, time_unit_ns)]
        if "result" in obj or ("code" in obj and "e" not in obj):
            return [_control(obj)]
        return [_payload(obj, "", symbol, time_unit_ns)]
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        # belt and braces: the readers above are strict, but nothing else may escape
        raise err(f"malformed market frame ({type(exc).__name__})") from None


def parse_rest_snapshot(payload: Any, venue_symbol: str = "") -> BookSnapshot:
    """`GET /api/v3/depth` body -> BookSnapshot (the body names no symbol: pass it)."""
    d = as_obj(payload, "depth snapshot")
    return BookSnapshot(venue_symbol=venue_symbol.upper(), bids=levels(field(d, "bids"), "bids"),
                        asks=levels(field(d, "asks"), "asks"), last_id=_id(d, "lastUpdateId"))


# -- server: stream control requests ---------------------------------------------------------
class StreamRequestError(ProtocolError):
    """A client's stream control frame the venue answers with `{"code": n, "msg": ..}`."""

    def __init__(self, code: int, msg: str, req_id: int | str | None = None) -> None:
        super().__init__(C.VENUE, msg)
        self.code = code
        self.msg = msg
        self.req_id = req_id


@dataclass(frozen=True, slots=True)
class StreamRequest:
    method: str
    params: tuple[Any, ...]
    id: int | str | None


def decode_stream_request(frame: str | bytes) -> StreamRequest:
    """A client's SUBSCRIBE/UNSUBSCRIBE/... frame; StreamRequestError carries the answer."""
    try:
        obj = loads(frame)
    except ProtocolError:
        raise StreamRequestError(C.STREAM_ERR_INVALID_JSON, "Invalid JSON: malformed frame"
                                 ) from None
    if not isinstance(obj, dict):
        raise StreamRequestError(C.STREAM_ERR_INVALID_REQUEST, "Invalid request: not an object")
    rid = obj.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, (int, str))
                            or (isinstance(rid, str) and not C.REQUEST_ID_STR_RE.match(rid))
                            or (isinstance(rid, int) and not -2**63 <= rid < 2**63)):
        raise StreamRequestError(C.STREAM_ERR_INVALID_REQUEST,
                                 "Invalid request: request ID must be an unsigned integer")
    method = obj.get("method")
    if method not in C.STREAM_METHODS:
        raise StreamRequestError(C.STREAM_ERR_INVALID_REQUEST,
                                 "Invalid request: unknown variant", rid)
    params = obj.get("params", [])
    if not isinstance(params, list):
        raise StreamRequestError(C.STREAM_ERR_INVALID_VALUE_TYPE,
                                 "Invalid value type: expected array", rid)
    if method in (C.M_SUBSCRIBE, C.M_UNSUBSCRIBE):
        for p in params:
            if not isinstance(p, str) or "@" not in p or len(p) > 200:
                raise StreamRequestError(C.STREAM_ERR_INVALID_REQUEST,
                                         "Invalid request: invalid stream name", rid)
    return StreamRequest(method, tuple(params), rid)


def encode_subscribe_ack(req_id: int | str | None, result: Any = None) -> str:
    """`{"result": null, "id": 1}`; LIST_SUBSCRIPTIONS passes the list as `result`."""
    return dumps({"result": result, "id": req_id})


def encode_stream_error(code: int, msg: str, req_id: int | str | None = None) -> str:
    return dumps({"code": code, "msg": msg, "id": req_id})


# -- server: market frames -------------------------------------------------------------------
Levels = Iterable[tuple[Num, Num]]


def _levels(lv: Levels) -> list[list[str]]:
    return [[fmt8(p), fmt8(q)] for p, q in lv]


def _t(ts_ns: int, unit_ns: int) -> int:
    return ts_ns // unit_ns


def encode_bbo(venue_symbol: str, bid_px: Num, bid_sz: Num, ask_px: Num, ask_sz: Num,
               update_id: int) -> str:
    """`<symbol>@bookTicker` payload: u, s, b, B, a, A (no event type, no time)."""
    return encode_bbo_spelled(venue_symbol, fmt8(bid_px), fmt8(bid_sz), fmt8(ask_px),
                              fmt8(ask_sz), update_id)


def encode_bbo_spelled(venue_symbol: str, bid_px: str, bid_sz: str, ask_px: str, ask_sz: str,
                       update_id: int) -> str:
    """`encode_bbo` with the numbers already spelled by `fmt8` (the simulator memoises the
    spellings of its integer ticks and lots: the push path formats each price once).

    fmt8 spellings are digits, '.' and '-' only, so the frame is put together as text, the
    very bytes `dumps` gives for that dict (the symbol is JSON-encoded, once); any id that
    is not a plain 64-bit int takes `dumps` itself."""
    if type(update_id) is int and _I64_MIN <= update_id <= _I64_MAX:
        return (f'{{"u":{update_id},"s":{_json_str(venue_symbol)},"b":"{bid_px}",'
                f'"B":"{bid_sz}","a":"{ask_px}","A":"{ask_sz}"}}')
    return dumps({"u": update_id, "s": venue_symbol, "b": bid_px, "B": bid_sz, "a": ask_px,
                  "A": ask_sz})


def encode_depth_update(venue_symbol: str, first_id: int, last_id: int, bids: Levels,
                        asks: Levels, event_ns: int, time_unit_ns: int = MS) -> str:
    """`<symbol>@depth[@100ms]` diff: absolute quantities, "0" deletes a level."""
    return encode_depth_update_spelled(venue_symbol, first_id, last_id, _levels(bids),
                                       _levels(asks), event_ns, time_unit_ns)


def encode_depth_update_spelled(venue_symbol: str, first_id: int, last_id: int,
                                bids: list[list[str]], asks: list[list[str]], event_ns: int,
                                time_unit_ns: int = MS) -> str:
    """`encode_depth_update` with levels already spelled `[fmt8(price), fmt8(qty)]`."""
    return dumps({"e": "depthUpdate", "E": _t(event_ns, time_unit_ns), "s": venue_symbol,
                  "U": first_id, "u": last_id, "b": bids, "a": asks})


def encode_partial_depth(last_id: int, bids: Levels, asks: Levels) -> str:
    """`<symbol>@depth<N>[@100ms]` top-N snapshot (no symbol in the payload)."""
    return encode_partial_depth_spelled(last_id, _levels(bids), _levels(asks))


def encode_partial_depth_spelled(last_id: int, bids: list[list[str]],
                                 asks: list[list[str]]) -> str:
    """`encode_partial_depth` with levels already spelled `[fmt8(price), fmt8(qty)]`."""
    return dumps({"lastUpdateId": last_id, "bids": bids, "asks": asks})


def encode_trade(venue_symbol: str, trade_id: int, price: Num, qty: Num, taker_side: Side,
                 trade_ns: int, event_ns: int, time_unit_ns: int = MS) -> str:
    """`<symbol>@trade`: `m` is true when the buyer was the maker (the taker sold)."""
    return encode_trade_spelled(venue_symbol, trade_id, fmt8(price), fmt8(qty), taker_side,
                                trade_ns, event_ns, time_unit_ns)


def encode_trade_spelled(venue_symbol: str, trade_id: int, price: str, qty: str,
                         taker_side: Side, trade_ns: int, event_ns: int,
                         time_unit_ns: int = MS) -> str:
    """`encode_trade` with price and quantity already spelled by `fmt8`, put together as
    text like `encode_bbo_spelled` (the same bytes as `dumps` of the dict)."""
    e, t = _t(event_ns, time_unit_ns), _t(trade_ns, time_unit_ns)
    if (type(trade_id) is int and type(e) is int and type(t) is int
            and _I64_MIN <= trade_id <= _I64_MAX and _I64_MIN <= e <= _I64_MAX
            and _I64_MIN <= t <= _I64_MAX):
        return (f'{{"e":"trade","E":{e},"s":{_json_str(venue_symbol)},"t":{trade_id},'
                f'"p":"{price}","q":"{qty}","T":{t},'
                f'"m":{"true" if taker_side is Side.SELL else "false"},"M":true}}')
    return dumps({"e": "trade", "E": e, "s": venue_symbol, "t": trade_id, "p": price,
                  "q": qty, "T": t, "m": taker_side is Side.SELL, "M": True})


def encode_server_shutdown(event_ns: int, time_unit_ns: int = MS) -> str:
    return dumps({"e": "serverShutdown", "E": _t(event_ns, time_unit_ns)})


def wrap_combined(stream: str, payload: str) -> str:
    """A raw payload inside the combined-stream envelope `{"stream":..,"data":..}`."""
    return _stream_head(stream) + payload + "}"


_I64_MIN, _I64_MAX = -2**63, 2**63 - 1   # what orjson writes as a JSON integer


@functools.lru_cache(maxsize=4096)
def _json_str(s: str) -> str:
    """`dumps(s)`: a symbol, JSON-encoded once."""
    return dumps(s)


@functools.lru_cache(maxsize=4096)
def _stream_head(stream: str) -> str:
    """`{"stream":"<name>","data":` — the same few names on every frame, encoded once."""
    return f'{{"stream":{dumps(stream)},"data":'


def encode_rest_snapshot(last_id: int, bids: Levels, asks: Levels) -> dict[str, Any]:
    """`GET /api/v3/depth` body."""
    return {"lastUpdateId": last_id, "bids": _levels(bids), "asks": _levels(asks)}


def parse_subscribe_params(params: Sequence[Any]) -> list[tuple[str, str]]:
    """Server side: SUBSCRIBE params -> (venue symbol, channel) pairs."""
    out = []
    for p in as_list(list(params), "params"):
        if not isinstance(p, str) or "@" not in p:
            raise err("stream name is not '<symbol>@<channel>'")
        sym, chan = p.split("@", 1)
        out.append((sym.upper(), chan))
    return out

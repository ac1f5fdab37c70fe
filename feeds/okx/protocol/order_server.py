"""OKX order entry, server side: what the simulated OKX venue reads and writes.

The simulator decodes a client's `/ws/v5/private` frames with `decode_ws_request` into typed
requests (login, place, cancel, batches, channel subscriptions, ping) and answers with the
`encode_*` functions, which produce exactly the real venue's shapes (EXCHANGES.md §2.5-2.7):
op responses with per-item `sCode`/`sMsg`, `orders` pushes with every documented key, REST
`orders-pending`, `fills` and `cancel-all-after` bodies. A request it cannot act on raises
`errors.RequestError` carrying the code and the request id to answer with.
"""
from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson

from pipeline.model import Side

from . import _wire as w
from . import constants as c
from .errors import RequestError
from .market import ChannelRequest, PingRequest, decode_channel_request
from .ops import OpItem
from .signing import Credentials, verify_ws_login

# -- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class LoginRequest:
    api_key: str
    passphrase: str
    timestamp: str
    sign: str

    def __repr__(self) -> str:
        return f"LoginRequest(api_key={self.api_key[:4]!r}..., timestamp={self.timestamp!r})"


@dataclass(frozen=True, slots=True)
class PlaceArgs:
    inst_id_code: int
    side: Side
    ord_type: str
    sz: Decimal
    px: Decimal | None
    td_mode: str
    cl_ord_id: str = ""
    tag: str = ""
    tgt_ccy: str = ""
    inst_id: str = ""            # REST requests name the instrument by instId (code is 0)


@dataclass(frozen=True, slots=True)
class PlaceRequest:
    req_id: str
    op: str                      # "order" | "batch-orders"
    args: tuple[PlaceArgs, ...]
    exp_time_ms: int | None = None


@dataclass(frozen=True, slots=True)
class CancelArgs:
    inst_id_code: int
    ord_id: str = ""
    cl_ord_id: str = ""
    inst_id: str = ""            # REST requests name the instrument by instId (code is 0)


@dataclass(frozen=True, slots=True)
class CancelRequest:
    req_id: str
    op: str                      # "cancel-order" | "batch-cancel-orders"
    args: tuple[CancelArgs, ...]
    exp_time_ms: int | None = None


WsRequest = LoginRequest | PlaceRequest | CancelRequest | ChannelRequest | PingRequest


class _Bad(Exception):
    """Internal: an argument failed validation (becomes RequestError 60013)."""


def _s(d: dict[str, Any], key: str, required: bool = True) -> str:
    v = d.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str):
        raise _Bad(key)
    return v


def _code(d: dict[str, Any]) -> int:
    v = d.get("instIdCode")
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise _Bad("instIdCode")  # instId is ignored by OKX's WS ops since March 2026
    return v


_DEC_MEMO: dict[str, Decimal] = {}
DEC_MEMO_MAX = 4096


def _dec(d: dict[str, Any], key: str) -> Decimal:
    """A positive decimal string -> Decimal. Strings already accepted once are memoized
    (bounded): a client repeats the same few prices and sizes, and the pattern check plus
    Decimal construction was a fifth of decoding an order. Only valid strings are stored,
    so a memo hit is exactly what the full check would return."""
    raw = d.get(key)
    if type(raw) is str:
        hit = _DEC_MEMO.get(raw)
        if hit is not None:
            return hit
    try:
        v = w.to_dec(raw, key)
    except w.ProtocolError:
        raise _Bad(key) from None
    if v <= 0:
        raise _Bad(key)
    if type(raw) is str:
        if len(_DEC_MEMO) >= DEC_MEMO_MAX:
            _DEC_MEMO.clear()
        _DEC_MEMO[raw] = v
    return v


def _plain_id(v: Any) -> bool:
    """`w.is_alnum_id` (1-32 ASCII letters and digits) with str methods instead of a regex."""
    return isinstance(v, str) and v.isascii() and v.isalnum() and len(v) <= 32


def _cl_ord_id(d: dict[str, Any]) -> str:
    v = _s(d, "clOrdId", required=False)
    if v and not _plain_id(v):
        raise _Bad("clOrdId")
    return v


def _inst_id(d: dict[str, Any]) -> str:
    v = d.get("instId")
    if not isinstance(v, str) or not v or len(v) > 64:
        raise _Bad("instId")
    return v


_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_TGT_CCYS = frozenset({"", c.TGT_CCY_BASE, c.TGT_CCY_QUOTE})


def _place_args(a: Any, rest: bool = False) -> PlaceArgs:
    """One order's arguments, checked in a fixed order (the first failing key names the REST
    error). `_s` is inlined for the optional keys: this runs once per order request."""
    if not isinstance(a, dict):
        raise _Bad("args")
    side = a.get("side")
    side_v = _SIDES.get(side) if type(side) is str else (
        Side.BUY if side == "buy" else Side.SELL if side == "sell" else None)
    if side_v is None:
        raise _Bad("side")
    ord_type = a.get("ordType")
    if type(ord_type) is not str:
        ord_type = _s(a, "ordType")   # a str subclass passes, anything else is refused
    if ord_type not in c.ORD_TYPES:
        raise _Bad("ordType")
    tag = a.get("tag")
    if tag is None:
        tag = ""
    elif type(tag) is not str:
        tag = _s(a, "tag", required=False)
    if tag and (len(tag) > c.MAX_TAG_LEN or not _plain_id(tag)):
        raise _Bad("tag")
    tgt = a.get("tgtCcy")
    if tgt is None:
        tgt = ""
    elif type(tgt) is not str:
        tgt = _s(a, "tgtCcy", required=False)
    if tgt not in _TGT_CCYS:
        raise _Bad("tgtCcy")
    return PlaceArgs(
        0 if rest else _code(a), side_v, ord_type, _dec(a, "sz"),
        None if ord_type == "market" else _dec(a, "px"), _s(a, "tdMode"), _cl_ord_id(a), tag,
        tgt, _inst_id(a) if rest else "")


def _cancel_args(a: Any, rest: bool = False) -> CancelArgs:
    if not isinstance(a, dict):
        raise _Bad("args")
    ord_id = _s(a, "ordId", required=False)
    cl = _cl_ord_id(a)
    if not ord_id and not cl:
        raise _Bad("ordId")
    if ord_id and not (ord_id.isascii() and ord_id.isdigit() and len(ord_id) <= 32):
        raise _Bad("ordId")
    if rest:
        return CancelArgs(0, ord_id, cl, _inst_id(a))
    return CancelArgs(_code(a), ord_id, cl)


# -- REST trading bodies (instId, not instIdCode) ----------------------------------------------
_REQUIRED_PLACE = ("instId", "tdMode", "side", "ordType", "sz")


def _rest_error(exc: _Bad, d: Any) -> RequestError:
    key = str(exc)
    if isinstance(d, dict) and key in _REQUIRED_PLACE + ("px",) and d.get(key) in (None, ""):
        return RequestError(f"Parameter {key} can not be empty", c.CODE_PARAM_EMPTY)
    return RequestError(f"Parameter {key} error", c.CODE_PARAM_ERROR)


def _rest_json(body: str | bytes) -> Any:
    try:
        return w.loads(body)
    except w.ProtocolError:
        raise RequestError("Invalid request body", c.CODE_PARAM_ERROR) from None


def _rest_items(body: str | bytes, batch: bool) -> list[Any]:
    d = _rest_json(body)
    if not batch:
        return [d]
    if not isinstance(d, list) or not 1 <= len(d) <= c.MAX_BATCH:
        raise RequestError(f"a batch holds 1-{c.MAX_BATCH} orders", c.CODE_PARAM_ERROR)
    return d


def decode_rest_place(body: str | bytes, batch: bool = False) -> tuple[PlaceArgs, ...]:
    """`POST /api/v5/trade/order` (one object) or `batch-orders` (array) body -> PlaceArgs with
    `inst_id` set; RequestError 50014 (empty parameter) / 51000 (parameter error)."""
    out = []
    for d in _rest_items(body, batch):
        try:
            out.append(_place_args(d, rest=True))
        except _Bad as exc:
            raise _rest_error(exc, d) from None
    return tuple(out)


def decode_rest_cancel(body: str | bytes, batch: bool = False) -> tuple[CancelArgs, ...]:
    """`POST /api/v5/trade/cancel-order` / `cancel-batch-orders` body -> CancelArgs."""
    out = []
    for d in _rest_items(body, batch):
        try:
            out.append(_cancel_args(d, rest=True))
        except _Bad as exc:
            raise _rest_error(exc, d) from None
    return tuple(out)


def decode_cancel_all_after(body: str | bytes) -> tuple[int, str]:
    """`POST /api/v5/trade/cancel-all-after` body -> (timeOut seconds, tag)."""
    d = _rest_json(body)
    if not isinstance(d, dict) or d.get("timeOut") in (None, ""):
        raise RequestError("Parameter timeOut can not be empty", c.CODE_PARAM_EMPTY)
    raw = d["timeOut"]
    try:
        t = w.to_int(raw, "timeOut")
    except w.ProtocolError:
        raise RequestError("Parameter timeOut error", c.CODE_PARAM_ERROR) from None
    if t != 0 and not c.CANCEL_ALL_AFTER_MIN_S <= t <= c.CANCEL_ALL_AFTER_MAX_S:
        raise RequestError("Parameter timeOut error", c.CODE_PARAM_ERROR)
    tag = d.get("tag", "")
    if not isinstance(tag, str) or (tag and (len(tag) > c.MAX_TAG_LEN
                                             or not w.is_alnum_id(tag))):
        raise RequestError("Parameter tag error", c.CODE_PARAM_ERROR)
    return t, tag


def _login(d: dict[str, Any]) -> LoginRequest:
    args = d.get("args")
    if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
        raise RequestError("login needs one arg", c.CODE_INVALID_REQUEST, None, c.OP_LOGIN)
    a = args[0]
    try:
        return LoginRequest(_s(a, "apiKey"), _s(a, "passphrase"), _s(a, "timestamp"),
                            _s(a, "sign"))
    except _Bad as exc:
        raise RequestError(f"login arg {exc}", c.CODE_INVALID_REQUEST, None, c.OP_LOGIN) from None


_BATCH_OPS = frozenset({c.OP_BATCH_ORDERS, c.OP_BATCH_CANCEL_ORDERS})
_PLACE_OPS = frozenset({c.OP_ORDER, c.OP_BATCH_ORDERS})
_TRADE_OPS = frozenset({c.OP_ORDER, c.OP_BATCH_ORDERS, c.OP_CANCEL_ORDER,
                        c.OP_BATCH_CANCEL_ORDERS})


def _trade_op(d: dict[str, Any], op: str) -> PlaceRequest | CancelRequest:
    rid = d.get("id")
    if not _plain_id(rid):
        raise RequestError("trading ops need an 'id'", c.CODE_INVALID_REQUEST, None, op)
    exp_raw = d.get("expTime")
    args = d.get("args")
    try:
        exp = None if exp_raw is None else w.to_int(exp_raw, "expTime")
        if not isinstance(args, list) or not args or \
                len(args) > (c.MAX_BATCH if op in _BATCH_OPS else 1):
            raise _Bad("args")
        read = _place_args if op in _PLACE_OPS else _cancel_args
        # one order per request is the common case: no generator for it
        items = (read(args[0]),) if len(args) == 1 else tuple(read(a) for a in args)
        if read is _place_args:
            return PlaceRequest(rid, op, items, exp)  # type: ignore[arg-type]
        return CancelRequest(rid, op, items, exp)  # type: ignore[arg-type]
    except (_Bad, w.ProtocolError):
        raise RequestError("invalid args", c.CODE_INVALID_ARGS, rid, op) from None


_PING_BYTES = c.PING.encode()


def _loads_or_raise(frame: Any) -> Any:
    """`w.loads(frame)` for a frame orjson refused: the same RequestError text as before."""
    try:
        return w.loads(frame)
    except w.ProtocolError as exc:
        raise RequestError(exc.what, c.CODE_INVALID_REQUEST) from None


def decode_ws_request(frame: str | bytes) -> WsRequest:
    """A client's /ws/v5/private (or public) frame -> typed request; RequestError if bad."""
    if frame == c.PING or frame == _PING_BYTES:
        return PingRequest()
    try:   # a str parses directly; anything else (and any failure) takes w.loads's checks
        d = orjson.loads(frame) if type(frame) is str else w.loads(frame)
    except orjson.JSONDecodeError:
        d = _loads_or_raise(frame)
    except w.ProtocolError as exc:
        raise RequestError(exc.what, c.CODE_INVALID_REQUEST) from None
    if not isinstance(d, dict):
        raise RequestError("request is not an object", c.CODE_INVALID_REQUEST)
    op = d.get("op")
    if type(op) is str and op in _TRADE_OPS:   # the hot case first
        return _trade_op(d, op)
    if op == c.OP_LOGIN:
        return _login(d)
    if op in (c.OP_SUBSCRIBE, c.OP_UNSUBSCRIBE):
        return decode_channel_request(d)
    if isinstance(op, str) and op in _TRADE_OPS:   # a str subclass
        return _trade_op(d, op)
    rid = d.get("id")
    raise RequestError("unsupported 'op'", c.CODE_INVALID_REQUEST,
                       rid if w.is_alnum_id(rid) else None, op if isinstance(op, str) else "")


def verify_login(req: LoginRequest, creds: Credentials, now_s: int) -> bool:
    """Key, passphrase, a timestamp within 30 s of `now_s`, and the signature all match."""
    try:
        ts = int(req.timestamp)
    except ValueError:
        return False
    if abs(now_s - ts) > c.LOGIN_EXPIRY_S:
        return False
    return (hmac.compare_digest(req.api_key.encode(), creds.key.encode())
            and hmac.compare_digest(req.passphrase.encode(), creds.passphrase.encode())
            and verify_ws_login(creds.secret, req.timestamp, req.sign))


def check_login(req: LoginRequest, creds: Credentials | None, now_s: int
                ) -> tuple[str, str] | None:
    """Why OKX would refuse this `login` — (code, msg) — or None when it is good. `creds` is
    None for an unknown API key. Order of checks: timestamp, key, passphrase, signature."""
    try:
        ts = int(req.timestamp)
    except ValueError:
        return c.CODE_WS_INVALID_TIMESTAMP, "Invalid timestamp"
    if abs(now_s - ts) > c.LOGIN_EXPIRY_S:
        return c.CODE_WS_TIMESTAMP_EXPIRED, "Timestamp request expired"
    if creds is None:
        return c.CODE_WS_INVALID_KEY, "Invalid apiKey"
    if not hmac.compare_digest(req.passphrase.encode(), creds.passphrase.encode()):
        return c.CODE_WS_WRONG_PASSPHRASE, "Wrong passphrase"
    if not verify_ws_login(creds.secret, req.timestamp, req.sign):
        return c.CODE_WS_INVALID_SIGN, "Invalid sign"
    return None


# -- responses ---------------------------------------------------------------------------------
def encode_login_ok(conn_id: str) -> str:
    return w.dumps({"event": c.OP_LOGIN, "code": c.CODE_OK, "msg": "", "connId": conn_id})


def encode_login_error(conn_id: str, code: str = c.CODE_LOGIN_FAILED,
                       msg: str = "Login failed.") -> str:
    return w.dumps({"event": c.EVENT_ERROR, "code": code, "msg": msg, "connId": conn_id})


def _envelope_code(items: Sequence[OpItem]) -> str:
    ok = sum(1 for i in items if i.s_code == c.CODE_OK)
    if ok == len(items):
        return c.CODE_OK
    return c.CODE_FAILED if ok == 0 else c.CODE_PARTIAL


def _item(i: OpItem, place: bool, rest: bool) -> dict[str, Any]:
    ts = str(i.ts_event // w.NS_PER_MS)
    if not place:
        return {"clOrdId": i.cl_ord_id, "ordId": i.ord_id, "ts": ts, "sCode": i.s_code,
                "sMsg": i.s_msg}
    d = {"clOrdId": i.cl_ord_id, "ordId": i.ord_id, "tag": i.tag, "ts": ts,
         "sCode": i.s_code, "sMsg": i.s_msg}
    if rest or i.sub_code:
        d["subCode"] = i.sub_code
    return d


def encode_op_response(req_id: str, op: str, items: Sequence[OpItem], in_ns: int,
                       out_ns: int) -> str:
    """A WS trading-op reply: envelope code 0 / 1 (all failed) / 2 (partial) from the items."""
    if not items:
        raise w.err("an op response needs items (use encode_op_error)")
    place = op in _PLACE_OPS
    if len(items) == 1:   # one order: its own code is the envelope's ("0" or "1")
        one = items[0]
        data = [_item(one, place, rest=False)]
        code = c.CODE_OK if one.s_code == c.CODE_OK else c.CODE_FAILED
    else:
        data = [_item(i, place, rest=False) for i in items]
        code = _envelope_code(items)
    return w.dumps({"id": req_id, "op": op, "data": data, "code": code, "msg": "",
                    "inTime": w.us_str(in_ns), "outTime": w.us_str(out_ns)})


# one order's outcome as the simulator's order path carries it to the reply:
# (clOrdId, ordId, sCode, sMsg, tag, ts_event ns); the subCode is always empty
OpRow = tuple[str, str, str, str, str, int]


def encode_op_rows(req_id: str, op: str, rows: Sequence[OpRow], in_ns: int,
                   out_ns: int) -> str:
    """`encode_op_response` for outcomes given as `OpRow`s: the same bytes (the items'
    keys and order of `_item`, the envelope code of `_envelope_code`) without building an
    `OpItem` per order, once per order request on the simulator's order path."""
    if not rows:
        raise w.err("an op response needs items (use encode_op_error)")
    if len(rows) == 1:
        text = _one_row_text(req_id, op, rows[0], in_ns, out_ns)
        if text is not None:
            return text
    if op in _PLACE_OPS:
        data = [{"clOrdId": cl, "ordId": oid, "tag": tag, "ts": str(ts // w.NS_PER_MS),
                 "sCode": code, "sMsg": msg} for cl, oid, code, msg, tag, ts in rows]
    else:
        data = [{"clOrdId": cl, "ordId": oid, "ts": str(ts // w.NS_PER_MS), "sCode": code,
                 "sMsg": msg} for cl, oid, code, msg, _tag, ts in rows]
    ok = sum(1 for r in rows if r[2] == c.CODE_OK)
    env = c.CODE_OK if ok == len(rows) else c.CODE_FAILED if ok == 0 else c.CODE_PARTIAL
    return w.dumps({"id": req_id, "op": op, "data": data, "code": env, "msg": "",
                    "inTime": w.us_str(in_ns), "outTime": w.us_str(out_ns)})


# the JSON `w.dumps` writes for a one-order reply, with the values cut out (see below)
_ONE_PLACE = ('{"id":"%s","op":"order","data":[{"clOrdId":"%s","ordId":"%s","tag":"%s",'
              '"ts":"%d","sCode":"%s","sMsg":%s}],"code":"%s","msg":"","inTime":"%d",'
              '"outTime":"%d"}')
_ONE_CANCEL = ('{"id":"%s","op":"cancel-order","data":[{"clOrdId":"%s","ordId":"%s",'
               '"ts":"%d","sCode":"%s","sMsg":%s}],"code":"%s","msg":"","inTime":"%d",'
               '"outTime":"%d"}')
_MSG_JSON: dict[str, str] = {}   # sMsg -> its JSON (the venue's few fixed messages)
MSG_MEMO_MAX = 1024


def _one_row_text(req_id: str, op: str, row: OpRow, in_ns: int, out_ns: int) -> str | None:
    """The reply to a one-order `order` / `cancel-order` request, by `%` format: the bytes
    `w.dumps` gives for the same dict, when every value is letters and digits (which JSON
    never escapes: the ids the decoder accepted, the codes) and the message's JSON is memoised;
    None otherwise (the caller encodes the dict). Why: this reply goes out once per order
    request, and building and serialising its two dicts was most of its cost."""
    cl, oid, code, msg, tag, ts = row
    if type(ts) is not int or type(in_ns) is not int or type(out_ns) is not int or not (
            type(req_id) is str and req_id.isalnum() and type(cl) is str
            and (cl.isalnum() or not cl) and type(oid) is str and (oid.isalnum() or not oid)
            and type(code) is str and code.isalnum() and type(msg) is str):
        return None
    m = _MSG_JSON.get(msg)
    if m is None:
        if len(_MSG_JSON) >= MSG_MEMO_MAX:
            _MSG_JSON.clear()
        m = _MSG_JSON[msg] = w.dumps(msg)
    env = c.CODE_OK if code == c.CODE_OK else c.CODE_FAILED
    if op == c.OP_ORDER:
        if type(tag) is not str or not (tag.isalnum() or not tag):
            return None
        return _ONE_PLACE % (req_id, cl, oid, tag, ts // w.NS_PER_MS, code, m, env,
                             in_ns // w.NS_PER_US, out_ns // w.NS_PER_US)
    if op == c.OP_CANCEL_ORDER:
        return _ONE_CANCEL % (req_id, cl, oid, ts // w.NS_PER_MS, code, m, env,
                              in_ns // w.NS_PER_US, out_ns // w.NS_PER_US)
    return None


def encode_op_error(req_id: str, op: str, code: str, msg: str, in_ns: int, out_ns: int) -> str:
    """A request-level failure (60013 invalid args, 50011 rate limit...): `data` empty."""
    return w.dumps({"id": req_id, "op": op, "data": [], "code": code, "msg": msg,
                    "inTime": w.us_str(in_ns), "outTime": w.us_str(out_ns)})


def encode_rest_op_response(items: Sequence[OpItem], in_ns: int, out_ns: int, *,
                            place: bool = True) -> dict[str, Any]:
    """REST `trade/order`, `batch-orders`, `cancel-order`, `cancel-batch-orders` body."""
    if not items:
        raise w.err("an op response needs items")
    return {"code": _envelope_code(items), "msg": "",
            "data": [_item(i, place, rest=True) for i in items],
            "inTime": w.us_str(in_ns), "outTime": w.us_str(out_ns)}


# -- orders ------------------------------------------------------------------------------------
@dataclass(slots=True)
class VenueOrder:
    """The simulator's view of one order, enough for every documented push/REST field.

    Fees are in our convention (positive = paid) and flipped to OKX's sign on the wire. The
    `fill_*` fields describe the fill this update reports (empty `trade_id` = no fill).
    """

    inst_id: str
    ord_id: str
    side: Side
    ord_type: str
    sz: Decimal
    px: Decimal | None
    state: str
    c_time_ns: int
    u_time_ns: int
    cl_ord_id: str = ""
    tag: str = ""
    tgt_ccy: str = ""
    acc_fill_sz: Decimal = Decimal(0)
    avg_px: Decimal | None = None
    fee_paid: Decimal = Decimal(0)           # cumulative
    fee_ccy: str = ""
    rebate: Decimal = Decimal(0)
    rebate_ccy: str = ""
    cancel_source: str = ""
    stp_mode: str = "cancel_maker"
    trade_id: str = ""
    fill_px: Decimal | None = None
    fill_sz: Decimal = Decimal(0)
    fill_time_ns: int = 0
    fill_fee_paid: Decimal = Decimal(0)
    fill_fee_ccy: str = ""
    exec_type: str = ""                       # "M" maker, "T" taker, "" no fill
    last_px: Decimal | None = None
    quote_ccy: str = ""
    code: str = "0"
    msg: str = ""
    req_id: str = ""
    amend_result: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_NUM_MEMO: dict[Decimal, str] = {}
NUM_MEMO_MAX = 4096


def _num(v: Decimal) -> str:
    """`w.num_str(v)`, memoized by value for finite Decimals. Why: an orders push formats six
    numbers per order (sizes, prices, fees, mostly the same few values) and `num_str`'s
    checks and formatting were a third of encoding one. The string depends only on the value
    (equal Decimals such as 1.0 and 1.00 both give "1"), so the memo is exact; it is bounded
    (cleared when full), never a leak."""
    if type(v) is not Decimal or not v.is_finite():
        return w.num_str(v)
    if not v:
        return "0"   # any zero (0, 0E-8, -0): most amounts of an unfilled order
    s = _NUM_MEMO.get(v)
    if s is None:
        s = w.num_str(v)
        if len(_NUM_MEMO) >= NUM_MEMO_MAX:
            _NUM_MEMO.clear()
        _NUM_MEMO[v] = s
    return s


def _n(v: Decimal | None) -> str:
    return "" if v is None else _num(v)


def _fee(v: Decimal) -> str:
    return _num(-v) if v else "0"


def _ms(ts_ns: int) -> str:
    return str(ts_ns // w.NS_PER_MS) if ts_ns else ""


# every key of an `orders` item in OKX's order; the values here are the constant ones (the
# keys every order fills in are set by `encode_order_item`)
_ORDER_ITEM: dict[str, Any] = {
    "accFillSz": "0", "algoClOrdId": "", "algoId": "", "amendResult": "", "amendSource": "",
    "avgPx": "", "cancelSource": "", "category": "normal", "ccy": "", "clOrdId": "",
    "code": "0", "cTime": "", "execType": "", "fee": "0", "feeCcy": "", "fillFee": "0",
    "fillFeeCcy": "", "fillNotionalUsd": "", "fillPx": "", "fillSz": "0", "fillPnl": "0",
    "fillTime": "", "fillPxVol": "", "fillPxUsd": "", "fillMarkVol": "", "fillFwdPx": "",
    "fillMarkPx": "", "fillIdxPx": "", "instId": "", "instType": c.INST_TYPE_SPOT,
    "lever": "0", "msg": "", "notionalUsd": "", "ordId": "", "ordType": "", "pnl": "0",
    "posSide": "", "px": "", "pxUsd": "", "pxVol": "", "pxType": "", "quickMgnType": "",
    "rebate": "0", "rebateCcy": "", "reduceOnly": "false", "reqId": "", "side": "",
    "attachAlgoClOrdId": "", "slOrdPx": "", "slTriggerPx": "", "slTriggerPxType": "",
    "source": "", "state": "", "stpId": "", "stpMode": "", "sz": "", "tag": "",
    "tdMode": c.TD_MODE_CASH, "tgtCcy": "", "tpOrdPx": "", "tpTriggerPx": "",
    "tpTriggerPxType": "", "attachAlgoOrds": None, "tradeId": "", "tradeQuoteCcy": "",
    "lastPx": "", "uTime": "", "isTpLimit": "false", "linkedAlgoOrd": None,
}


def encode_order_item(o: VenueOrder) -> dict[str, Any]:
    """One `orders` channel item with every key of the documented push (in OKX's order).

    A copy of `_ORDER_ITEM` with the order's own values set: copying a 70-key dict and
    setting 35 of its keys measured ~3x faster than a 70-key literal, and this runs once
    per order update on the simulator's order path. Key order is the template's."""
    d = _ORDER_ITEM.copy()
    if o.trade_id:
        fp = o.fill_px
        d["execType"] = o.exec_type
        d["fillFee"] = _fee(o.fill_fee_paid)
        d["fillFeeCcy"] = o.fill_fee_ccy
        d["fillPx"] = "" if fp is None else _num(fp)
        d["fillSz"] = _num(o.fill_sz)
        d["fillTime"] = _ms(o.fill_time_ns)
    avg, px, last, fee = o.avg_px, o.px, o.last_px, o.fee_paid
    d["accFillSz"] = _num(o.acc_fill_sz)
    d["amendResult"] = o.amend_result
    if avg is not None:
        d["avgPx"] = _num(avg)
    d["cancelSource"] = o.cancel_source
    d["clOrdId"] = o.cl_ord_id
    d["code"] = o.code
    d["cTime"] = _ms(o.c_time_ns)
    if fee:
        d["fee"] = _num(-fee)
    d["feeCcy"] = o.fee_ccy
    d["instId"] = o.inst_id
    d["msg"] = o.msg
    d["ordId"] = o.ord_id
    d["ordType"] = o.ord_type
    if px is not None:
        d["px"] = _num(px)
    d["rebate"] = _num(o.rebate)
    d["rebateCcy"] = o.rebate_ccy
    d["reqId"] = o.req_id
    d["side"] = "buy" if o.side is Side.BUY else "sell"
    d["state"] = o.state
    d["stpMode"] = o.stp_mode
    d["sz"] = _num(o.sz)
    d["tag"] = o.tag
    d["tgtCcy"] = o.tgt_ccy
    d["attachAlgoOrds"] = []
    d["tradeId"] = o.trade_id
    d["tradeQuoteCcy"] = o.quote_ccy or o.inst_id.split("-")[-1]
    if last is not None:
        d["lastPx"] = _num(last)
    d["uTime"] = _ms(o.u_time_ns)
    d["linkedAlgoOrd"] = {"algoId": ""}
    return d


def encode_orders_push(orders: Sequence[VenueOrder], uid: str, inst_id: str | None = None
                       ) -> str:
    """An `orders` channel push; `inst_id` echoes a subscription made with one."""
    return encode_orders_push_items([encode_order_item(o) for o in orders], uid, inst_id)


def encode_orders_push_items(items: Sequence[dict[str, Any]], uid: str,
                             inst_id: str | None = None) -> str:
    """An `orders` push of already-encoded order items (OKX packs several orders' updates
    into one push's `data` when they happen together, e.g. a batch of placements)."""
    arg: dict[str, str] = {"channel": c.CH_ORDERS, "instType": c.INST_TYPE_SPOT}
    if inst_id:
        arg["instId"] = inst_id
    arg["uid"] = uid
    return w.dumps({"arg": arg, "data": list(items)})


def encode_pending_item(o: VenueOrder) -> dict[str, Any]:
    """One `GET /api/v5/trade/orders-pending` item with every documented key."""
    quote = o.quote_ccy or o.inst_id.split("-")[-1]
    return {
        "accFillSz": w.num_str(o.acc_fill_sz), "algoClOrdId": "", "algoId": "",
        "attachAlgoClOrdId": "", "attachAlgoOrds": [], "avgPx": _n(o.avg_px),
        "cTime": _ms(o.c_time_ns), "cancelSource": o.cancel_source, "cancelSourceReason": "",
        "category": "normal", "ccy": "", "clOrdId": o.cl_ord_id, "fee": _fee(o.fee_paid),
        "feeCcy": o.fee_ccy, "fillPx": _n(o.fill_px) if o.trade_id else "",
        "fillSz": w.num_str(o.fill_sz) if o.trade_id else "0",
        "fillTime": _ms(o.fill_time_ns) if o.trade_id else "", "instId": o.inst_id,
        "instType": c.INST_TYPE_SPOT, "isTpLimit": "false", "lever": "",
        "linkedAlgoOrd": {"algoId": ""}, "ordId": o.ord_id, "ordType": o.ord_type,
        "pnl": "0", "posSide": "net", "px": _n(o.px), "pxType": "", "pxUsd": "", "pxVol": "",
        "quickMgnType": "", "rebate": w.num_str(o.rebate), "rebateCcy": o.rebate_ccy,
        "reduceOnly": "false", "side": w.side_str(o.side), "slOrdPx": "", "slTriggerPx": "",
        "slTriggerPxType": "", "source": "", "state": o.state, "stpId": "",
        "stpMode": o.stp_mode, "sz": w.num_str(o.sz), "tag": o.tag, "tdMode": c.TD_MODE_CASH,
        "tgtCcy": o.tgt_ccy, "tpOrdPx": "", "tpTriggerPx": "", "tpTriggerPxType": "",
        "tradeId": o.trade_id, "tradeQuoteCcy": quote, "uTime": _ms(o.u_time_ns),
    }


def encode_orders_pending(orders: Sequence[VenueOrder]) -> dict[str, Any]:
    return {"code": c.CODE_OK, "data": [encode_pending_item(o) for o in orders], "msg": ""}


@dataclass(frozen=True, slots=True)
class VenueFill:
    """One execution for `GET /api/v5/trade/fills` (fee positive = paid, as above)."""

    inst_id: str
    trade_id: str
    ord_id: str
    bill_id: str
    side: Side
    fill_px: Decimal
    fill_sz: Decimal
    exec_type: str
    fee_paid: Decimal
    fee_ccy: str
    ts_ns: int
    cl_ord_id: str = ""
    tag: str = ""


def encode_fills(fills: Sequence[VenueFill]) -> dict[str, Any]:
    """`GET /api/v5/trade/fills` body. This shape is not in EXCHANGES.md; the field names
    follow OKX's docs-v5 `get-transaction-details` page (spot subset)."""
    return {"code": c.CODE_OK, "msg": "", "data": [{
        "instType": c.INST_TYPE_SPOT, "instId": f.inst_id, "tradeId": f.trade_id,
        "ordId": f.ord_id, "clOrdId": f.cl_ord_id, "billId": f.bill_id, "subType": "",
        "tag": f.tag, "fillPx": w.num_str(f.fill_px), "fillSz": w.num_str(f.fill_sz),
        "fillIdxPx": "", "fillPnl": "0", "fillPxVol": "", "fillPxUsd": "", "fillMarkVol": "",
        "fillFwdPx": "", "fillMarkPx": "", "side": w.side_str(f.side), "posSide": "net",
        "execType": f.exec_type, "feeCcy": f.fee_ccy, "fee": _fee(f.fee_paid),
        "ts": w.ms_str(f.ts_ns), "fillTime": w.ms_str(f.ts_ns),
    } for f in fills]}


@dataclass(frozen=True, slots=True)
class VenueBalance:
    ccy: str
    available: Decimal
    frozen: Decimal


def encode_balance(balances: Sequence[VenueBalance], ts_ns: int) -> dict[str, Any]:
    """`GET /api/v5/account/balance` body (spot cash subset of OKX's `details` keys; margin
    and USD-valuation fields are empty, as for a cash-only account)."""
    ms = w.ms_str(ts_ns)
    details = []
    for b in balances:
        eq = w.num_str(b.available + b.frozen)
        details.append({
            "availBal": w.num_str(b.available), "availEq": w.num_str(b.available),
            "cashBal": eq, "ccy": b.ccy, "crossLiab": "", "disEq": "", "eq": eq, "eqUsd": "",
            "fixedBal": "0", "frozenBal": w.num_str(b.frozen), "interest": "", "isoEq": "",
            "isoLiab": "", "isoUpl": "", "liab": "", "maxLoan": "", "mgnRatio": "",
            "notionalLever": "", "ordFrozen": w.num_str(b.frozen), "spotInUseAmt": "",
            "stgyEq": "0", "twap": "0", "uTime": ms, "upl": "", "uplLiab": ""})
    return {"code": c.CODE_OK, "msg": "", "data": [{
        "adjEq": "", "borrowFroz": "", "details": details, "imr": "", "isoEq": "",
        "mgnRatio": "", "mmr": "", "notionalUsd": "", "ordFroz": "", "totalEq": "",
        "uTime": ms, "upl": ""}]}


def encode_cancel_all_after(trigger_ns: int, ts_ns: int, tag: str = "") -> dict[str, Any]:
    """`POST /api/v5/trade/cancel-all-after` body; `trigger_ns` 0 = switch disabled."""
    return {"code": c.CODE_OK, "msg": "", "data": [{
        "triggerTime": w.ms_str(trigger_ns) if trigger_ns else "0", "tag": tag,
        "ts": w.ms_str(ts_ns)}]}

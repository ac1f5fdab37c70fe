"""The hot path of the Binance gateway's WS API connection: the frames every order brings (the
`order.place` / `order.cancel` responses, `executionReport` and `outboundAccountPosition`
events) -> the very records `orders.parse_private` makes of them, or None.

Why it exists: one order placed and cancelled brings six frames here (two responses with their
`rateLimits`, two execution reports and two balance events), and the strict parser reads every
field through a validating helper (`_wire.get_dec`: a regex and a Decimal per number,
`_nearest`: a Decimal division per price and size, a frozen-dataclass `__init__` per record):
~250 Python calls per order and most of the gateway's CPU. Here fields are read by direct dict
access with exact type checks, and the number conversions are memoised: string -> ticks/lots of
the instrument, string -> Decimal, each the strict conversion's own result for that string
(so it cannot differ); records are built by slot stores into mutable twins
(`pipeline.messages.build_exec_report`).

The contract, as for the feed's `market_fast.py`: for any frame this returns either None (the
caller then runs `parse_private`, which applies every rule and raises `ProtocolError` on a
malformed frame) or a list equal, record for record and field for field, to what
`parse_private` returns; it declines anything it does not fully check and it never raises.
`tests/unit/feeds/binance/test_orders_fast.py` checks that on fuzzed frames.

Called by `BinanceGatewayAdapter.parse` before `parse_private`.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from operator import itemgetter
from typing import Any

import orjson

from feeds.fast_paths import InstrumentMemo as _Grid
from feeds.fast_paths import memo_for, remember
from pipeline.errors import ProtocolError
from pipeline.messages import build_exec_report
from pipeline.model import Instrument, RejectReason, Side

from . import _wire as w
from .orders import (
    _ER_REASON,
    _EXEC,
    _STATUS,
    AccountPosition,
    Balance,
    RateLimit,
    WsApiResponse,
    _nearest,
)

_loads = orjson.loads
_new = object.__new__
_NS_PER_MS = 1_000_000
_I64 = 1 << 63
_VENUE = w.VENUE
_BUY, _SELL = Side.BUY, Side.SELL
_R_NONE, _R_OTHER, _R_SELF = RejectReason.NONE, RejectReason.OTHER, RejectReason.SELF_TRADE


# Every executionReport carries these (Binance sends all keys, `N` null when no fee); one C
# call fetches them all, and the common case (all of the expected types) is read from the
# tuple. A report missing any, or of any other shape, takes the general reader.
_ER_FIELDS = itemgetter("s", "x", "X", "r", "t", "C", "c", "S", "m", "i", "p", "q", "z", "l",
                        "L", "n", "T", "N")
_ER_TYPES = (str, str, str, str, int, str, str, str, bool, int, str, str, str, str, str, str,
             int)


_RL_FIELDS = itemgetter("rateLimitType", "interval", "intervalNum", "limit", "count")
_RL_TYPES = (str, str, int, int, int)


class _Decline(Exception):
    """Not a frame the fast path fully checks: the strict parser decides."""


_DECLINE = _Decline()


class _RateLimitDraft:
    __slots__ = RateLimit.__slots__  # type: ignore[attr-defined]


class _ResponseDraft:
    __slots__ = WsApiResponse.__slots__  # type: ignore[attr-defined]


class _BalanceDraft:
    __slots__ = Balance.__slots__  # type: ignore[attr-defined]


class _PositionDraft:
    __slots__ = AccountPosition.__slots__  # type: ignore[attr-defined]


def _int(v: Any) -> int:
    """`_wire.to_int`: a JSON int (never a bool) within int64."""
    if type(v) is int and -_I64 <= v < _I64:
        return v
    raise _DECLINE


def _ms(v: Any) -> int:
    """`_wire.ms_to_ns`."""
    if type(v) is int and 0 <= v < _I64:
        return v * _NS_PER_MS
    raise _DECLINE




def _steps(table: dict[str, int], v: Any, step: Decimal) -> int:
    n = table.get(v) if type(v) is str else None
    if n is None:
        try:
            n = _nearest(w.to_dec(v, "number"), step)
        except (ProtocolError, ArithmeticError, ValueError):
            raise _DECLINE from None
        remember(table, v, n)
    return n


class BinanceOrdersFast:
    """The fast path with its memo (one per gateway adapter)."""

    __slots__ = ("_decs", "_grids", "_signed")

    def __init__(self) -> None:
        self._grids: dict[str, _Grid] = {}
        self._decs: dict[str, Decimal] = {}     # non-negative decimal strings
        self._signed: dict[str, Decimal] = {}   # fees

    def _dec(self, v: Any, signed: bool = False) -> Decimal:
        """`_wire.to_dec(v, .., signed)`, memoised by string."""
        table = self._signed if signed else self._decs
        d = table.get(v) if type(v) is str else None
        if d is None:
            try:
                d = w.to_dec(v, "number", signed)
            except ProtocolError:
                raise _DECLINE from None
            remember(table, v, d)
        return d

    def _grid(self, symbol: str, inst: Instrument) -> _Grid:
        return memo_for(self._grids, symbol, inst)

    def parse(self, frame: str | bytes, ts_recv: int, instruments: Mapping[str, Instrument]
              ) -> list[Any] | None:
        """`orders.parse_private(frame, ts_recv, instruments)` for order responses, execution
        reports and balance events; None for every other frame or anything not fully checked."""
        if type(frame) is not str and type(frame) is not bytes:
            return None
        try:
            obj = _loads(frame)
            if type(obj) is not dict:
                return None
            if "subscriptionId" in obj and "event" in obj:
                sub = obj["subscriptionId"]
                if sub is not None:
                    _int(sub)
                ev = obj["event"]
                if type(ev) is not dict:
                    return None
                e = ev.get("e")
                if e == "executionReport":
                    r = self._er_plain(ev, instruments, ts_recv)
                    if r is False:
                        r = self._execution_report(ev, instruments, ts_recv)
                    return None if r is None else [r]
                if e == "outboundAccountPosition":
                    return [self._account_position(ev)]
                return None
            if "status" in obj:
                return [self._response(obj)]
            return None
        except Exception:  # noqa: BLE001  (_Decline, bad JSON, anything unforeseen: strict decides)
            return None

    def _er_plain(self, ev: dict[str, Any], instruments: Mapping[str, Instrument],
                  ts_recv: int) -> Any:
        """`_execution_report` for the commonest report: every key there with the expected
        type, its numbers seen before. False (not taken) for anything else."""
        try:
            f = _ER_FIELDS(ev)
        except KeyError:
            return False
        if tuple(map(type, f[:17])) != _ER_TYPES:
            return False
        vs, x, big_x, r, trade_id, cid, c_own, side_s, is_maker, oid, p, q, z, last, big_l, \
            n, t, fee_asset = f
        inst = instruments.get(vs)
        if inst is None:
            return None  # the strict parser's notice
        exec_type = _EXEC.get(x)
        status = _STATUS.get(big_x)
        if exec_type is None or status is None or not -_I64 <= trade_id < _I64 \
                or not -_I64 <= oid < _I64 or not 0 <= t < _I64:
            return False
        if fee_asset is None:
            fee_asset = ""
        elif type(fee_asset) is not str:
            return False
        if side_s == "BUY":
            side = _BUY
        elif side_s == "SELL":
            side = _SELL
        else:
            return False
        reason = _ER_REASON.get(r, _R_OTHER)
        if x == "TRADE_PREVENTION" or big_x == "EXPIRED_IN_MATCH":
            reason = _R_SELF
        g = self._grids.get(vs)
        fee = self._signed.get(n)
        if g is None or g.inst is not inst or fee is None:
            return False
        ticks, lots = g.ticks, g.lots
        price, qty, filled, last_qty, last_px = (ticks.get(p), lots.get(q), lots.get(z),
                                                 lots.get(last), ticks.get(big_l))
        if price is None or qty is None or filled is None or last_qty is None or last_px is None:
            return False
        return build_exec_report(
            _VENUE, inst.symbol, cid or c_own, str(oid), exec_type, status, side, price, qty,
            filled, last_qty, last_px, fee, fee_asset, str(trade_id) if trade_id >= 0 else "",
            is_maker, reason, r if r != "NONE" else "", t * _NS_PER_MS, ts_recv, 0, 0, 0)

    def _execution_report(self, ev: dict[str, Any], instruments: Mapping[str, Instrument],
                          ts_recv: int) -> Any:
        get = ev.get
        vs = get("s")
        if type(vs) is not str:
            raise _DECLINE
        inst = instruments.get(vs)
        if inst is None:
            return None  # the strict parser's notice
        x = get("x")
        big_x = get("X")
        if type(x) is not str or type(big_x) is not str:
            raise _DECLINE
        exec_type = _EXEC.get(x)
        status = _STATUS.get(big_x)
        if exec_type is None or status is None or "r" not in ev:
            raise _DECLINE
        r = ev["r"]
        if type(r) is str:
            reason = _ER_REASON.get(r, _R_OTHER)
            text = r if r != "NONE" else ""
        else:
            reason, text = _R_OTHER, ""
        if x == "TRADE_PREVENTION" or big_x == "EXPIRED_IN_MATCH":
            reason = _R_SELF
        fee_asset = get("N")
        if fee_asset is None:
            fee_asset = ""
        elif type(fee_asset) is not str:
            raise _DECLINE
        trade_id = _int(get("t"))
        cid = get("C")
        c_own = get("c")
        if (cid is not None and type(cid) is not str) or type(c_own) is not str:
            raise _DECLINE
        side_s = get("S")
        if side_s == "BUY":
            side = _BUY
        elif side_s == "SELL":
            side = _SELL
        else:
            raise _DECLINE
        is_maker = get("m")
        if type(is_maker) is not bool:
            raise _DECLINE
        g = self._grid(vs, inst)
        ticks, lots = g.ticks, g.lots
        tick, lot = inst.tick_size, inst.lot_size
        return build_exec_report(
            _VENUE, inst.symbol, cid or c_own, str(_int(get("i"))), exec_type, status, side,
            _steps(ticks, get("p"), tick), _steps(lots, get("q"), lot),
            _steps(lots, get("z"), lot), _steps(lots, get("l"), lot),
            _steps(ticks, get("L"), tick), self._dec(get("n"), True), fee_asset,
            str(trade_id) if trade_id >= 0 else "", is_maker, reason, text, _ms(get("T")),
            ts_recv, 0, 0, 0)

    def _account_position(self, ev: dict[str, Any]) -> AccountPosition:
        bals = ev.get("B")
        if type(bals) is not list:
            raise _DECLINE
        out = []
        dec = self._dec
        for b in bals:
            if type(b) is not dict:
                raise _DECLINE
            asset = b.get("a")
            if type(asset) is not str:
                raise _DECLINE
            m: Any = _new(_BalanceDraft)
            m.asset = asset
            m.free = dec(b.get("f"))
            m.locked = dec(b.get("l"))
            m.__class__ = Balance
            out.append(m)
        p: Any = _new(_PositionDraft)
        p.ts_event = _ms(ev.get("E"))
        p.last_update = _ms(ev.get("u"))
        p.balances = tuple(out)
        p.__class__ = AccountPosition
        return p  # type: ignore[no-any-return]

    @staticmethod
    def _response(obj: dict[str, Any]) -> WsApiResponse:
        """A successful response (an error one declines: the strict parser classifies it)."""
        rid = obj.get("id")
        if rid is not None and type(rid) is not str:
            _int(rid)
        status = _int(obj.get("status"))
        if status != 200 or "error" in obj or "result" not in obj:
            raise _DECLINE
        limits = obj.get("rateLimits")
        rls: tuple[Any, ...] = ()
        if limits is not None:
            if type(limits) is not list:
                raise _DECLINE
            items = []
            for o in limits:
                f = _RL_FIELDS(o) if type(o) is dict else None  # KeyError: declined below
                if f is None or tuple(map(type, f)) != _RL_TYPES:
                    raise _DECLINE
                m: Any = _new(_RateLimitDraft)
                m.rate_limit_type, m.interval, m.interval_num, m.limit, m.count = f
                if not (-_I64 <= m.interval_num < _I64 and -_I64 <= m.limit < _I64
                        and -_I64 <= m.count < _I64):
                    raise _DECLINE
                m.__class__ = RateLimit
                items.append(m)
            rls = tuple(items)
        r: Any = _new(_ResponseDraft)
        r.id = rid
        r.status = status
        r.result = obj["result"]
        r.error_code = 0
        r.error_msg = ""
        r.reason = _R_NONE
        r.rate_limits = rls
        r.retry_after_ms = 0
        r.__class__ = WsApiResponse
        return r  # type: ignore[no-any-return]


__all__ = ["BinanceOrdersFast"]

"""Signed Binance WS API `order.place` / `order.cancel` frames written directly: the same bytes
as `orders.build_order_place` / `build_order_cancel` for the orders a market maker sends, or
None.

Why: the general path builds a params dict, copies it, sorts its keys, spells every value
through `signing.wire_value`, keys a fresh HMAC with the secret and serialises the frame: ~20 us
per order on the gateway. For a limit order whose ids are plain (`[A-Za-z0-9_-]`, so neither the
signing payload nor the JSON needs any escaping) the sorted payload and the frame are two
f-strings with their constant parts precomputed, and the HMAC is a copy of one keyed once per
secret (`hmac.new(secret, digestmod=sha256).copy()`, the same digest as `hmac.new(secret, msg,
sha256)`). Anything else returns None and the caller uses the general builder, which refuses
what Binance would refuse. `tests/unit/feeds/binance/test_orders_fast.py` checks the bytes
are the builders' own, and the signing vectors still pass through both.

Called by `BinanceGatewayAdapter.encode_place` / `encode_cancel`.
"""
from __future__ import annotations

import hashlib
import hmac
import re

import orjson

from pipeline.messages import CancelOrder, NewOrder
from pipeline.model import Instrument, OrderType, Side, TimeInForce

from . import constants as C

_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,36}+").fullmatch   # CLIENT_ID_RE minus its "\n" gap
_SYMBOL = re.compile(r"[A-Z0-9]{1,40}+").fullmatch
_REQ_ID = re.compile(r"[A-Za-z0-9_-]{1,64}+").fullmatch
_LIMIT = OrderType.LIMIT
_POST_ONLY = TimeInForce.POST_ONLY
_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}
_RESP = "RESULT"   # the adapter's newOrderRespType
_I64 = 1 << 63


def _int64(v: object) -> bool:
    """An int orjson writes as-is (the general builder's JSON ints)."""
    return type(v) is int and -_I64 <= v < _I64


class BinanceSigner:
    """One API key and secret, pre-keyed: signs and writes the common order frames."""

    __slots__ = ("_key", "_key_json", "_mac", "_rw", "_rw_json")

    def __init__(self, api_key: str, secret: str | bytes, recv_window: int | None) -> None:
        self._key = api_key
        self._key_json = orjson.dumps(api_key).decode()   # the key as a JSON string literal
        key = secret.encode() if isinstance(secret, str) else secret
        self._mac: hmac.HMAC | None = (hmac.new(key, digestmod=hashlib.sha256)
                                       if isinstance(key, bytes) else None)
        ok = recv_window is None or _int64(recv_window)
        self._rw = "" if recv_window is None else f"&recvWindow={recv_window}"
        self._rw_json = "" if recv_window is None else f',"recvWindow":{recv_window}'
        if not ok:
            self._mac = None   # an odd recvWindow: the general builder spells it

    def _sign(self, payload: str) -> str:
        m = self._mac.copy()  # type: ignore[union-attr]
        m.update(payload.encode())
        return m.hexdigest()

    def place(self, order: NewOrder, inst: Instrument, timestamp_ms: int,
              req_id: str) -> str | None:
        """`build_order_place(order, inst, key, secret, timestamp_ms, req_id,
        recv_window=..., resp_type="RESULT")` for a limit order with plain ids; else None."""
        cid, sym = order.client_id, inst.venue_symbol
        if self._mac is None or order.order_type is not _LIMIT \
                or type(order.lots) is not int or order.lots <= 0 \
                or type(order.price_ticks) is not int or order.price_ticks <= 0 \
                or not _int64(timestamp_ms) or type(cid) is not str \
                or type(req_id) is not str or _PLAIN(cid) is None or _SYMBOL(sym) is None \
                or _REQ_ID(req_id) is None:
            return None
        if order.tif is _POST_ONLY:
            typ, tif_sig, tif_json = "LIMIT_MAKER", "", ""
        else:
            t = _TIF.get(order.tif)
            if t is None:
                return None
            typ, tif_sig, tif_json = "LIMIT", f"&timeInForce={t}", f',"timeInForce":"{t}"'
        side = "BUY" if order.side is Side.BUY else "SELL"
        px, qty = inst.format_price(order.price_ticks), inst.format_qty(order.lots)
        # every param but the signature, sorted by name (signing.ws_payload)
        sig = self._sign(
            f"apiKey={self._key}&newClientOrderId={cid}&newOrderRespType={_RESP}&price={px}"
            f"&quantity={qty}{self._rw}&side={side}&symbol={sym}{tif_sig}"
            f"&timestamp={timestamp_ms}&type={typ}")
        # the params in the order the general builder inserts them
        return (f'{{"id":"{req_id}","method":"{C.WS_ORDER_PLACE}","params":{{"symbol":"{sym}",'
                f'"side":"{side}","type":"{typ}"{tif_json},"price":"{px}","quantity":"{qty}",'
                f'"newClientOrderId":"{cid}","newOrderRespType":"{_RESP}"{self._rw_json},'
                f'"apiKey":{self._key_json},"timestamp":{timestamp_ms},"signature":"{sig}"}}}}')

    def cancel(self, cancel: CancelOrder, inst: Instrument, timestamp_ms: int,
               req_id: str) -> str | None:
        """`build_order_cancel(...)` when the ids are plain; else None."""
        sym, vid = inst.venue_symbol, cancel.venue_order_id
        if self._mac is None or not _int64(timestamp_ms) or type(req_id) is not str \
                or _SYMBOL(sym) is None or _REQ_ID(req_id) is None:
            return None
        if vid:
            if type(vid) is not str or not (vid.isascii() and vid.isdigit()) or len(vid) > 19:
                return None
            oid = int(vid)
            if oid >= 1 << 63:
                return None
            ref_sig, ref_json = f"orderId={oid}", f'"orderId":{oid}'
        else:
            cid = cancel.client_id
            if type(cid) is not str or _PLAIN(cid) is None:
                return None
            ref_sig, ref_json = f"origClientOrderId={cid}", f'"origClientOrderId":"{cid}"'
        sig = self._sign(f"apiKey={self._key}&{ref_sig}{self._rw}&symbol={sym}"
                         f"&timestamp={timestamp_ms}")
        return (f'{{"id":"{req_id}","method":"{C.WS_ORDER_CANCEL}","params":{{"symbol":"{sym}",'
                f'{ref_json}{self._rw_json},"apiKey":{self._key_json},'
                f'"timestamp":{timestamp_ms},"signature":"{sig}"}}}}')


__all__ = ["BinanceSigner"]

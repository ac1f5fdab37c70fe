"""Gate `spot.order_place` / `spot.order_cancel` requests as one f-string each: the same bytes as
`orders.build_order_place` / `build_order_cancel` (unsigned, as the gateway sends them after
`spot.login`) for the orders a market maker sends, or None.

Why: the general builders assemble nested dicts, validate the client id by regex and serialise
the frame per order. For a limit order whose ids are plain (`[0-9A-Za-z_.-]`, so no JSON
escaping is ever needed) and prices/sizes formatted by `Instrument` (digits and a point), the
text is known up front. Anything else returns None and the caller uses the general builder,
which refuses what Gate would refuse. `tests/unit/feeds/gate/test_orders_fast.py` checks the
bytes are the builders' own.

Called by `GateGatewayAdapter.encode_place` / `encode_cancel`.
"""
from __future__ import annotations

import re

from pipeline.messages import CancelOrder, NewOrder
from pipeline.model import Instrument, OrderType, Side, TimeInForce

from .constants import (
    CH_ORDER_CANCEL,
    CH_ORDER_PLACE,
    EV_API,
    TEXT_MAX_BYTES,
    TEXT_PREFIX,
    TIF_FOK,
    TIF_GTC,
    TIF_IOC,
    TIF_POC,
)

# `orders.is_valid_client_id` without its regex's trailing-"\n" gap (then the general path)
_CLIENT_ID = re.compile(rf"[0-9A-Za-z_.\-]{{1,{TEXT_MAX_BYTES}}}+").fullmatch
_PLAIN = re.compile(r"[0-9A-Za-z_.\-]{1,64}+").fullmatch
_TIF = {TimeInForce.GTC: TIF_GTC, TimeInForce.IOC: TIF_IOC, TimeInForce.FOK: TIF_FOK,
        TimeInForce.POST_ONLY: TIF_POC}
_LIMIT = OrderType.LIMIT
_I64 = 1 << 63


def _ok(req_id: object, inst: Instrument, time_s: object) -> bool:
    return (type(req_id) is str and _PLAIN(req_id) is not None
            and type(inst.venue_symbol) is str and _PLAIN(inst.venue_symbol) is not None
            and type(time_s) is int and -_I64 <= time_s < _I64)


def place_frame(order: NewOrder, inst: Instrument, req_id: str, time_s: int) -> str | None:
    """`build_order_place(order, inst, req_id, time_s)` for a limit order; else None."""
    cid, tif = order.client_id, _TIF.get(order.tif)
    if tif is None or order.order_type is not _LIMIT or type(order.lots) is not int \
            or order.lots <= 0 or type(order.price_ticks) is not int or order.price_ticks <= 0 \
            or type(cid) is not str or _CLIENT_ID(cid) is None or not _ok(req_id, inst, time_s):
        return None
    side = "buy" if order.side is Side.BUY else "sell"
    return (f'{{"time":{time_s},"channel":"{CH_ORDER_PLACE}","event":"{EV_API}","payload":'
            f'{{"req_id":"{req_id}","req_param":{{"text":"{TEXT_PREFIX}{cid}",'
            f'"currency_pair":"{inst.venue_symbol}","type":"limit","account":"spot",'
            f'"side":"{side}","amount":"{inst.format_qty(order.lots)}",'
            f'"price":"{inst.format_price(order.price_ticks)}","time_in_force":"{tif}"}}}}}}')


def cancel_frame(cancel: CancelOrder, inst: Instrument, req_id: str, time_s: int) -> str | None:
    """`build_order_cancel(cancel, inst, req_id, time_s)` when every id is plain; else None."""
    if not _ok(req_id, inst, time_s):
        return None
    vid = cancel.venue_order_id
    if vid:
        if type(vid) is not str or _PLAIN(vid) is None:
            return None
        ref = vid
    elif type(cancel.client_id) is str and _CLIENT_ID(cancel.client_id) is not None:
        ref = TEXT_PREFIX + cancel.client_id
    else:
        return None
    return (f'{{"time":{time_s},"channel":"{CH_ORDER_CANCEL}","event":"{EV_API}","payload":'
            f'{{"req_id":"{req_id}","req_param":{{"order_id":"{ref}",'
            f'"currency_pair":"{inst.venue_symbol}"}}}}}}')


__all__ = ["cancel_frame", "place_frame"]

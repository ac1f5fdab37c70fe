"""OKX order requests as one f-string each: the same bytes as `orders.build_op` /
`orders.build_cancel` for the orders a market maker sends, or None.

Why: the general builders put a dict together per order, check every part and serialise it
(the gateway then serialises the place args again when it merges back-to-back places into one
`batch-orders`). For a limit order on an instrument with an `instIdCode`, every value in the
frame is already known to need no JSON escaping once it is checked to be plain ASCII letters
and digits (client and request ids, order ids) or formatted by `Instrument` (digits and a
point), so the text can be written directly. Anything else (market orders, odd ids, no
instIdCode) returns None and the caller uses the general builder, which refuses what OKX would
refuse. `tests/unit/feeds/okx/test_orders_fast.py` checks the bytes are the builders' own.

Called by `OkxGatewayAdapter.encode_place` / `encode_cancel` / `batch_places` /
`batch_cancels`.
"""
from __future__ import annotations

from pipeline.messages import CancelOrder, NewOrder
from pipeline.model import Instrument, OrderType, Side, TimeInForce

from . import constants as c

_ORD_TYPE = {TimeInForce.GTC: "limit", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok",
             TimeInForce.POST_ONLY: "post_only"}
_LIMIT = OrderType.LIMIT
_MAX_CODE = 1 << 63
_MAX_ID = 32


def plain_id(v: object) -> bool:
    """OKX's id rule (1-32 ASCII letters and digits, `_wire.is_alnum_id`) without a regex."""
    return type(v) is str and v.isascii() and v.isalnum() and len(v) <= _MAX_ID


def _code(inst: Instrument) -> int | None:
    code = inst.venue_code
    return code if type(code) is int and 0 <= code < _MAX_CODE else None


def place_args(order: NewOrder, inst: Instrument) -> str | None:
    """`orjson.dumps(orders.order_args(order, inst))` for a limit order, as text; else None."""
    code = _code(inst)
    ord_type = _ORD_TYPE.get(order.tif)
    cid = order.client_id
    if code is None or ord_type is None or order.order_type is not _LIMIT \
            or type(order.lots) is not int or order.lots <= 0 \
            or type(order.price_ticks) is not int or order.price_ticks <= 0 or not plain_id(cid):
        return None
    side = "buy" if order.side is Side.BUY else "sell"
    return (f'{{"instIdCode":{code},"tdMode":"{c.TD_MODE_CASH}","clOrdId":"{cid}",'
            f'"side":"{side}","ordType":"{ord_type}","px":"{inst.format_price(order.price_ticks)}"'
            f',"sz":"{inst.format_qty(order.lots)}"}}')


def op_frame(req_id: str, op: str, args_json: str) -> str | None:
    """`{"id":..,"op":..,"args":[..]}` around already serialised args; None for an id OKX
    would refuse (the general builder then says why)."""
    if not plain_id(req_id):
        return None
    return f'{{"id":"{req_id}","op":"{op}","args":[{args_json}]}}'


def cancel_args(cancel: CancelOrder, inst: Instrument) -> str | None:
    """`orjson.dumps(orders.cancel_args(cancel, inst))` when every id is plain, as text;
    else None."""
    code = _code(inst)
    if code is None:
        return None
    vid = cancel.venue_order_id
    if vid:
        if not plain_id(vid):
            return None
        ref = f'"ordId":"{vid}"'
    elif plain_id(cancel.client_id):
        ref = f'"clOrdId":"{cancel.client_id}"'
    else:
        return None
    return f'{{"instIdCode":{code},{ref}}}'


def cancel_frame(cancel: CancelOrder, inst: Instrument, req_id: str) -> str | None:
    """`orders.build_cancel(cancel, inst, req_id)` when every id is plain; else None."""
    args = cancel_args(cancel, inst)
    return None if args is None else op_frame(req_id, c.OP_CANCEL_ORDER, args)


__all__ = ["cancel_args", "cancel_frame", "op_frame", "place_args", "plain_id"]

"""Trading-op outcomes: what OKX answers to `order`/`cancel-order`/batches (WS) and to the REST
place/cancel endpoints. Shared by the client parser (orders.py) and the simulator's encoders
(order_server.py), so both sides agree on one typed shape.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.model import RejectReason

from . import constants as c
from .errors import classify


@dataclass(frozen=True, slots=True)
class OpItem:
    """One order's outcome inside an op/REST response `data`."""

    cl_ord_id: str
    ord_id: str
    s_code: str
    s_msg: str
    sub_code: str = ""
    tag: str = ""
    ts_event: int = 0

    @property
    def ok(self) -> bool:
        return self.s_code == c.CODE_OK

    @property
    def reason(self) -> RejectReason:
        return classify(self.s_code)


@dataclass(frozen=True, slots=True)
class OpResponse:
    """A WS trading-op response (or a REST place/cancel envelope, with `op` ""/`req_id` "").

    `code` "0" all ok, "1" all failed, "2" partial (batch); other codes (60013, 50011...)
    failed the whole request and come with no items. Check `items` one by one."""

    req_id: str
    op: str
    code: str
    msg: str
    items: tuple[OpItem, ...]
    in_time_us: int = 0
    out_time_us: int = 0

    @property
    def ok(self) -> bool:
        return self.code == c.CODE_OK and all(i.ok for i in self.items)

    @property
    def reason(self) -> RejectReason:
        """The request-level reason (NONE when the envelope is 0/1/2: see the items)."""
        if self.code in (c.CODE_OK, c.CODE_FAILED, c.CODE_PARTIAL):
            return RejectReason.NONE
        return classify(self.code)

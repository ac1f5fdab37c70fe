"""The order-path records' fast constructors build the very values their classes do."""
from __future__ import annotations

import dataclasses

import pytest

from feeds.adapter import Ack, RateInfo, make_ack, make_rate_info


def test_make_ack_and_make_rate_info_equal_their_constructors() -> None:
    for built, plain in ((make_ack("7", "v1", 3), Ack("7", "v1", 3)), (make_ack("8"), Ack("8")),
                         (make_rate_info("orders", 1, 10, 1.0), RateInfo("orders", 1, 10, 1.0))):
        assert type(built) is type(plain) and built == plain and repr(built) == repr(plain)
        assert hash(built) == hash(plain)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(built, dataclasses.fields(built)[0].name, "x")

"""The shared C-speed level conversion declines anything the strict parsers must judge."""
from __future__ import annotations

import pytest

from feeds.fast_paths import plain_levels
from feeds.okx.protocol import market_fast as okx_fast
from pipeline.errors import ProtocolError


def test_plain_levels_convert_and_anything_else_is_declined() -> None:
    assert plain_levels([["1.5", "2"], ["1.4", "3"]], 2) == [(1.5, 2.0), (1.4, 3.0)]
    assert plain_levels([["1", "2", "0", "4"]], 4) == [(1.0, 2.0)]
    for bad, width in (([["1,2", "3"]], 2), ([["1", "2", "0,0", "4"]], 4), ([], 2),
                       ([["1", 2]], 2), ([["1", "2", "3"]], 2), ([["1e3", "2"]], 2),
                       ("1,2", 2)):
        assert plain_levels(bad, width) is None, bad


def test_a_separator_inside_a_field_reaches_the_strict_parser() -> None:
    # found by hypothesis: "0,0" in a level joined into two valid-looking numbers
    with pytest.raises(ProtocolError):
        okx_fast.levels([["1,2", "3", "0", "1"]], "bids")

"""Segment fixture for shm unit tests: unique names, everything unlinked, nothing leaked."""
from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest

from shm import registry

_ids = itertools.count()


@pytest.fixture
def seg_name() -> Iterator[Callable[[str], str]]:
    """`seg_name(kind)` -> a fresh segment name; all are unlinked after the test, and the test
    fails if any other segment of this process was left behind."""
    before = set(registry.list_segments(os.getpid()))
    made: list[str] = []

    def make(kind: str = "ring") -> str:
        name = registry.segment_name(kind, f"unit{next(_ids)}")
        made.append(name)
        return name

    yield make
    leftovers = set(registry.list_segments(os.getpid())) - before
    for name in made:
        registry.unlink(name)
    assert leftovers <= set(made), f"segments leaked: {sorted(leftovers - set(made))}"

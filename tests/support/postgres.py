"""PostgreSQL for store tests: the test server's URL, and a fresh schema per test.

Each store under test lives in its own schema (`search_path` in the URL), dropped on exit,
so tests never see each other's rows and several people can share one server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

NO_POSTGRES = (
    "TEST_DATABASE_URL is unset: no PostgreSQL server to run the store suite against "
    "(`make test` starts one with deploy/postgres/pg.sh and sets it)"
)


def postgres_url() -> str:
    """The test server's URL; skips the calling test, saying why, when there is none."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(NO_POSTGRES)
    return url


def with_search_path(url: str, schema: str) -> str:
    """`url` with `search_path=schema`, which asyncpg sends as a server setting."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    query.append(("search_path", schema))
    return urlunsplit(parts._replace(query=urlencode(query)))


@asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """A URL whose connections live in a new, empty schema, dropped on exit."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await admin.close()
    try:
        yield with_search_path(url, schema)
    finally:
        admin = await asyncpg.connect(url)
        try:
            await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await admin.close()

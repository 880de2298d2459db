"""The registry's store on both dialects (see tests/unit/registry/databases.py).

The PostgreSQL param needs `TEST_DATABASE_URL` (`make test` sets it from
`deploy/postgres/pg.sh`); without it those tests are skipped, saying so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.db import Database
from tests.unit.registry.databases import DIALECTS, open_store


@pytest.fixture(params=DIALECTS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """The registry's database, migrated and empty, on SQLite and on PostgreSQL."""
    async with open_store(request.param, tmp_path) as db:
        yield db

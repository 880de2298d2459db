"""The packaged tagger, and the tag store on every kind (tests/unit/sdg_tagger/stores.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.db import TagStore
from tests.unit.sdg_tagger.stores import KINDS, open_tag_store


@pytest.fixture(scope="session")
def tagger() -> SdgTagger:
    return SdgTagger.load()


@pytest.fixture(params=KINDS)
async def tag_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TagStore]:
    """An empty tag store: the in-memory twin, on SQLite and on PostgreSQL."""
    async with open_tag_store(request.param, tmp_path) as store:
        yield store

"""An sdg-tagger service per test, on the memory twin or the real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.sdg_tagger import SdgTagger
from shared import Transport
from tests.integration.sdg_tagger.harness import TaggerService, start_tagger_service


@pytest.fixture(scope="session")
def tagger() -> SdgTagger:
    return SdgTagger.load()


@pytest.fixture
async def service(
    tmp_path: Path, transport: Transport, unique: str, tagger: SdgTagger
) -> AsyncIterator[TaggerService]:
    svc = await start_tagger_service(tmp_path, transport, f"sdg{unique}", tagger)
    try:
        yield svc
    finally:
        await svc.close()

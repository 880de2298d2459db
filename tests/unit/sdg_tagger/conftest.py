from __future__ import annotations

import pytest

from services.sdg_tagger import SdgTagger


@pytest.fixture(scope="session")
def tagger() -> SdgTagger:
    return SdgTagger.load()

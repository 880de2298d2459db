"""SDG tagger: assigns SDG goals and targets to WIPO technical-assistance activities.

The public surface is :class:`SdgTagger` (``SdgTagger.load().tag(text)``), the result
models and the error tree. Everything runs offline from the artifact packaged under
``model/`` and ``knowledge/``, built by ``tools/train_sdg.py``.
"""

from services.sdg_tagger.errors import ArtifactInvalid, InvalidTagRequest, SdgTaggerError
from services.sdg_tagger.result import (
    ClosestTarget,
    Evidence,
    GoalTag,
    Outcome,
    TagResult,
    TargetTag,
)
from services.sdg_tagger.tagger import SdgTagger

__all__ = [
    "ArtifactInvalid",
    "ClosestTarget",
    "Evidence",
    "GoalTag",
    "InvalidTagRequest",
    "Outcome",
    "SdgTagger",
    "SdgTaggerError",
    "TagResult",
    "TargetTag",
]

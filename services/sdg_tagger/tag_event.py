"""A `TagResult` as the versioned `sdg.tags.assigned` event (every tag, with evidence)."""

from __future__ import annotations

from services.sdg_tagger.result import Evidence, TagResult
from shared.events import ClosestTarget, GoalTag, SdgTagsAssigned, TagEvidence, TargetTag

__all__ = ["tags_event"]


def _evidence(evidence: Evidence) -> TagEvidence:
    closest = evidence.closest_target
    return TagEvidence(
        matched_terms=list(evidence.matched_terms),
        closest_target=None
        if closest is None
        else ClosestTarget(target=closest.target, text=closest.text, similarity=closest.similarity),
        rules=list(evidence.rules),
    )


def tags_event(activity_id: str, activity_version: int, result: TagResult) -> SdgTagsAssigned:
    """The event for one activity version; rejected candidates are kept, with why."""
    return SdgTagsAssigned(
        activity_id=activity_id,
        activity_version=activity_version,
        model_id=result.model_id,
        outcome=result.outcome,
        language=result.language,
        goals=[
            GoalTag(goal=g.goal, score=g.score, decision=g.decision, evidence=_evidence(g.evidence))
            for g in result.goals
        ],
        targets=[
            TargetTag(
                target=t.target,
                score=t.score,
                decision=t.decision,
                evidence=_evidence(t.evidence),
            )
            for t in result.targets
        ],
    )

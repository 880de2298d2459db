"""Turn verdicts into the reviewer-facing result entries, with their evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import numpy.typing as npt

from services.sdg_tagger.catalogue import Catalogue, goal_of_target
from services.sdg_tagger.decision import GoalVerdict, TargetCandidate
from services.sdg_tagger.features import SparseVector
from services.sdg_tagger.result import ClosestTarget, Decision, Evidence, GoalTag, TargetTag
from services.sdg_tagger.similarity import TargetSimilarity

__all__ = ["EvidenceBuilder", "TextTargets"]

_MAX_TERMS = 8
_ORDER: dict[Decision, int] = {"curated": 0, "assigned": 1, "rejected": 2}


def _unique(terms: Iterable[str], limit: int = _MAX_TERMS) -> tuple[str, ...]:
    return tuple(dict.fromkeys(terms))[:limit]


def _clip(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 4)


class TextTargets:
    """How close one text is to every official target (computed once per text)."""

    __slots__ = ("_best_rows", "_closest", "_products", "_terms", "index", "similarities", "vector")

    def __init__(self, vector: SparseVector, index: TargetSimilarity) -> None:
        self.vector = vector
        self.index = index
        self._terms, self._products = index.contributions(vector)
        self.similarities: npt.NDArray[np.float32] = self._products.sum(axis=1, dtype=np.float32)
        self._closest: dict[int, tuple[ClosestTarget, tuple[str, ...]]] = {}
        self._best_rows = {g: index.closest_row(self.similarities, g)[1] for g in range(1, 18)}

    @property
    def similarity_of(self) -> dict[str, float]:
        return dict(zip(self.index.ids, self.similarities.tolist(), strict=True))

    @property
    def nearest_of_goal(self) -> dict[int, str]:
        ids = self.index.ids
        return {g: ids[row] for g, row in self._best_rows.items()}

    def closest(self, goal: int) -> tuple[ClosestTarget, tuple[str, ...]]:
        found = self._closest.get(goal)
        if found is None:
            found = self._about_row(self._best_rows[goal])
            self._closest[goal] = found
        return found

    def _about_row(self, row: int) -> tuple[ClosestTarget, tuple[str, ...]]:
        match = self.index.match_products(self._terms, self._products, self.similarities, row)
        closest = self._closest_target(match.target.id, match.target.text, match.similarity)
        return closest, match.shared_terms

    def about(self, target_id: str) -> tuple[ClosestTarget, tuple[str, ...]]:
        return self._about_row(self.index.row_of(target_id))

    @staticmethod
    def _closest_target(target_id: str, text: str, similarity: float) -> ClosestTarget:
        return ClosestTarget(target=target_id, text=text, similarity=_clip(similarity))


class EvidenceBuilder:
    """Builds :class:`GoalTag` / :class:`TargetTag` entries, decided ones first."""

    def __init__(self, catalogue: Catalogue, index: TargetSimilarity) -> None:
        self._catalogue = catalogue
        self._index = index

    def view(self, vector: SparseVector) -> TextTargets:
        return TextTargets(vector, self._index)

    def curated_only(
        self, goals: Sequence[int], targets: Sequence[str]
    ) -> tuple[tuple[GoalTag, ...], tuple[TargetTag, ...]]:
        """Entries for curated tags alone (nothing computed), e.g. for empty text."""
        implied = sorted({goal_of_target(t) for t in targets} - set(goals))
        goal_tags = [self._curated_goal(g, ("curated",)) for g in goals]
        goal_tags += [self._curated_goal(g, ("curated.via_target",)) for g in implied]
        target_tags = [
            TargetTag(
                target=t,
                goal=goal_of_target(t),
                score=1.0,
                decision="curated",
                evidence=Evidence(rules=("curated",)),
            )
            for t in targets
        ]
        return tuple(sorted(goal_tags, key=lambda g: g.goal)), tuple(target_tags)

    def _curated_goal(self, goal: int, rules: tuple[str, ...]) -> GoalTag:
        title = self._catalogue.goal(goal).short_title
        return GoalTag(
            goal=goal, title=title, score=1.0, decision="curated", evidence=Evidence(rules=rules)
        )

    def build(
        self,
        verdicts: Sequence[GoalVerdict],
        candidates: Sequence[TargetCandidate],
        text: TextTargets,
        *,
        model_terms: Callable[[int], list[str]],
        curated_goals: Sequence[int],
        curated_targets: Sequence[str],
    ) -> tuple[tuple[GoalTag, ...], tuple[TargetTag, ...]]:
        """All 17 goals and the candidate targets, curated tags overriding computed ones."""
        overridden = bool(curated_goals or curated_targets)
        via_target = {goal_of_target(t) for t in curated_targets} - set(curated_goals)
        goal_tags: list[GoalTag] = []
        for verdict in verdicts:
            closest, shared = text.closest(verdict.goal)
            rules = list(verdict.rules)
            decision: Decision = "assigned" if verdict.assigned else "rejected"
            score = verdict.score
            if verdict.goal in curated_goals or verdict.goal in via_target:
                decision, score = "curated", 1.0
                rules.append("curated" if verdict.goal in curated_goals else "curated.via_target")
            elif overridden and verdict.assigned:
                decision = "rejected"
                rules.append("curation.overrides")
            terms = _unique([*verdict.knowledge_terms, *model_terms(verdict.goal), *shared])
            goal_tags.append(
                GoalTag(
                    goal=verdict.goal,
                    title=self._catalogue.goal(verdict.goal).short_title,
                    score=_clip(score),
                    decision=decision,
                    evidence=Evidence(
                        matched_terms=terms, closest_target=closest, rules=tuple(rules)
                    ),
                )
            )
        target_tags: list[TargetTag] = []
        for target_id in curated_targets:
            closest, shared = text.about(target_id)
            target_tags.append(
                TargetTag(
                    target=target_id,
                    goal=goal_of_target(target_id),
                    score=1.0,
                    decision="curated",
                    evidence=Evidence(
                        matched_terms=shared, closest_target=closest, rules=("curated",)
                    ),
                )
            )
        for candidate in candidates:
            if candidate.target in curated_targets:
                continue
            closest, shared = text.about(candidate.target)
            rules = list(candidate.rules)
            decision = "assigned" if candidate.assigned else "rejected"
            if overridden and candidate.assigned:
                decision = "rejected"
                rules.append("curation.overrides")
            target_tags.append(
                TargetTag(
                    target=candidate.target,
                    goal=candidate.goal,
                    score=_clip(candidate.score),
                    decision=decision,
                    evidence=Evidence(
                        matched_terms=shared, closest_target=closest, rules=tuple(rules)
                    ),
                )
            )
        goal_tags.sort(key=lambda g: (_ORDER[g.decision], -g.score, g.goal))
        target_tags.sort(key=lambda t: _ORDER[t.decision])
        return tuple(goal_tags), tuple(target_tags)

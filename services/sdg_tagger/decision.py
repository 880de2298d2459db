"""How model probabilities, knowledge rules and curated tags become decisions.

Goals: ``score = 1 - (1 - p_model) * prod(1 - rule weight)`` over the rules that fired
for the goal (``p_model = 0`` when the model was not applied); the goal is assigned when
the score reaches the goal's threshold. A goal that only the model supports (no rule
fired for it) must also have ``p_model >= relative * max(p_model over the 17 goals)``:
texts rarely address many goals, so a goal far behind the text's best one is left out
(rule ``model.below_best``). ``relative`` is tuned at training time with the thresholds.

Targets (only under assigned or curated goals): a target proposed by a rule that fired
has support equal to that rule's weight for the goal; otherwise the goal's nearest
official target has support ``min(1, similarity / 0.3)`` when its cosine similarity is
at least ``MIN_TARGET_SIMILARITY``. Target score = goal score x support. At most
``MAX_TARGETS`` targets are assigned, best score first (UN INFO asks up to 10).

Curated tags win: when any are given, they are the answer (decision ``curated``), and
every computed tag is reported with decision ``rejected`` and rule ``curation.overrides``
so a reviewer still sees what the model thought.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from services.sdg_tagger.knowledge import RuleHit

__all__ = [
    "MAX_TARGETS",
    "MIN_TARGET_SIMILARITY",
    "GoalVerdict",
    "TargetCandidate",
    "decide_goals",
    "select_targets",
]

MAX_TARGETS = 10
MIN_TARGET_SIMILARITY = 0.08
_SIMILARITY_FULL_SUPPORT = 0.3


@dataclass(slots=True)
class GoalVerdict:
    goal: int
    score: float
    assigned: bool
    rules: list[str] = field(default_factory=list)
    knowledge_terms: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TargetCandidate:
    target: str
    goal: int
    score: float
    similarity: float
    rules: list[str] = field(default_factory=list)
    assigned: bool = False


def decide_goals(
    probabilities: npt.NDArray[np.float64] | None,
    thresholds: npt.NDArray[np.float32],
    hits: Sequence[RuleHit],
    relative: float = 0.0,
) -> list[GoalVerdict]:
    """One verdict per goal 1-17 from the model (if applied) and the rules that fired."""
    verdicts: list[GoalVerdict] = []
    best = 0.0 if probabilities is None else float(np.max(probabilities))
    for goal in range(1, 18):
        p = 0.0 if probabilities is None else float(probabilities[goal - 1])
        threshold = float(thresholds[goal - 1])
        verdict = GoalVerdict(goal, p, assigned=False)
        if probabilities is not None and p >= threshold:
            verdict.rules.append("model.threshold")
        miss = 1.0 - p
        for hit in hits:
            weight = hit.goals.get(goal)
            if weight is None:
                continue
            miss *= 1.0 - weight
            verdict.rules.append(f"knowledge.{hit.rule_id}")
            verdict.knowledge_terms.extend(t for t in hit.matched_terms)
        verdict.score = 1.0 - miss
        verdict.assigned = verdict.score >= threshold
        if verdict.assigned and verdict.rules == ["model.threshold"] and p < relative * best:
            verdict.assigned = False
            verdict.rules.append("model.below_best")
        verdicts.append(verdict)
    return verdicts


def select_targets(
    goals: Mapping[int, float],
    hits: Sequence[RuleHit],
    similarity_of: Mapping[str, float],
    nearest_of_goal: Mapping[int, str],
    *,
    slots: int = MAX_TARGETS,
) -> list[TargetCandidate]:
    """Candidate targets under ``goals`` (goal -> goal score), best first, top ``slots`` assigned.

    ``similarity_of`` gives the cosine similarity of every target id to the text;
    ``nearest_of_goal`` the most similar target id of each goal.
    """
    candidates: dict[str, TargetCandidate] = {}
    for hit in hits:
        for target in hit.targets:
            goal = int(target.split(".", 1)[0])
            if goal not in goals:
                continue
            support = hit.goals[goal]
            rule = hit.rule
            found = candidates.get(target)
            if found is None:
                candidates[target] = TargetCandidate(
                    target, goal, goals[goal] * support, similarity_of[target], [rule]
                )
            else:
                found.score = max(found.score, goals[goal] * support)
                found.rules.append(rule)
    for goal, goal_score in goals.items():
        if any(c.goal == goal for c in candidates.values()):
            continue
        nearest = nearest_of_goal[goal]
        similarity = similarity_of[nearest]
        support = min(1.0, similarity / _SIMILARITY_FULL_SUPPORT)
        candidate = TargetCandidate(
            nearest, goal, goal_score * support, similarity, ["target.similarity"]
        )
        candidate.assigned = similarity >= MIN_TARGET_SIMILARITY
        candidates[nearest] = candidate
    ranked = sorted(candidates.values(), key=lambda c: (-c.score, -c.similarity, c.target))
    taken = 0
    for candidate in ranked:
        eligible = candidate.assigned or candidate.rules[0] != "target.similarity"
        candidate.assigned = eligible and taken < slots
        if eligible and not candidate.assigned:
            candidate.rules.append("limit.max_targets")
        taken += candidate.assigned
    return ranked

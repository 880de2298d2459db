"""One rule says which SDG tags count; every reader of the tag event asks it."""

from __future__ import annotations

from services.registry.representation import computed_view
from services.sdg_tagger.result import Evidence, TagResult
from services.sdg_tagger.result import GoalTag as ResultGoal
from services.sdg_tagger.result import TargetTag as ResultTarget
from shared.events import KEPT_DECISIONS, GoalTag, SdgTagsAssigned, TargetTag, is_kept


def _event() -> SdgTagsAssigned:
    return SdgTagsAssigned(
        activity_id="TA-2026-000001",
        activity_version=3,
        model_id="m",
        outcome="tagged",
        goals=[
            GoalTag(goal=9, score=0.9, decision="assigned"),
            GoalTag(goal=17, score=0.2, decision="rejected"),
            GoalTag(goal=4, score=1.0, decision="curated"),
        ],
        targets=[
            TargetTag(target="9.5", score=0.8, decision="assigned"),
            TargetTag(target="17.6", score=0.1, decision="rejected"),
            TargetTag(target="4.4", score=1.0, decision="curated"),
        ],
    )


def test_assigned_and_curated_count_rejected_does_not() -> None:
    assert frozenset({"assigned", "curated"}) == KEPT_DECISIONS
    assert [d for d in ("assigned", "curated", "rejected") if is_kept(d)] == [
        "assigned",
        "curated",
    ]
    event = _event()
    assert [g.goal for g in event.kept_goals()] == [9, 4], "event order is kept"
    assert [t.target for t in event.kept_targets()] == ["9.5", "4.4"]
    assert event.kept_goal_numbers() == {4, 9}


def test_the_registry_view_shows_what_the_rule_keeps() -> None:
    view = computed_view(_event())
    assert view is not None
    assert [g["goal"] for g in view["goals"]] == [9, 4]
    assert [t["target"] for t in view["targets"]] == ["9.5", "4.4"]


def test_the_tagger_result_applies_the_same_rule() -> None:
    result = TagResult(
        model_id="m",
        outcome="tagged",
        language="en",
        truncated=False,
        characters=10,
        characters_used=10,
        goals=tuple(
            ResultGoal(
                goal=g.goal, title="t", score=g.score, decision=g.decision, evidence=Evidence()
            )
            for g in _event().goals
        ),
        targets=tuple(
            ResultTarget(
                target=t.target,
                goal=int(t.target.split(".")[0]),
                score=t.score,
                decision=t.decision,
                evidence=Evidence(),
            )
            for t in _event().targets
        ),
    )
    assert result.assigned_goals == (4, 9)
    assert result.assigned_targets == ("9.5", "4.4")

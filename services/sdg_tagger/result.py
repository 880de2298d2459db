"""What :meth:`SdgTagger.tag` returns: frozen pydantic models, JSON-ready.

Outcomes:

- ``tagged`` — English (or undetermined Latin-script) text, or French, Spanish, Arabic,
  Russian or Chinese text read by the model through its word table for that language
  (``notes`` says so; evidence words read ``pauvreté→poverty``): statistical model, Aurora
  queries and IP knowledge rules applied.
- ``knowledge_only`` — French or Spanish text none of whose words the word table knows:
  only the multilingual IP knowledge terms were applied; goals come from rules alone.
- ``unsupported_language`` — another language or script (e.g. Portuguese, Greek), or an
  Arabic/Russian/Chinese text with no known word: nothing was computed; only curated tags
  are returned.
- ``empty`` — no words at all: only curated tags are returned.

``truncated`` is orthogonal: the text was longer than ``max_characters`` and only its
first ``characters_used`` characters were read (``notes`` says so too).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Decision, is_kept

__all__ = [
    "ClosestTarget",
    "Decision",
    "Evidence",
    "GoalTag",
    "Outcome",
    "TagResult",
    "TargetTag",
]

Outcome = Literal["tagged", "knowledge_only", "unsupported_language", "empty"]
Score = Annotated[float, Field(ge=0.0, le=1.0)]
GoalNumber = Annotated[int, Field(ge=1, le=17)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ClosestTarget(_Frozen):
    """The official target text nearest to the activity text (cosine over TF-IDF)."""

    target: str
    text: str
    similarity: Score


class Evidence(_Frozen):
    """Why a decision was taken: the words, the nearest official text, the rules.

    Rule ids: ``model.threshold`` (model probability reached the goal's threshold),
    ``knowledge.<rule id>`` (a rule of ``knowledge/ip_sdg_map.yaml`` fired),
    ``aurora.<target>`` (an Aurora Universities Network query line for that target fired
    on the text; ``aurora.<goal>`` for a goal-wide line), ``model.below_best`` (the model's
    probability passed the threshold but stayed far below the text's best goal, so the
    goal was not assigned), ``target.similarity`` (nearest target of an assigned goal),
    ``curated``,
    ``curated.via_target`` (goal implied by a curated target), ``curation.overrides``
    (a computed tag set aside because curated tags were given), ``limit.max_targets``.
    """

    matched_terms: tuple[str, ...] = ()
    closest_target: ClosestTarget | None = None
    rules: tuple[str, ...] = ()


class GoalTag(_Frozen):
    goal: GoalNumber
    title: str
    score: Score
    decision: Decision
    evidence: Evidence


class TargetTag(_Frozen):
    target: str
    goal: GoalNumber
    score: Score
    decision: Decision
    evidence: Evidence


class TagResult(_Frozen):
    """The SDG tags of one text. ``goals``/``targets`` list decided items first."""

    model_id: str
    outcome: Outcome
    language: str
    truncated: bool
    characters: Annotated[int, Field(ge=0)]
    characters_used: Annotated[int, Field(ge=0)]
    notes: tuple[str, ...] = ()
    goals: tuple[GoalTag, ...] = ()
    targets: tuple[TargetTag, ...] = ()

    @property
    def assigned_goals(self) -> tuple[int, ...]:
        """Goals decided ``assigned`` or ``curated``, ascending."""
        return tuple(sorted(g.goal for g in self.goals if is_kept(g.decision)))

    @property
    def assigned_targets(self) -> tuple[str, ...]:
        """Targets decided ``assigned`` or ``curated``, in result order."""
        return tuple(t.target for t in self.targets if is_kept(t.decision))

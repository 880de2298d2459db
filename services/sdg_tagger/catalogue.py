"""The official SDG goals and targets, as packaged by ``tools/train_sdg.py``.

``model/catalogue.json`` is derived from the UN text (A/RES/70/1 targets, A/RES/71/313
indicators) by the training script; this module reads it and answers id questions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.sdg_tagger.errors import ArtifactInvalid, InvalidTagRequest

__all__ = ["GOALS", "Catalogue", "Goal", "Target", "goal_of_target"]

GOALS = tuple(range(1, 18))
_TARGET_ID = re.compile(r"^(1[0-7]|[1-9])\.(\d{1,2}|[a-d])$")


def goal_of_target(target_id: str) -> int:
    """The goal number of a target id such as ``"9.5"`` or ``"17.b"``.

    Raises :class:`InvalidTagRequest` when the id is not shaped like a target id.
    """
    match = _TARGET_ID.match(target_id)
    if match is None:
        msg = f"{target_id!r} is not an SDG target id (expected e.g. '9.5' or '17.b')"
        raise InvalidTagRequest(msg)
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class Target:
    id: str
    goal: int
    text: str
    indicators: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Goal:
    goal: int
    short_title: str
    title: str
    targets: tuple[Target, ...]


class Catalogue:
    """The 17 goals and 169 targets, in official order."""

    def __init__(self, goals: Iterable[Goal]) -> None:
        self.goals: tuple[Goal, ...] = tuple(goals)
        if tuple(g.goal for g in self.goals) != GOALS:
            msg = "catalogue must list goals 1-17 in order"
            raise ArtifactInvalid(msg)
        self.targets: tuple[Target, ...] = tuple(t for g in self.goals for t in g.targets)
        self._by_id = {t.id: t for t in self.targets}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Catalogue:
        """Build from the packaged JSON; raises :class:`ArtifactInvalid` if malformed."""
        try:
            return cls(
                Goal(
                    goal=int(g["goal"]),
                    short_title=str(g["short_title"]),
                    title=str(g["title"]),
                    targets=tuple(
                        Target(
                            id=str(t["id"]),
                            goal=int(g["goal"]),
                            text=str(t["text"]),
                            indicators=tuple(str(i) for i in t["indicators"]),
                        )
                        for t in g["targets"]
                    ),
                )
                for g in document["goals"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"catalogue.json is malformed: {exc!r}"
            raise ArtifactInvalid(msg) from exc

    def target(self, target_id: str) -> Target:
        """The target with this id; raises :class:`InvalidTagRequest` if it does not exist."""
        goal_of_target(target_id)
        try:
            return self._by_id[target_id]
        except KeyError:
            msg = f"SDG target {target_id!r} does not exist"
            raise InvalidTagRequest(msg) from None

    def has_target(self, target_id: str) -> bool:
        return target_id in self._by_id

    def goal(self, goal: int) -> Goal:
        """The goal with this number; raises :class:`InvalidTagRequest` outside 1-17."""
        if goal not in GOALS:
            msg = f"SDG goal {goal!r} does not exist (goals are 1-17)"
            raise InvalidTagRequest(msg)
        return self.goals[goal - 1]

"""The IP-to-SDG knowledge map: curated term patterns that point to goals and targets.

The data lives in ``knowledge/ip_sdg_map.yaml`` (its header explains the semantics);
this module validates it against the SDG catalogue, compiles the patterns once, and
reports which rules fire on a text and on which words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.sdg_tagger.catalogue import GOALS, Catalogue, goal_of_target
from services.sdg_tagger.errors import ArtifactInvalid

__all__ = ["KnowledgeMap", "KnowledgeRule", "RuleHit"]

_MAX_TERMS_REPORTED = 5
Weight = Annotated[float, Field(gt=0.0, le=1.0)]


class KnowledgeRule(BaseModel):
    """One entry of the map, as written in the YAML file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    label: str
    terms: Mapping[str, tuple[str, ...]]
    goals: Mapping[int, Weight]
    targets: tuple[str, ...] = ()
    rationale: str
    examples: tuple[str, ...] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _terms_compile(cls, value: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
        if "en" not in value or not value["en"]:
            msg = "every rule needs English terms"
            raise ValueError(msg)
        for language, patterns in value.items():
            if language not in {"en", "fr", "es"}:
                msg = f"terms language {language!r} is not one of en, fr, es"
                raise ValueError(msg)
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    msg = f"{language} pattern {pattern!r} does not compile: {exc}"
                    raise ValueError(msg) from exc
        return value

    @field_validator("goals")
    @classmethod
    def _goals_exist(cls, value: Mapping[int, float]) -> Mapping[int, float]:
        if not value or any(goal not in GOALS for goal in value):
            msg = f"goals must be a non-empty map of SDG goals 1-17, got {sorted(value)}"
            raise ValueError(msg)
        return value


_META = set("\\[](){}|?*+.^$")
_MIN_ANCHOR = 3


def _has_open_alternation(body: str) -> bool:
    """Whether ``body`` has a ``|`` outside any group of its own (escapes and classes skipped)."""
    depth, at, in_class = 0, 0, False
    while at < len(body):
        char = body[at]
        if char == "\\":
            at += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth <= 0:
            return True
        at += 1
    return False


def _anchor(pattern: str) -> str | None:
    """The literal text every match of ``pattern`` starts with, lower-cased, if 3+ chars."""
    body = pattern
    for opener in ("(?-i:", "(?:"):
        if body.startswith(opener):
            body = body[len(opener) :]
            break
    if _has_open_alternation(body):
        return None  # the first branch's opening would not cover the others
    literal: list[str] = []
    for char in body:
        if char in _META:
            if char in "?*{" and literal:
                literal.pop()  # the previous character is optional
            break
        literal.append(char)
    anchor = "".join(literal).lower()
    return anchor if len(anchor) >= _MIN_ANCHOR else None


def _anchors(patterns: Sequence[str]) -> tuple[str, ...] | None:
    found = [_anchor(p) for p in patterns]
    if any(a is None for a in found):
        return None
    return tuple(a for a in found if a)


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that fired: its id, the words that fired it, and what it points to."""

    rule_id: str
    matched_terms: tuple[str, ...]
    goals: Mapping[int, float]
    targets: tuple[str, ...]
    source: str = "knowledge"  # "aurora" for an Aurora query line that proposes a target

    @property
    def rule(self) -> str:
        """The rule id reported as evidence, e.g. ``knowledge.tisc`` or ``aurora.6.1``."""
        return f"{self.source}.{self.rule_id}"


class KnowledgeMap:
    """Validated, compiled knowledge rules. Matching never raises."""

    def __init__(self, rules: Sequence[KnowledgeRule], catalogue: Catalogue) -> None:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                msg = f"knowledge rule id {rule.id!r} appears twice"
                raise ArtifactInvalid(msg)
            seen.add(rule.id)
            for target in rule.targets:
                if not catalogue.has_target(target) or goal_of_target(target) not in rule.goals:
                    msg = f"rule {rule.id!r}: target {target!r} unknown or not under its goals"
                    raise ArtifactInvalid(msg)
        self.rules: tuple[KnowledgeRule, ...] = tuple(rules)
        # One alternation per rule between word boundaries: about 4x faster than
        # wrapping each term in look-arounds, which defeats the regex engine's prefix scan.
        self._compiled = tuple(
            re.compile(
                r"\b(?:" + "|".join(p for ps in r.terms.values() for p in ps) + r")\b",
                re.IGNORECASE,
            )
            for r in self.rules
        )
        # A rule runs only when the lower-cased text contains one of its patterns' literal
        # openings (``None``: some pattern has none, so the rule always runs).
        self._anchors = tuple(
            _anchors([p for ps in r.terms.values() for p in ps]) for r in self.rules
        )

    @classmethod
    def from_yaml(cls, source: str, catalogue: Catalogue) -> KnowledgeMap:
        """Parse and validate the YAML text; raises :class:`ArtifactInvalid` if malformed."""
        try:
            document: Any = yaml.safe_load(source)
            rules = [KnowledgeRule.model_validate(entry) for entry in document["rules"]]
        except (yaml.YAMLError, ValidationError, KeyError, TypeError) as exc:
            msg = f"knowledge map is malformed: {exc}"
            raise ArtifactInvalid(msg) from exc
        return cls(rules, catalogue)

    def match(self, text: str) -> list[RuleHit]:
        """Every rule that fires on ``text``, in file order, with up to five matched terms."""
        hits: list[RuleHit] = []
        lowered = text.lower()
        for rule, pattern, anchors in zip(self.rules, self._compiled, self._anchors, strict=True):
            if anchors is not None and not any(a in lowered for a in anchors):
                continue
            terms: list[str] = []
            for found in pattern.finditer(text):
                term = found.group(0).lower()
                if term not in terms:
                    terms.append(term)
                    if len(terms) == _MAX_TERMS_REPORTED:
                        break
            if terms:
                hits.append(RuleHit(rule.id, tuple(terms), rule.goals, rule.targets))
        return hits

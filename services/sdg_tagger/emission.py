"""When a tag result becomes an event: the emission rule, fingerprints and event ids.

The rule (`decide`), per activity, against the last result the tagger emitted for it:

- a version newer than the last one tagged (or a first sight): **emit**, even when the
  tags are unchanged, so that every activity version has tags of its own;
- the same version with the same fingerprint: **unchanged**, nothing is emitted (a
  redelivery, or a replay whose model gives the same answer);
- the same version with another fingerprint: **emit** (a replay after a model change);
- an older version than the last one tagged, or any version of an activity withdrawn
  since: **stale**, nothing is emitted (a replay walks through old versions first).

The fingerprint covers the model id, the outcome and every goal and target with its
decision, and nothing of the activity version or the scores' last digits: scores only
move when the model does, and the model id already says that.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Literal

from services.sdg_tagger.result import TagResult

__all__ = ["LastEmitted", "Verdict", "decide", "event_id_for", "fingerprint"]

Verdict = Literal["emitted", "unchanged", "stale", "withdrawn"]

_EVENT_IDS = uuid.UUID("0b8f8e55-57a7-4f43-9a0e-5d1e6c4f7a21")


@dataclass(frozen=True, slots=True)
class LastEmitted:
    """What the store holds for one activity."""

    version: int
    fingerprint: str
    withdrawn: bool = False


def fingerprint(result: TagResult) -> str:
    """A short stable digest of what a tag result says (see the module docstring)."""
    parts = [result.model_id, result.outcome]
    parts += [f"g{g.goal}:{g.decision}" for g in sorted(result.goals, key=lambda g: g.goal)]
    parts += [f"t{t.target}:{t.decision}" for t in sorted(result.targets, key=lambda t: t.target)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def decide(last: LastEmitted | None, version: int, print_: str) -> Verdict:
    """Whether the result `print_` for `version` of an activity is emitted."""
    if last is None:
        return "emitted"
    if last.withdrawn or version < last.version:
        return "stale"
    if version == last.version and print_ == last.fingerprint:
        return "unchanged"
    return "emitted"


def event_id_for(activity_id: str, version: int, last: LastEmitted | None, print_: str) -> str:
    """A deterministic event id: re-emitting after a crash (before the store recorded the
    emission) repeats the id, so consumers de-duplicate it; a later emission of the same
    tags after different ones (a model rolled back) gets a new id, since `last` differs."""
    previous = "-" if last is None else f"{last.version}:{last.fingerprint}"
    return str(uuid.uuid5(_EVENT_IDS, f"{activity_id}|{version}|{previous}|{print_}"))

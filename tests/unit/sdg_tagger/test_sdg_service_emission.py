"""When a tag result becomes an event: the rule, the fingerprint, the event id (the store:
test_tag_store_behaviour.py)."""

from __future__ import annotations

import pytest

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.emission import LastEmitted, Verdict, decide, event_id_for, fingerprint
from tests.integration.sdg_tagger.harness import TISC_TEXT

LAST = LastEmitted(version=3, fingerprint="abc")


@pytest.mark.parametrize(
    ("last", "version", "print_", "verdict"),
    [
        (None, 1, "abc", "emitted"),
        (LAST, 4, "abc", "emitted"),  # a new version is tagged even when unchanged
        (LAST, 3, "abc", "unchanged"),  # redelivery, or a replay with the same answer
        (LAST, 3, "xyz", "emitted"),  # a replay after a model change
        (LAST, 2, "xyz", "stale"),  # a replay walking through old versions
        (LastEmitted(3, "withdrawn", withdrawn=True), 3, "abc", "stale"),
        (LastEmitted(3, "withdrawn", withdrawn=True), 5, "abc", "stale"),
    ],
)
def test_decide(last: LastEmitted | None, version: int, print_: str, verdict: Verdict) -> None:
    assert decide(last, version, print_) == verdict


def test_fingerprint_follows_model_and_decisions(tagger: SdgTagger) -> None:
    plain = tagger.tag(TISC_TEXT)
    assert fingerprint(plain) == fingerprint(tagger.tag(TISC_TEXT))
    assert fingerprint(plain) != fingerprint(tagger.tag(TISC_TEXT, curated_goals=[5]))
    renamed = plain.model_copy(update={"model_id": "another-model"})
    assert fingerprint(plain) != fingerprint(renamed)
    rescored = plain.model_copy(
        update={"goals": tuple(g.model_copy(update={"score": 0.5}) for g in plain.goals)}
    )
    assert fingerprint(plain) == fingerprint(rescored)


def test_event_ids_repeat_for_a_retry_and_differ_for_a_new_emission() -> None:
    first = event_id_for("TA-2026-000001", 3, LAST, "xyz")
    assert first == event_id_for("TA-2026-000001", 3, LAST, "xyz")
    assert first != event_id_for("TA-2026-000001", 3, LastEmitted(3, "xyz"), "abc")
    assert first != event_id_for("TA-2026-000001", 4, LAST, "xyz")
    assert first != event_id_for("TA-2026-000002", 3, LAST, "xyz")

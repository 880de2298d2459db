"""What of an activity is tagged, how a result becomes an event, and the settings."""

from __future__ import annotations

import pytest

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.activity_text import activity_text
from services.sdg_tagger.settings import TaggerSettings
from services.sdg_tagger.tag_event import tags_event
from shared import SettingsError, load_settings
from shared.events import SdgTagsAssigned
from tests.integration.sdg_tagger.harness import TISC_TEXT, make_activity


def test_english_description_is_preferred_with_its_title() -> None:
    activity = make_activity(
        1,
        title={"fr": "Centres TISC", "en": "TISC network"},
        description={"fr": "Réseau de centres", "en": TISC_TEXT},
        goals=[9],
        targets=["9.5", "4.4"],
    )
    source = activity_text(activity)
    assert source.language == "en"
    assert source.text == f"TISC network\n\n{TISC_TEXT}"
    assert source.curated_goals == (4, 9)
    assert source.curated_targets == ("4.4", "9.5")


def test_other_languages_fall_back_in_order() -> None:
    french = make_activity(2, title={"ar": "عنوان", "fr": "Titre"}, description={"es": "Texto"})
    assert activity_text(french).language == "es"
    assert activity_text(french).text == "Texto"
    titled = make_activity(3, title={"ru": "Заголовок", "zh": "标题"}, description={})
    assert (activity_text(titled).language, activity_text(titled).text) == ("zh", "标题")


def test_tags_event_carries_every_tag_with_evidence(tagger: SdgTagger) -> None:
    result = tagger.tag(TISC_TEXT, curated_targets=["9.5"])
    event = tags_event("TA-2026-000001", 4, result)
    assert isinstance(event, SdgTagsAssigned)
    assert (event.activity_id, event.activity_version) == ("TA-2026-000001", 4)
    assert event.model_id == tagger.model_id
    assert event.outcome == result.outcome
    assert [g.goal for g in event.goals] == [g.goal for g in result.goals]
    assert [(t.target, t.decision) for t in event.targets] == [
        (t.target, t.decision) for t in result.targets
    ]
    rejected = next(g for g in event.goals if g.decision == "rejected" and g.evidence.rules)
    assert "curation.overrides" in rejected.evidence.rules
    # The event round-trips through its JSON form (what consumers read).
    assert SdgTagsAssigned.model_validate_json(event.to_json()) == event


def test_settings_read_tagger_variables() -> None:
    settings = load_settings(
        TaggerSettings,
        {
            "TAGGER_PORT": "9000",
            "TAGGER_DB_PATH": "/tmp/x.db",
            "TAGGER_GROUP_ID": "tagger-b",
            "TABRIDGE_TOPIC_NAMESPACE": "staging",
        },
    )
    assert (settings.port, settings.db_path, settings.group_id) == (9000, "/tmp/x.db", "tagger-b")
    assert settings.topic_namespace == "staging"
    defaults = load_settings(TaggerSettings, {})
    assert (defaults.host, defaults.port, defaults.db_path, defaults.group_id) == (
        "127.0.0.1",
        8084,
        "var/sdg-tagger.db",
        "sdg-tagger",
    )
    with pytest.raises(SettingsError, match="TAGGER_PORT"):
        load_settings(TaggerSettings, {"TAGGER_PORT": "nope"})

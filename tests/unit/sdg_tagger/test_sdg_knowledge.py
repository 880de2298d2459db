"""The IP knowledge map and the packaged catalogue are well-formed."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.catalogue import Catalogue, goal_of_target
from services.sdg_tagger.errors import ArtifactInvalid
from services.sdg_tagger.knowledge import KnowledgeMap

SHARED_TARGETS = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "sdg" / "sdg_targets.json"
)
STRONG = 0.55


def _raw_rules() -> list[dict[str, object]]:
    text = resources.files("services.sdg_tagger").joinpath("knowledge", "ip_sdg_map.yaml")
    rules: list[dict[str, object]] = yaml.safe_load(text.read_text(encoding="utf-8"))["rules"]
    return rules


def test_every_goal_and_target_id_of_the_map_exists(tagger: SdgTagger) -> None:
    for rule in tagger.knowledge.rules:
        assert rule.goals, rule.id
        for goal, weight in rule.goals.items():
            assert 1 <= goal <= 17, rule.id
            assert 0.0 < weight <= 1.0, rule.id
        for target in rule.targets:
            assert tagger.catalogue.has_target(target), (rule.id, target)
            assert goal_of_target(target) in rule.goals, (rule.id, target)


def test_rule_ids_are_unique_and_entries_complete() -> None:
    rules = _raw_rules()
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)) >= 40
    for rule in rules:
        assert set(rule) == {"id", "label", "terms", "goals", "targets", "rationale", "examples"}
        assert str(rule["rationale"]).strip(), rule["id"]


def test_every_example_fires_its_rule(tagger: SdgTagger) -> None:
    for rule in tagger.knowledge.rules:
        for example in rule.examples:
            fired = [hit.rule_id for hit in tagger.knowledge.match(example)]
            assert rule.id in fired, (rule.id, example)


def test_strong_weights_assign_on_their_own(tagger: SdgTagger) -> None:
    thresholds = tagger.goal_thresholds

    assert sorted(thresholds) == list(range(1, 18))
    assert max(thresholds.values()) <= STRONG


def test_acronyms_are_case_sensitive(tagger: SdgTagger) -> None:
    assert [h.rule_id for h in tagger.knowledge.match("The ABC Global Book Service")] == [
        "abc_accessible_books"
    ]
    assert tagger.knowledge.match("the abc of finance") == []


def test_a_bad_target_in_the_map_is_refused(tagger: SdgTagger) -> None:
    bad = """
rules:
  - id: broken
    label: x
    terms: {en: ['patents?']}
    goals: {9: 0.5}
    targets: ['3.3']
    rationale: x
    examples: ['patents']
"""
    with pytest.raises(ArtifactInvalid, match=r"target '3\.3' unknown or not under its goals"):
        KnowledgeMap.from_yaml(bad, tagger.catalogue)


def test_a_pattern_that_does_not_compile_is_refused(tagger: SdgTagger) -> None:
    bad = """
rules:
  - id: broken
    label: x
    terms: {en: ['patent(']}
    goals: {9: 0.5}
    rationale: x
    examples: ['patents']
"""
    with pytest.raises(ArtifactInvalid, match="does not compile"):
        KnowledgeMap.from_yaml(bad, tagger.catalogue)


@pytest.mark.skipif(not SHARED_TARGETS.exists(), reason="shared/data not beside the checkout")
def test_packaged_catalogue_matches_the_official_texts(tagger: SdgTagger) -> None:
    official = json.loads(SHARED_TARGETS.read_text(encoding="utf-8"))
    catalogue = tagger.catalogue

    assert len(catalogue.goals) == 17
    assert len(catalogue.targets) == 169
    for goal in official["goals"]:
        for target in goal["targets"]:
            assert catalogue.target(target["id"]).text == target["text"]


def test_target_ids_are_shaped_like_the_official_ones(tagger: SdgTagger) -> None:
    assert all(re.fullmatch(r"\d{1,2}\.(\d{1,2}|[a-d])", t.id) for t in tagger.catalogue.targets)


def test_a_catalogue_without_all_goals_is_refused() -> None:
    with pytest.raises(ArtifactInvalid, match="goals 1-17 in order"):
        Catalogue.from_json({"goals": []})

"""Empty, huge, foreign-language text, and curated tags."""

from __future__ import annotations

import pydantic
import pytest

from services.sdg_tagger import InvalidTagRequest, SdgTagger, TagResult
from services.sdg_tagger.text_limits import MAX_CHARACTERS

TISC = "Establishment of a network of Technology and Innovation Support Centers (TISCs) in Peru."


@pytest.mark.parametrize("text", ["", "   \n\t  ", "--- 2024 / 12.5 %"])
def test_text_without_words_is_empty(tagger: SdgTagger, text: str) -> None:
    result = tagger.tag(text)

    assert result.outcome == "empty"
    assert result.goals == ()
    assert result.targets == ()
    assert result.model_id == tagger.model_id
    assert result.notes == ("no words in the text: only curated tags are returned",)


def test_one_megabyte_text_is_truncated_and_still_tagged(tagger: SdgTagger) -> None:
    sentence = "Training of judges on the enforcement of patents against counterfeiting. "
    text = sentence * (1_048_576 // len(sentence) + 1)

    result = tagger.tag(text)

    assert result.outcome == "tagged"
    assert result.truncated is True
    assert result.characters == len(text) > 1_000_000
    assert MAX_CHARACTERS - 200 <= result.characters_used <= MAX_CHARACTERS
    assert result.notes[0].startswith("text truncated: read the first ")
    assert 16 in result.assigned_goals


def test_short_text_is_not_truncated(tagger: SdgTagger) -> None:
    result = tagger.tag(TISC)

    assert result.truncated is False
    assert result.characters == result.characters_used == len(TISC)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Δημιουργία κέντρων υποστήριξης τεχνολογίας και καινοτομίας στην Ελλάδα.", "und"),
        ("Criação de centros de apoio à tecnologia e inovação em Moçambique, com formação "
         "dos técnicos do instituto nacional da propriedade industrial.", "pt"),
    ],
)  # fmt: skip
def test_languages_the_model_does_not_know_are_reported(
    tagger: SdgTagger, text: str, language: str
) -> None:
    result = tagger.tag(text)

    assert result.outcome == "unsupported_language"
    assert result.language == language
    assert result.goals == ()
    assert "not supported" in result.notes[0]


def test_unsupported_language_still_returns_curated_tags(tagger: SdgTagger) -> None:
    result = tagger.tag(
        "Δημιουργία κέντρων υποστήριξης τεχνολογίας και καινοτομίας.", curated_goals=[9]
    )

    assert result.outcome == "unsupported_language"
    assert [(g.goal, g.decision, g.score) for g in result.goals] == [(9, "curated", 1.0)]


def _model_goals(result: TagResult) -> set[int]:
    return {
        g.goal
        for g in result.goals
        if g.decision == "assigned" and "model.threshold" in g.evidence.rules
    }


def test_french_text_is_tagged_by_the_model(tagger: SdgTagger) -> None:
    text = (
        "Mise en place d'un réseau de centres d'appui à la technologie et à l'innovation "
        "(CATI) au Sénégal et formation du personnel à la recherche dans les brevets."
    )
    result = tagger.tag(text)

    assert result.outcome == "tagged"
    assert result.language == "fr"
    assert {9, 4, 17} <= set(result.assigned_goals)
    assert 9 in _model_goals(result)
    assert "fr->en word table" in result.notes[0]


def test_spanish_text_is_tagged_by_the_model(tagger: SdgTagger) -> None:
    text = (
        "Proyecto sobre el uso de indicaciones geográficas y marcas colectivas por los "
        "pequeños productores de café de Colombia."
    )
    result = tagger.tag(text)

    assert result.outcome == "tagged"
    assert result.language == "es"
    assert {8, 2} <= set(result.assigned_goals)


# Real sentences: the official French of target 4.1 (held out by the split rule: neither
# the model nor the word tables saw it, in any language) and development-project prose.
@pytest.mark.parametrize(
    ("text", "goal"),
    [
        ("D'ici à 2030, faire en sorte que toutes les filles et tous les garçons suivent, sur "
         "un pied d'égalité, un cycle complet d'enseignement primaire et secondaire gratuit "
         "et de qualité.", 4),
        ("Le projet vise à améliorer l'accès à l'eau potable et à l'assainissement dans les "
         "zones rurales du Niger.", 6),
        ("Réduire nettement la mortalité maternelle et néonatale grâce à des services de "
         "santé de qualité.", 3),
        ("El proyecto mejora el suministro de agua potable y el saneamiento en las "
         "comunidades rurales de Bolivia.", 6),
        ("Poner fin a la pobreza extrema y fortalecer la protección social de los hogares "
         "más vulnerables.", 1),
        ("El programa promueve la igualdad de género y el empoderamiento de las mujeres y "
         "las niñas en las zonas rurales.", 5),
    ],
)  # fmt: skip
def test_french_and_spanish_sentences_get_their_goal_from_the_model(
    tagger: SdgTagger, text: str, goal: int
) -> None:
    result = tagger.tag(text)

    assert result.outcome == "tagged"
    assert goal in _model_goals(result)
    tag = next(g for g in result.goals if g.goal == goal)
    # Evidence names the words of the text and the English words they were read as.
    assert any("→" in term for term in tag.evidence.matched_terms)
    assert tag.evidence.closest_target is not None


@pytest.mark.parametrize(
    ("text", "language", "goal"),
    [
        ("القضاء على الفقر بجميع أشكاله في كل مكان", "ar", 1),
        ("Обеспечение всеобщего доступа к безопасной питьевой воде.", "ru", 6),
        ("确保包容和公平的优质教育让全民终身享有学习机会", "zh", 4),
    ],
)
def test_arabic_russian_and_chinese_are_read_through_word_tables(
    tagger: SdgTagger, text: str, language: str, goal: int
) -> None:
    result = tagger.tag(text)

    assert result.outcome == "tagged"
    assert result.language == language
    assert goal in _model_goals(result)


def test_bilingual_english_french_text_uses_the_model(tagger: SdgTagger) -> None:
    text = (
        "Training of women entrepreneurs on the use of trademarks. "
        "Formation des femmes entrepreneures à l'utilisation des marques."
    )
    result = tagger.tag(text)

    assert result.outcome == "tagged"
    assert {5, 8} <= set(result.assigned_goals)


def test_curated_goals_win_over_computed_ones(tagger: SdgTagger) -> None:
    result = tagger.tag(TISC, curated_goals=[5], curated_targets=["4.4"])

    by_goal = {g.goal: g for g in result.goals}
    assert by_goal[5].decision == "curated"
    assert by_goal[5].evidence.rules[-1] == "curated"
    assert by_goal[4].decision == "curated"
    assert by_goal[4].evidence.rules[-1] == "curated.via_target"
    assert by_goal[9].decision == "rejected"
    assert by_goal[9].score > 0.9
    assert "curation.overrides" in by_goal[9].evidence.rules
    assert result.assigned_goals == (4, 5)
    assert result.assigned_targets == ("4.4",)
    assert result.targets[0].decision == "curated"
    assert all(t.decision == "rejected" for t in result.targets[1:])


def test_curated_tags_on_empty_text(tagger: SdgTagger) -> None:
    result = tagger.tag("", curated_targets=["17.7"])

    assert result.outcome == "empty"
    assert result.assigned_goals == (17,)
    assert result.assigned_targets == ("17.7",)


@pytest.mark.parametrize(
    ("goals", "targets", "message"),
    [
        ([18], [], "SDG goal 18 does not exist"),
        ([0], [], "SDG goal 0 does not exist"),
        ([], ["9.9"], "SDG target '9.9' does not exist"),
        ([], ["nine"], "'nine' is not an SDG target id"),
    ],
)
def test_unknown_curated_ids_are_rejected(
    tagger: SdgTagger, goals: list[int], targets: list[str], message: str
) -> None:
    with pytest.raises(InvalidTagRequest, match=message):
        tagger.tag(TISC, curated_goals=goals, curated_targets=targets)


def test_result_is_frozen_and_round_trips_through_json(tagger: SdgTagger) -> None:
    result = tagger.tag(TISC)

    with pytest.raises(pydantic.ValidationError):
        result.outcome = "empty"  # type: ignore[misc]
    assert TagResult.model_validate_json(result.model_dump_json()) == result

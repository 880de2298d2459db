"""Word tables that let the English model read the other UN languages."""

from __future__ import annotations

import pytest

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.crosslingual import Lexicon, source_keys
from services.sdg_tagger.parallel import align, cognates


def test_source_keys_normalise_inflection_and_drop_function_words() -> None:
    assert source_keys("L'éducation des filles et les écoles", "fr") == [
        "éducation",
        "fille",
        "école",
    ]
    assert source_keys("Los derechos de las mujeres", "es") == ["derecho", "mujere"]
    assert source_keys("питьевой водой", "ru") == ["питьев", "водой"]
    assert source_keys("优质教育", "zh") == ["优质", "质教", "教育"]


def test_ibm_model_one_learns_translations_from_parallel_texts() -> None:
    pairs = [
        (["eau", "potable"], ["water", "drinking"]),
        (["eau", "propre"], ["water", "clean"]),
        (["énergie", "propre"], ["energy", "clean"]),
        (["énergie", "moderne"], ["energy", "modern"]),
    ]

    prob = align(pairs)

    assert max(prob["eau"], key=lambda e: prob["eau"][e]) == "water"
    assert max(prob["propre"], key=lambda e: prob["propre"][e]) == "clean"
    assert max(prob["énergie"], key=lambda e: prob["énergie"][e]) == "energy"


def test_cognates_follow_spelling_rules_into_the_english_vocabulary() -> None:
    english = {"education", "sustainability", "electricity", "vulnerable", "democratic"}

    assert cognates(["éducation", "électricité", "vulnérable"], "fr", english) == {
        "éducation": "education",
        "électricité": "electricity",
        "vulnérable": "vulnerable",
    }
    assert cognates(["sostenibilidad", "democrático"], "es", english) == {
        "democrático": "democratic"
    }


def test_translation_keeps_the_source_word_of_each_english_word() -> None:
    lexicon = Lexicon({"fr": {"pauvreté": ["poverty"], "extrême": ["extreme"]}})

    reading = lexicon.translate("Éliminer l'extrême pauvreté", "fr")

    assert reading.english == "extreme poverty"
    assert reading.source_of == {"extreme": "extrême", "poverty": "pauvreté"}
    assert reading.known_share == pytest.approx(2 / 3)


def test_shipped_tables_cover_the_five_other_un_languages(tagger: SdgTagger) -> None:
    assert tagger.lexicon.languages == ("fr", "es", "ar", "ru", "zh")
    for language in tagger.lexicon.languages:
        assert tagger.lexicon.size(language) > 500
    assert tagger.training["lexicon_entries"]["fr"] == tagger.lexicon.size("fr")

"""Regression guard: quality on held-out balanced yes/no pairs, English and other languages.

The pairs are built from the TEST split only (``services/sdg_tagger/pairs.py``), so the
shipped model never saw them. The floors sit a little below the figures ``make bench-sdg``
reports (0.906 mean per-goal accuracy, 0.908 macro-F1 for short English excerpts), to catch
a model or decision change that loses quality, not to re-measure it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.corpus import is_test, load_corpus
from services.sdg_tagger.pairs import balanced_pairs, score_pairs
from services.sdg_tagger.parallel import held_out_texts, load_official

DATA = Path(__file__).resolve().parents[4] / "shared" / "data" / "sdg"
pytestmark = pytest.mark.skipif(not DATA.exists(), reason="shared/data not beside the checkout")


def test_held_out_pairs_have_the_benchmark_shape() -> None:
    pairs = balanced_pairs(load_corpus(DATA, "test"))

    assert {p.goal for p in pairs} == set(range(1, 18))
    assert sum(p.truth for p in pairs) * 2 == len(pairs)
    for goal in range(1, 18):
        of_goal = [p for p in pairs if p.goal == goal]
        assert sum(p.truth for p in of_goal) * 2 == len(of_goal) >= 30
    assert all(is_test(p.text) for p in pairs)
    assert all(20 <= len(p.text.split()) <= 120 for p in pairs)


def test_english_held_out_pairs_stay_above_the_floor(tagger: SdgTagger) -> None:
    pairs = balanced_pairs(load_corpus(DATA, "test"))

    scores = score_pairs(pairs, lambda text: tagger.tag(text).assigned_goals)

    assert scores["mean_goal_accuracy"] >= 0.89
    assert scores["macro_f1"] >= 0.89
    assert scores["precision"] >= 0.87
    assert scores["recall"] >= 0.88
    assert min(g["accuracy"] for g in scores["per_goal"].values()) >= 0.65


@pytest.mark.parametrize("language", ["fr", "es"])
def test_french_and_spanish_held_out_texts_reach_most_of_the_english_figure(
    tagger: SdgTagger, language: str
) -> None:
    official = load_official(DATA / "translations")

    def score(lang: str) -> float:
        pairs = balanced_pairs(held_out_texts(official, lang), min_words=1, max_words=None)
        result = score_pairs(pairs, lambda text: tagger.tag(text).assigned_goals)
        return float(result["mean_goal_accuracy"])

    english, other = score("en"), score(language)

    assert other >= 0.8
    assert other / english >= 0.8

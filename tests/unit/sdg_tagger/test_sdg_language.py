"""Language identification and text bounds."""

from __future__ import annotations

import pytest

from services.sdg_tagger.language import detect_language
from services.sdg_tagger.text_limits import has_words, truncate


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Training of patent examiners in the use of the PCT system.", "en"),
        ("Formation des examinateurs de brevets à l'utilisation du système du PCT.", "fr"),
        ("Capacitación de los examinadores de patentes en el uso del sistema del PCT.", "es"),
        ("Formação dos examinadores de patentes no uso do sistema do PCT.", "pt"),
        ("تدريب فاحصي البراءات على استخدام نظام معاهدة التعاون بشأن البراءات", "ar"),
        ("Обучение патентных экспертов использованию системы PCT.", "ru"),
        ("培训专利审查员使用专利合作条约体系。", "zh"),
        ("WIPO GREEN Kenya", "und"),
        ("नवाचार के लिए बौद्धिक संपदा का उपयोग", "und"),
    ],
)
def test_detects_the_six_un_languages_and_says_when_unsure(text: str, code: str) -> None:
    assert detect_language(text).code == code


def test_english_share_exposes_bilingual_text() -> None:
    guess = detect_language(
        "Support to the national office. Appui à l'office national de la propriété."
    )

    assert 0.3 <= guess.english_share < 0.7


def test_truncate_cuts_at_a_space_and_says_so() -> None:
    text = "word " * 100

    used, notes = truncate(text, 52)

    assert used == ("word " * 10).rstrip()
    assert notes == ["text truncated: read the first 49 of 500 characters"]
    assert truncate("short", 52) == ("short", [])


def test_truncate_refuses_a_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="limit must be positive"):
        truncate("text", 0)


def test_has_words_counts_letters_of_any_script() -> None:
    assert has_words("知识产权")
    assert not has_words(" 12 - 3.5% \n")

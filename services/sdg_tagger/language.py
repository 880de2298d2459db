"""Cheap, offline language identification for the six UN languages.

Arabic, Russian and Chinese are told apart by script; English, French and Spanish by
the share of their function words. Portuguese is recognised too, so that it is not
mistaken for Spanish. No model, no network; a few microseconds per text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["LanguageGuess", "detect_language"]

Language = Literal["en", "fr", "es", "pt", "ar", "ru", "zh", "und"]

_SAMPLE_CHARS = 5000
_WORD = re.compile(r"[^\W\d_]+")
_MIN_STOPWORD_HITS = 2

_EN = """
the of and to in for on with by is are was were be this that from as at an or its their
which has have will under into
"""
_FR = """
le la les des du de et en un une pour dans sur par est sont au aux avec ce cette qui que
dont leur leurs ses été être
"""
_ES = """
el la los las del de y en un una para por con es son al sobre que como su sus este esta
entre fue ser
"""
_PT = """
o os as do da dos das em no na nos nas um uma para com não por que ao pelo pela foi são
seu sua este esta
"""
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(_EN.split()),
    "fr": frozenset(_FR.split()),
    "es": frozenset(_ES.split()),
    "pt": frozenset(_PT.split()),
}


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The most likely language and how much of the text reads as English.

    ``english_share`` is the share of English among the function-word hits of the
    Latin-script languages (0 for other scripts), so bilingual EN/FR text is visible.
    ``code`` is ``"und"`` when the text gives too little evidence (e.g. a short title).
    """

    code: Language
    script: Literal["latin", "arabic", "cyrillic", "han", "other", "none"]
    english_share: float


def _script(sample: str) -> Literal["latin", "arabic", "cyrillic", "han", "other", "none"]:
    if sample.isascii():  # the common case, without a per-character loop
        return "latin" if _WORD.search(sample) else "none"
    counts = {"latin": 0, "arabic": 0, "cyrillic": 0, "han": 0, "other": 0}
    for char in sample:
        if not char.isalpha():
            continue
        code = ord(char)
        if code < 0x250:
            counts["latin"] += 1
        elif 0x600 <= code < 0x780 or 0xFB50 <= code < 0xFF00:
            counts["arabic"] += 1
        elif 0x400 <= code < 0x530:
            counts["cyrillic"] += 1
        elif 0x3400 <= code < 0xA000 or 0xF900 <= code < 0xFB00:
            counts["han"] += 1
        else:
            counts["other"] += 1
    # Han characters are words on their own: weigh them against letters of alphabets.
    counts["han"] *= 3
    best = max(counts, key=lambda key: counts[key])
    if counts[best] == 0:
        return "none"
    return best  # type: ignore[return-value]


def detect_language(text: str) -> LanguageGuess:
    """Guess the language of ``text`` from its first few thousand characters."""
    sample = text[:_SAMPLE_CHARS]
    script = _script(sample)
    if script == "arabic":
        return LanguageGuess("ar", script, 0.0)
    if script == "cyrillic":
        return LanguageGuess("ru", script, 0.0)
    if script == "han":
        return LanguageGuess("zh", script, 0.0)
    if script != "latin":
        return LanguageGuess("und", script, 0.0)
    words = _WORD.findall(sample.lower())
    hits = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    total = sum(hits.values())
    if total < _MIN_STOPWORD_HITS:
        return LanguageGuess("und", script, 0.0)
    best: Language = max(("en", "fr", "es", "pt"), key=lambda lang: hits[lang])
    return LanguageGuess(best, script, hits["en"] / total)

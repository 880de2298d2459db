"""Read French, Spanish, Arabic, Russian and Chinese text with the English model.

The model is trained on English. For another UN language, each word of the text is
mapped to the English words it translates to, and the English model scores the result;
the words that fired are reported in the text's own language (``pauvreté→poverty``).

The word tables are learnt at build time by ``tools/train_sdg.py`` (see
:mod:`.parallel`) from the official goals, targets and indicators in the six UN languages
(open-sdg/sdg-translations, UN text): a word-alignment model (IBM model 1) over the
parallel texts, plus, for French and Spanish, cognates with the English vocabulary
(``éducation`` -> ``education``, ``sostenibilidad`` -> ``sustainability``).

Words are normalised before lookup so that inflected forms share an entry
(:func:`source_keys`): lower case; French/Spanish drop elided articles and a plural
``s``/``x``; Russian keeps the first 6 letters; Arabic drops the article and common
one-letter prefixes; Chinese, written without spaces, is read as character pairs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["LANGUAGES", "Lexicon", "Translation", "fold_accents", "source_keys"]

LANGUAGES = ("fr", "es", "ar", "ru", "zh")
_WORD = re.compile(r"[^\W\d_]+")
_ELISION = re.compile(r"^(?:l|d|qu|s|n|j|m|c|jusqu|lorsqu|puisqu)['\u2019]", re.IGNORECASE)
_AR_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_RU_STEM = 6
_AR_STEM = 5
# Function words carry no topic; a word table learnt from a few hundred texts would
# otherwise give them one (keys as :func:`source_keys` makes them).
_FUNCTION_WORDS = {
    "fr": """le la les de des du un une et ou en au aux pour par sur sous dans avec sans
        ce cet cette ces qui que quoi dont leur ses son sa se ne pas plus moins tout toute
        tou comme mais est sont été être avoir ont entre chez vers afin ainsi aussi très
        notamment lors mise place cadre fait""",
    "es": """el la los las lo de del un una uno y o e u en al por para con sin sobre entre
        su sus se que quien cual como mas má menos todo toda este esta esto ese esa
        es son ser fue han ha hacia desde hasta tambien también muy así mediante según
        marco""",
}


def fold_accents(word: str) -> str:
    """``éducation`` -> ``education``: strip combining marks."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _latin_key(word: str) -> str:
    word = _ELISION.sub("", word)
    if len(word) > 3 and word[-1] in "sx":
        word = word[:-1]
    return word


def _arabic_key(word: str) -> str:
    for prefix in _AR_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    else:
        if word[:1] in ("و", "ب", "ل", "ف") and len(word) > 3:
            word = word[1:]
    return word[:_AR_STEM]


_STOP_KEYS = {
    lang: frozenset(_latin_key(w) for w in words.split()) for lang, words in _FUNCTION_WORDS.items()
}


def source_keys(text: str, language: str) -> list[str]:
    """The lookup keys of ``text`` in reading order (see the module docstring)."""
    lowered = text.lower()
    if language == "zh":
        keys: list[str] = []
        for run in _WORD.findall(lowered):
            if len(run) == 1:
                keys.append(run)
            keys.extend(run[i : i + 2] for i in range(len(run) - 1))
        return keys
    words = re.findall(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?", lowered)
    if language in ("fr", "es"):
        stop = _STOP_KEYS[language]
        return [k for k in (_latin_key(w) for w in words) if len(k) > 1 and k not in stop]
    if language == "ru":
        return [w[:_RU_STEM] for w in words if len(w) > 1]
    if language == "ar":
        return [_arabic_key(w) for w in words if len(w) > 1]
    return [w for w in words if len(w) > 1]


@dataclass(frozen=True, slots=True)
class Translation:
    """English words for the model, and for each the source words it came from."""

    english: str
    source_of: Mapping[str, str]
    known_share: float  # share of the text's keys the table knows


class Lexicon:
    """Per-language tables: source key -> English words (best first)."""

    def __init__(self, tables: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
        unknown = set(tables) - set(LANGUAGES)
        if unknown:
            msg = f"lexicon languages {sorted(unknown)} are not among {LANGUAGES}"
            raise ValueError(msg)
        self._tables = {lang: {k: tuple(v) for k, v in t.items()} for lang, t in tables.items()}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang in LANGUAGES if lang in self._tables)

    def size(self, language: str) -> int:
        return len(self._tables.get(language, {}))

    def translate(self, text: str, language: str) -> Translation:
        """Word-by-word English reading of ``text``; unknown words are dropped."""
        table = self._tables.get(language)
        if table is None:
            return Translation("", {}, 0.0)
        keys = source_keys(text, language)
        out: list[str] = []
        source_of: dict[str, str] = {}
        known = 0
        for key in keys:
            english = table.get(key)
            if english is None and language in ("fr", "es"):
                english = table.get(fold_accents(key))
            if not english:
                continue
            known += 1
            for word in english:
                out.append(word)
                source_of.setdefault(word, key)
        return Translation(" ".join(out), source_of, known / len(keys) if keys else 0.0)

    def to_json(self) -> dict[str, dict[str, list[str]]]:
        return {
            lang: {k: list(v) for k, v in sorted(t.items())} for lang, t in self._tables.items()
        }

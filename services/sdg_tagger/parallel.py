"""The official SDG texts in six languages, and the word tables learnt from them.

Build-time only (``tools/train_sdg.py``, ``tools/bench_sdg.py``, tests); the service reads
the resulting tables from the artifact. Source: ``translations/<lang>/global_*.yml`` of
open-sdg/sdg-translations (UN text, keys such as ``1-1-title`` for target 1.1,
``1-1-1-title`` for indicator 1.1.1, ``1-title``/``1-short`` for goal 1).

Held-out rule: an official text is held out (never used to train the model nor the word
tables) when its *English* text is in the TEST split of :mod:`.corpus`; its translations
then form the French/Spanish/... evaluation texts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.sdg_tagger.corpus import LabelledText, is_test
from services.sdg_tagger.crosslingual import LANGUAGES, fold_accents, source_keys
from services.sdg_tagger.features import tokenize

__all__ = [
    "DIRECTORIES",
    "OfficialText",
    "align",
    "cognates",
    "held_out_texts",
    "learn_tables",
    "load_official",
]

DIRECTORIES = {"en": "en", "fr": "fr", "es": "es", "ar": "ar", "ru": "ru", "zh": "zh-Hans"}
_FILES = ("global_goals.yml", "global_targets.yml", "global_indicators.yml")
_KEY = re.compile(r"^(\d{1,2})-(?:[\w-]+)$")
IBM_ITERATIONS = 8
MIN_PROBABILITY = 0.15
MAX_TRANSLATIONS = 2
SECOND_SHARE = 0.6  # a second English word only when nearly as likely as the first
STOP_SHARE = 0.2  # source keys in more than this share of texts carry no topic


@dataclass(frozen=True, slots=True)
class OfficialText:
    key: str  # e.g. "1-1-title"
    goal: int
    texts: Mapping[str, str]  # language -> text


def load_official(translations_dir: Path) -> list[OfficialText]:
    """Every key present in English, with its texts in the languages that have it."""
    by_lang: dict[str, dict[str, str]] = {}
    for lang, folder in DIRECTORIES.items():
        merged: dict[str, str] = {}
        for name in _FILES:
            path = translations_dir / folder / name
            if path.exists():
                merged.update(
                    {
                        str(k): str(v)
                        for k, v in (yaml.safe_load(path.read_text("utf-8")) or {}).items()
                    }
                )
        by_lang[lang] = merged
    out: list[OfficialText] = []
    for key in sorted(by_lang["en"]):
        match = _KEY.match(key)
        if match is None or not 1 <= int(match.group(1)) <= 17:
            continue
        texts = {lang: t[key] for lang, t in by_lang.items() if t.get(key, "").strip()}
        out.append(OfficialText(key, int(match.group(1)), texts))
    return out


def is_held_out(text: OfficialText) -> bool:
    return is_test(text.texts["en"])


def held_out_texts(official: Iterable[OfficialText], language: str) -> list[LabelledText]:
    """Held-out official texts in ``language``, labelled with their goal."""
    return [
        LabelledText(f"official_{language}", t.texts[language], frozenset({t.goal}))
        for t in official
        if is_held_out(t) and language in t.texts
    ]


def align(
    pairs: Sequence[tuple[Sequence[str], Sequence[str]]], iterations: int = IBM_ITERATIONS
) -> dict[str, dict[str, float]]:
    """IBM model 1: t(english | source) from (source keys, english words) pairs."""
    prob: dict[str, dict[str, float]] = defaultdict(dict)
    for source, english in pairs:
        for f in set(source):
            for e in set(english):
                prob[f][e] = 1.0
    for f, row in prob.items():
        share = 1.0 / len(row)
        prob[f] = dict.fromkeys(row, share)
    for _ in range(iterations):
        counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for source, english in pairs:
            if not source:
                continue
            for e in english:
                weights = [prob[f][e] for f in source]
                total = sum(weights)
                if total <= 0.0:
                    continue
                for f, w in zip(source, weights, strict=True):
                    counts[f][e] += w / total
        for f, row in counts.items():
            total = sum(row.values())
            prob[f] = {e: c / total for e, c in row.items()}
    return prob


_SUFFIXES = {
    "fr": (
        ("tion", "tion"),
        ("té", "ty"),
        ("ique", "ic"),
        ("iques", "ics"),
        ("isme", "ism"),
        ("aire", "ary"),
        ("eux", "ous"),
        ("el", "al"),
        ("elle", "al"),
        ("if", "ive"),
        ("ive", "ive"),
        ("ment", "ment"),
        ("ence", "ence"),
        ("ance", "ance"),
        ("iste", "ist"),
        ("logie", "logy"),
        ("e", ""),
        ("", ""),
    ),
    "es": (
        ("ción", "tion"),
        ("cione", "tion"),
        ("sión", "sion"),
        ("sione", "sion"),
        ("dad", "ty"),
        ("ico", "ic"),
        ("ica", "ic"),
        ("ismo", "ism"),
        ("ario", "ary"),
        ("aria", "ary"),
        ("oso", "ous"),
        ("osa", "ous"),
        ("ivo", "ive"),
        ("iva", "ive"),
        ("mente", "ly"),
        ("encia", "ence"),
        ("ancia", "ance"),
        ("ista", "ist"),
        ("logía", "logy"),
        ("al", "al"),
        ("ble", "ble"),
        ("o", ""),
        ("a", ""),
        ("e", ""),
        ("", ""),
    ),
}


def cognates(keys: Iterable[str], language: str, english: Iterable[str]) -> dict[str, str]:
    """Source keys that are spelled like an English vocabulary word, up to a suffix rule."""
    rules = _SUFFIXES.get(language)
    if rules is None:
        return {}
    vocabulary = {w for w in english if len(w) >= 5}
    found: dict[str, str] = {}
    for key in keys:
        if len(key) < 5:
            continue
        for plain in dict.fromkeys((key, fold_accents(key))):
            for ending, replacement in rules:
                if not plain.endswith(fold_accents(ending)) and not plain.endswith(ending):
                    continue
                cut = len(plain) - len(ending) if ending else len(plain)
                stem = plain[:cut]
                for candidate in (stem + fold_accents(replacement), stem + replacement + "s"):
                    if candidate in vocabulary and len(stem) >= 4:
                        found.setdefault(key, candidate)
                        break
                if key in found:
                    break
            if key in found:
                break
    return found


def learn_tables(
    official: Sequence[OfficialText],
    english_vocabulary: Iterable[str],
    extra_keys: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, dict[str, list[str]]]:
    """Per language: source key -> English words, from the training official texts.

    ``english_vocabulary`` are the model's unigrams (cognates must exist there);
    ``extra_keys`` are further source keys per language worth a cognate lookup.
    """
    vocabulary = set(english_vocabulary)
    training = [t for t in official if not is_held_out(t)]
    tables: dict[str, dict[str, list[str]]] = {}
    for lang in LANGUAGES:
        texts = [t for t in training if lang in t.texts]
        if not texts:
            continue
        docs = [source_keys(t.texts[lang], lang) for t in texts]
        df = Counter(k for doc in docs for k in set(doc))
        stop = {k for k, n in df.items() if n > STOP_SHARE * len(docs)}
        pairs = [
            (
                [k for k in doc if k not in stop],
                [w for w in tokenize(t.texts["en"]) if w in vocabulary],
            )
            for doc, t in zip(docs, texts, strict=True)
        ]
        prob = align(pairs)
        table: dict[str, list[str]] = {}
        for key, row in prob.items():
            if df[key] < 1 or key in stop:
                continue
            best = sorted(row.items(), key=lambda item: (-item[1], item[0]))
            floor = max(MIN_PROBABILITY, SECOND_SHARE * best[0][1]) if best else 1.0
            words = [e for e, p in best[:MAX_TRANSLATIONS] if p >= floor or p == best[0][1]]
            words = words if best and best[0][1] >= MIN_PROBABILITY else []
            if words:
                table[key] = words
        more = set(df) | set((extra_keys or {}).get(lang, ()))
        for key, word in cognates(more - stop, lang, vocabulary).items():
            known = table.get(key, [])
            table[key] = ([*known, word] if word not in known else known)[:MAX_TRANSLATIONS]
            if not known:
                table[key] = [word]
        tables[lang] = table
    return tables

"""Benchmark the SDG tagger on held-out data (``make bench-sdg``).

Usage: ``python tools/bench_sdg.py [--data-dir ../shared/data/sdg] [--runs 5] [--json]``

Nothing here was seen in training (the split rule of ``services/sdg_tagger/corpus.py``,
applied to the corpora and, through their English text, to the official translations).

1. **Balanced yes/no pairs**, scored as independent SDG benchmarks are (see
   ``services/sdg_tagger/pairs.py``): per goal, every held-out text labelled with it and as
   many that are not; mean per-goal accuracy, macro-F1, precision, recall; per corpus and
   overall, for short excerpts (20-120 words, the benchmark's shape: the headline) and for
   every length from 20 words; per-goal table of the headline set. Systems: ``tagger``
   (``SdgTagger.tag()``: model + Aurora queries + IP knowledge rules) and ``model`` (the
   statistical model's own decision, rule ``model.threshold`` without ``model.below_best``).
2. **Other languages**: held-out official goals/targets/indicators in en, fr, es, ar, ru,
   zh (the same texts in each language), balanced pairs, read by the model through its
   word tables; ratio of each language's mean per-goal accuracy to English's.
3. **IATI**: goal agreement with publisher SDG tags where the files have them, and for the
   bilingual activity (FR/EN narratives) agreement of its French reading with its English
   reading.
4. **Throughput** of ``tag()`` pinned to one CPU core (median of ``--runs`` passes over the
   headline texts), and load time.

Ends with ``RATIO bench-sdg <mean per-goal accuracy on the headline pairs, as a fraction>``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from services.sdg_tagger.corpus import DATASETS, SPLIT_RULE, load_corpus
from services.sdg_tagger.pairs import MAX_WORDS, MIN_WORDS, balanced_pairs, score_pairs
from services.sdg_tagger.parallel import held_out_texts, load_official
from services.sdg_tagger.tagger import SdgTagger

REPO = Path(__file__).resolve().parents[1]
LANGUAGES = ("en", "fr", "es", "ar", "ru", "zh")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_SUMMARY = ("pairs", "texts", "mean_goal_accuracy", "macro_f1", "precision", "recall")


def _model_only(tagger: SdgTagger, text: str) -> list[int]:
    result = tagger.tag(text)
    return [
        g.goal
        for g in result.goals
        if "model.threshold" in g.evidence.rules and "model.below_best" not in g.evidence.rules
    ]


def pair_report(tagger: SdgTagger, rows: list[Any], max_words: int | None) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name in (*DATASETS, "overall"):
        subset = rows if name == "overall" else [r for r in rows if r.dataset == name]
        pairs = balanced_pairs(subset, max_words=max_words)
        if not pairs:
            continue
        report[name] = {
            "tagger": score_pairs(pairs, lambda t: tagger.tag(t).assigned_goals),
            "model": score_pairs(pairs, lambda t: _model_only(tagger, t)),
        }
    return report


def language_report(tagger: SdgTagger, data_dir: Path) -> dict[str, Any]:
    official = load_official(data_dir / "translations")
    report: dict[str, Any] = {}
    for lang in LANGUAGES:
        pairs = balanced_pairs(held_out_texts(official, lang), min_words=1, max_words=None)
        outcomes: dict[str, int] = {}
        for text in {p.text for p in pairs}:
            outcome = tagger.tag(text).outcome
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        scores = score_pairs(pairs, lambda t: tagger.tag(t).assigned_goals)
        report[lang] = {"outcomes": outcomes, **scores}
    english = report["en"]["mean_goal_accuracy"]
    for lang in LANGUAGES:
        report[lang]["ratio_to_en"] = round(report[lang]["mean_goal_accuracy"] / english, 4)
    return report


def _narratives(element: Any, path: str) -> dict[str, str]:
    texts: dict[str, list[str]] = {}
    for node in element.findall(path):
        lang = (node.get(_XML_LANG) or "en").lower()
        texts.setdefault(lang, []).append((node.text or "").strip())
    return {lang: " ".join(parts) for lang, parts in texts.items()}


def iati_report(tagger: SdgTagger, iati_dir: Path) -> dict[str, Any]:
    """Publisher-tag agreement (English) and French-vs-English agreement (bilingual)."""
    tagged: list[dict[str, Any]] = []
    bilingual: list[dict[str, Any]] = []
    for path in sorted((iati_dir / "publishers").glob("*.xml")):
        for activity in ElementTree.parse(path).getroot().iter("iati-activity"):
            ident = (activity.findtext("iati-identifier") or "").strip()
            by_lang: dict[str, str] = {}
            for part in ("title/narrative", "description/narrative"):
                for lang, text in _narratives(activity, part).items():
                    by_lang[lang] = f"{by_lang.get(lang, '')} {text}".strip()
            publisher = sorted(
                {int(t.get("code", "0")) for t in activity.findall("tag[@vocabulary='2']")}
            )
            if publisher and "en" in by_lang:
                said = list(tagger.tag(by_lang["en"]).assigned_goals)
                tagged.append({"activity": ident, "publisher": publisher, "tagger": said})
            if "en" in by_lang and "fr" in by_lang:
                en = set(tagger.tag(by_lang["en"]).assigned_goals)
                fr_result = tagger.tag(by_lang["fr"])
                fr = set(fr_result.assigned_goals)
                bilingual.append(
                    {
                        "activity": ident,
                        "en": sorted(en),
                        "fr": sorted(fr),
                        "fr_outcome": fr_result.outcome,
                        "agreement_f1": round(2 * len(en & fr) / max(1, len(en) + len(fr)), 4),
                    }
                )
    return {"publisher_tagged_en": tagged, "bilingual_fr_vs_en": bilingual}


def throughput(tagger: SdgTagger, texts: list[str], runs: int) -> dict[str, Any]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rates, cpu_rates = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        for text in texts:
            tagger.tag(text)
        rates.append(len(texts) / (time.perf_counter() - started))
        cpu_rates.append(len(texts) / max(1e-9, time.process_time() - cpu_started))
    chars = sum(len(t) for t in texts) / len(texts)
    return {
        "texts_per_second_median": round(statistics.median(rates), 1),
        "texts_per_cpu_second_median": round(statistics.median(cpu_rates), 1),
        "runs": [round(r, 1) for r in rates],
        "mean_characters": round(chars),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def _line(name: str, s: dict[str, Any]) -> str:
    return (
        f"  {name:<20} pairs {s['pairs']:>5}  mean goal acc {s['mean_goal_accuracy']:.4f}  "
        f"macro-F1 {s['macro_f1']:.4f}  P {s['precision']:.4f}  R {s['recall']:.4f}  "
        f"texts without goal {s['texts_without_goal']}"
    )


def _print(report: dict[str, Any]) -> None:
    print(f"model {report['model_id']} (loaded in {report['load_seconds']:.2f}s)")
    print(f"held-out split: {SPLIT_RULE}")
    for key, title in (
        (
            "pairs_short",
            f"balanced pairs, short excerpts ({MIN_WORDS}-{MAX_WORDS} words): HEADLINE",
        ),
        ("pairs_all", f"balanced pairs, every length from {MIN_WORDS} words"),
    ):
        print(f"\n== {title}")
        for name, systems in report[key].items():
            for system in ("tagger", "model"):
                print(_line(f"{name}/{system}", systems[system]))
    overall = report["pairs_short"]["overall"]["tagger"]["per_goal"]
    print("\n== per goal (headline pairs, tagger)")
    print("goal pairs  yes   acc     P      R      F1")
    for goal, g in overall.items():
        print(
            f"{goal:>4} {g['pairs']:>5} {g['yes']:>4}  {g['accuracy']:.3f}  {g['precision']:.3f}  "
            f"{g['recall']:.3f}  {g['f1']:.3f}"
        )
    print("\n== other languages: held-out official texts (same texts in each language)")
    for lang, s in report["languages"].items():
        print(f"{_line(lang, s)}  ratio to en {s['ratio_to_en']:.3f}  outcomes {s['outcomes']}")
    print("\n== IATI")
    for row in report["iati"]["publisher_tagged_en"]:
        print(
            f"  publisher tags {row['activity']}: publisher {row['publisher']} "
            f"tagger {row['tagger']}"
        )
    for row in report["iati"]["bilingual_fr_vs_en"]:
        print(
            f"  bilingual {row['activity']}: en {row['en']} fr {row['fr']} "
            f"({row['fr_outcome']}), fr-vs-en goal agreement F1 {row['agreement_f1']}"
        )
    speed = report["speed_one_core"]
    print(
        f"\nspeed (tag(), pinned to one core, {speed['mean_characters']} chars/text on average): "
        f"{speed['texts_per_second_median']} texts/s wall-clock, median of {speed['runs']}; "
        f"{speed['texts_per_cpu_second_median']} texts per CPU-second (what one core does when "
        f"not shared; machine load average {speed['load_average_1min']})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the SDG tagger (held-out data).")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data" / "sdg")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    tagger = SdgTagger.load()
    load_seconds = time.perf_counter() - started
    rows = load_corpus(args.data_dir, "test")
    short = pair_report(tagger, rows, MAX_WORDS)
    report: dict[str, Any] = {
        "model_id": tagger.model_id,
        "load_seconds": round(load_seconds, 3),
        "split_rule": SPLIT_RULE,
        "pairs_short": short,
        "pairs_all": pair_report(tagger, rows, None),
        "languages": language_report(tagger, args.data_dir),
        "iati": iati_report(tagger, args.data_dir.parent / "iati"),
    }
    texts = sorted({p.text for p in balanced_pairs(rows)})
    report["speed_one_core"] = throughput(tagger, texts, args.runs)
    ratio = short["overall"]["tagger"]["mean_goal_accuracy"]
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        _print(report)
    print(f"RATIO bench-sdg {ratio:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

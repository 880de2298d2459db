"""Benchmark the SDG tagger on the held-out split (``make bench-sdg``).

Usage: ``python tools/bench_sdg.py [--data-dir ../shared/data/sdg] [--runs 5] [--json]``

For each dataset and overall, prints per-SDG precision / recall / F1, macro-F1 and pair
accuracy (for each text and each of the 17 SDGs, whether the yes/no decision is right,
averaged over all pairs) for:

- ``tagger`` — the product: ``SdgTagger.tag()`` decisions (model + IP knowledge rules);
- ``model`` — the statistical model alone (probability >= its goal's threshold);
- ``all-no`` — the trivial baseline answering "no" to every pair, to show how much of
  pair accuracy comes from negatives alone.

Then the throughput of ``tag()`` pinned to one CPU core: the median of ``--runs`` passes
over the held-out texts. The held-out split is never seen in training (``corpus.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from services.sdg_tagger.corpus import DATASETS, SPLIT_RULE, LabelledText, load_corpus
from services.sdg_tagger.tagger import SdgTagger

REPO = Path(__file__).resolve().parents[1]
Bools = npt.NDArray[np.bool_]


def _matrix(goal_sets: list[frozenset[int]] | list[tuple[int, ...]]) -> Bools:
    out = np.zeros((len(goal_sets), 17), dtype=bool)
    for row, goals in enumerate(goal_sets):
        for goal in goals:
            out[row, goal - 1] = True
    return out


def metrics(truth: Bools, predicted: Bools) -> dict[str, Any]:
    tp = (truth & predicted).sum(axis=0).astype(float)
    fp = (~truth & predicted).sum(axis=0).astype(float)
    fn = (truth & ~predicted).sum(axis=0).astype(float)
    precision = np.divide(tp, tp + fp, out=np.zeros(17), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros(17), where=(tp + fn) > 0)
    f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(17), where=(2 * tp + fp + fn) > 0)
    present = truth.sum(axis=0) > 0  # macro-F1 over the SDGs the split actually contains
    return {
        "texts": int(truth.shape[0]),
        "macro_f1": float(f1[present].mean()),
        "pair_accuracy": float((truth == predicted).mean()),
        "micro_f1": float(2 * tp.sum() / max(1.0, 2 * tp.sum() + fp.sum() + fn.sum())),
        "per_sdg": {
            str(g + 1): {
                "support": int(truth[:, g].sum()),
                "precision": round(float(precision[g]), 3),
                "recall": round(float(recall[g]), 3),
                "f1": round(float(f1[g]), 3),
            }
            for g in range(17)
        },
    }


def evaluate(tagger: SdgTagger, rows: list[LabelledText]) -> dict[str, Any]:
    truth = _matrix([r.goals for r in rows])
    results = [tagger.tag(r.text) for r in rows]
    product = _matrix([r.assigned_goals for r in results])
    model = _matrix(
        [tuple(g.goal for g in r.goals if "model.threshold" in g.evidence.rules) for r in results]
    )
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    return {
        "outcomes": outcomes,
        "tagger": metrics(truth, product),
        "model": metrics(truth, model),
        "all-no": metrics(truth, np.zeros_like(truth)),
    }


def throughput(tagger: SdgTagger, texts: list[str], runs: int) -> dict[str, Any]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        for text in texts:
            tagger.tag(text)
        rates.append(len(texts) / (time.perf_counter() - started))
    chars = sum(len(t) for t in texts) / len(texts)
    return {
        "texts_per_second_median": round(statistics.median(rates), 1),
        "runs": [round(r, 1) for r in rates],
        "mean_characters": round(chars),
    }


def _print(name: str, report: dict[str, Any]) -> None:
    print(f"\n== {name}: {report['tagger']['texts']} held-out texts, outcomes {report['outcomes']}")
    print("SDG  support | tagger P    R    F1  | model P    R    F1")
    for goal in map(str, range(1, 18)):
        t, m = report["tagger"]["per_sdg"][goal], report["model"]["per_sdg"][goal]
        print(
            f"{goal:>3} {t['support']:>8} |      {t['precision']:.2f} {t['recall']:.2f} "
            f"{t['f1']:.2f} |      {m['precision']:.2f} {m['recall']:.2f} {m['f1']:.2f}"
        )
    for system in ("tagger", "model", "all-no"):
        s = report[system]
        print(
            f"{system:>7}: macro-F1 {s['macro_f1']:.3f}  micro-F1 {s['micro_f1']:.3f}  "
            f"pair accuracy {s['pair_accuracy']:.4f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the SDG tagger (held-out split).")
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data" / "sdg")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    tagger = SdgTagger.load()
    rows = load_corpus(args.data_dir, "test")
    report: dict[str, Any] = {"model_id": tagger.model_id, "split_rule": SPLIT_RULE}
    for dataset in DATASETS:
        report[dataset] = evaluate(tagger, [r for r in rows if r.dataset == dataset])
    report["overall"] = evaluate(tagger, rows)
    report["speed_one_core"] = throughput(tagger, [r.text for r in rows], args.runs)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"model {report['model_id']}; held-out split: {SPLIT_RULE}")
    for name in (*DATASETS, "overall"):
        _print(name, report[name])
    speed = report["speed_one_core"]
    print(
        f"\nspeed (tag(), one core, {speed['mean_characters']} chars/text on average): "
        f"{speed['texts_per_second_median']} texts/s median of {speed['runs']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

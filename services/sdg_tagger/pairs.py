"""Balanced yes/no text-goal pairs from the held-out split, scored as SDG benchmarks are.

Independent SDG benchmarks judge *pairs*: one short text, one goal, "does the text
directly address this goal?", about half of the answers yes, every goal represented.
Scoring every text against all 17 goals instead (the pair accuracy of a multi-label split)
is dominated by "no" answers and hides recall. This module builds pairs of the benchmark's
shape from the held-out TEST split of :mod:`.corpus` (never seen in training):

- texts of the benchmark's kind only, short excerpts: ``MIN_WORDS`` to ``MAX_WORDS``
  words (2-5 sentences), so title-only rows (most of ``core_aurora_survey``) and full
  research abstracts (most of ``core_oro_gold``) are left out; the bench also reports
  every length from ``MIN_WORDS`` up;
- per goal, every held-out text labelled with it is a "yes" pair (at most ``MAX_YES``),
  and as many texts *not* labelled with it are "no" pairs, drawn in a fixed pseudo-random
  order (sha256 of goal and text), stratified by dataset in proportion to the "yes" pairs;
- the result is deterministic: the same data gives the same pairs.

Scores (:func:`score_pairs`): accuracy and F1 per goal over that goal's pairs, their
means over the 17 goals (``mean_goal_accuracy``, ``macro_f1``), and pooled precision and
recall over all pairs.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from services.sdg_tagger.corpus import LabelledText

__all__ = ["MAX_WORDS", "MAX_YES", "MIN_WORDS", "Pair", "balanced_pairs", "score_pairs"]

MIN_WORDS = 20
MAX_WORDS = 120
MAX_YES = 150


@dataclass(frozen=True, slots=True)
class Pair:
    text: str
    goal: int
    truth: bool
    dataset: str


def _order(goal: int, text: str) -> str:
    return hashlib.sha256(f"{goal}\x00{text}".encode()).hexdigest()


def balanced_pairs(
    rows: Iterable[LabelledText],
    *,
    min_words: int = MIN_WORDS,
    max_words: int | None = MAX_WORDS,
    max_yes: int = MAX_YES,
) -> list[Pair]:
    """Balanced pairs for goals 1-17 from ``rows`` (pass the TEST split only)."""

    def fits(row: LabelledText) -> bool:
        words = len(row.text.split())
        return words >= min_words and (max_words is None or words <= max_words)

    texts = sorted({r.text: r for r in rows if fits(r)}.values(), key=lambda r: r.text)
    pairs: list[Pair] = []
    for goal in range(1, 18):
        yes = sorted((r for r in texts if goal in r.goals), key=lambda r: _order(goal, r.text))
        yes = yes[:max_yes]
        quota = Counter(r.dataset for r in yes)
        no_pool = sorted(
            (r for r in texts if goal not in r.goals), key=lambda r: _order(goal, r.text)
        )
        chosen: list[LabelledText] = []
        for dataset, count in sorted(quota.items()):
            chosen.extend([r for r in no_pool if r.dataset == dataset][:count])
        if len(chosen) < len(yes):  # a dataset short of negatives: top up from the rest
            taken = {r.text for r in chosen}
            chosen.extend([r for r in no_pool if r.text not in taken][: len(yes) - len(chosen)])
        pairs.extend(Pair(r.text, goal, True, r.dataset) for r in yes)
        pairs.extend(Pair(r.text, goal, False, r.dataset) for r in chosen)
    return pairs


def score_pairs(pairs: Sequence[Pair], predict: Callable[[str], Iterable[int]]) -> dict[str, Any]:
    """Benchmark scores of ``predict`` (text -> assigned goals) on ``pairs``."""
    cache: dict[str, frozenset[int]] = {}
    tp = Counter[int]()
    fp = Counter[int]()
    fn = Counter[int]()
    tn = Counter[int]()
    for pair in pairs:
        goals = cache.get(pair.text)
        if goals is None:
            goals = cache[pair.text] = frozenset(predict(pair.text))
        said = pair.goal in goals
        box = (tp if pair.truth else fp) if said else (fn if pair.truth else tn)
        box[pair.goal] += 1
    per_goal: dict[str, dict[str, float | int]] = {}
    accuracies: list[float] = []
    f1s: list[float] = []
    for goal in sorted({p.goal for p in pairs}):
        n = tp[goal] + fp[goal] + fn[goal] + tn[goal]
        accuracy = (tp[goal] + tn[goal]) / n
        f1 = 2 * tp[goal] / max(1, 2 * tp[goal] + fp[goal] + fn[goal])
        accuracies.append(accuracy)
        f1s.append(f1)
        per_goal[str(goal)] = {
            "pairs": n,
            "yes": tp[goal] + fn[goal],
            "accuracy": round(accuracy, 4),
            "precision": round(tp[goal] / max(1, tp[goal] + fp[goal]), 4),
            "recall": round(tp[goal] / max(1, tp[goal] + fn[goal]), 4),
            "f1": round(f1, 4),
        }
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return {
        "pairs": len(pairs),
        "texts": len(cache),
        "yes_share": round(sum(p.truth for p in pairs) / max(1, len(pairs)), 4),
        "mean_goal_accuracy": round(sum(accuracies) / max(1, len(accuracies)), 4),
        "macro_f1": round(sum(f1s) / max(1, len(f1s)), 4),
        "precision": round(all_tp / max(1, all_tp + all_fp), 4),
        "recall": round(all_tp / max(1, all_tp + all_fn), 4),
        "texts_without_goal": sum(1 for g in cache.values() if not g),
        "per_goal": per_goal,
    }

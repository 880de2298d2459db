"""The labelled SDG corpora used to train and to benchmark the tagger, and the fixed split.

Used by ``tools/train_sdg.py`` and ``tools/bench_sdg.py`` only; the running service never
reads these files. Every reader takes the data directory as an argument.

Split rule (fixed, recorded in the artifact): a text belongs to the held-out TEST split
when ``int(sha256(normalised text)[:8], 16) % 100 < 20``, where the normalised text is the
lower-cased text with runs of whitespace collapsed to one space. The rule depends on the
text only, so a text that appears twice (in one dataset or in two) is always on one side.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "DATASETS",
    "SPLIT_RULE",
    "LabelledText",
    "is_test",
    "load_corpus",
]

DATASETS = ("qu_original", "core_oro_gold", "core_aurora_survey")
SPLIT_RULE = "test if int(sha256(lower(collapse_ws(text)))[:8], 16) % 100 < 20"
_TEST_PERCENT = 20
_WS = re.compile(r"\s+")

Split = Literal["train", "test"]


@dataclass(frozen=True, slots=True)
class LabelledText:
    dataset: str
    text: str
    goals: frozenset[int]

    @property
    def split(self) -> Split:
        return "test" if is_test(self.text) else "train"


def _normalise(text: str) -> str:
    return _WS.sub(" ", text).strip().lower()


def is_test(text: str) -> bool:
    """Whether ``text`` is in the held-out test split (see the module docstring)."""
    digest = hashlib.sha256(_normalise(text).encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 100 < _TEST_PERCENT


def _read_qu(path: Path) -> Iterator[LabelledText]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            if len(row) >= 2 and row[0].strip().isdigit() and row[1].strip():
                yield LabelledText("qu_original", row[1].strip(), frozenset({int(row[0])}))


def _read_core(path: Path, dataset: str) -> Iterator[LabelledText]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for row in reader:
            if len(row) != 4:
                continue
            text = f"{row[1].strip()}. {row[2].strip()}".strip(". ")
            labels = ast.literal_eval(row[3])
            goals = frozenset(int(str(label).removeprefix("SDG")) for label in labels)
            if text and goals:
                yield LabelledText(dataset, text, goals)


def load_corpus(data_dir: Path, split: Split | None = None) -> list[LabelledText]:
    """All labelled texts of the three corpora under ``data_dir`` (optionally one split).

    Rows without text or labels are skipped; labels outside 1-17 raise ``ValueError``.
    """
    rows = [
        *_read_qu(data_dir / "qu_original_data.csv"),
        *_read_core(data_dir / "core_oro_gold_multilabel.tsv", "core_oro_gold"),
        *_read_core(data_dir / "core_aurora_survey_multilabel.tsv", "core_aurora_survey"),
    ]
    for row in rows:
        if not all(1 <= g <= 17 for g in row.goals):
            msg = f"{row.dataset}: label outside 1-17 in {sorted(row.goals)}"
            raise ValueError(msg)
    if split is None:
        return rows
    return [row for row in rows if row.split == split]

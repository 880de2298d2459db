"""Build the SDG tagger artifact from the labelled SDG corpora (deterministic, ~30 s).

Usage: ``python tools/train_sdg.py [--data-dir ../shared/data/sdg] [--out services/sdg_tagger]``

Reads ``sdg_targets.json`` and the three labelled corpora (train split only, see
``services/sdg_tagger/corpus.py`` for the fixed split rule) and writes:

- ``model/catalogue.json`` — official goal/target/indicator texts for run time;
- ``model/sdg_linear.json.gz`` — TF-IDF vocabulary + one logistic regression per goal,
  with per-goal thresholds tuned on 5-fold out-of-fold predictions of the train split.

scikit-learn (no type stubs) is used only here, through the small typed wrappers below.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from services.sdg_tagger.artifact import CATALOGUE_FILE, MODEL_FILE, LinearArtifact
from services.sdg_tagger.corpus import DATASETS, SPLIT_RULE, load_corpus
from services.sdg_tagger.features import analyze

SEED = 20240917
C = 8.0
MIN_DF = 2
FOLDS = 5
THRESHOLD_RANGE = (0.2, 0.55)  # <= 0.55 so that a "strong" knowledge weight always assigns
MODEL_NAME = "sdg-tfidf-logreg"
REPO = Path(__file__).resolve().parents[1]

Matrix = Any  # a scipy.sparse CSR matrix (scipy ships no type information)


def _sk(module: str) -> Any:
    return importlib.import_module(module)


def build_catalogue(targets_json: Path) -> dict[str, Any]:
    source = json.loads(targets_json.read_text(encoding="utf-8"))
    return {
        "source": "UN A/RES/70/1 targets and A/RES/71/313 indicators, via "
        "shared/data/sdg/sdg_targets.json (see its 'sources')",
        "goals": [
            {
                "goal": g["goal"],
                "short_title": g["short_title"],
                "title": g["title"],
                "targets": [
                    {
                        "id": t["id"],
                        "text": t["text"],
                        "indicators": [i["text"] for i in t["indicators"]],
                    }
                    for t in g["targets"]
                ],
            }
            for g in source["goals"]
        ],
    }


def training_texts(data_dir: Path, catalogue: dict[str, Any]) -> tuple[list[str], list[set[int]]]:
    texts: list[str] = []
    labels: list[set[int]] = []
    for row in load_corpus(data_dir, "train"):
        texts.append(row.text)
        labels.append(set(row.goals))
    # The official texts teach the vocabulary of every goal, including rare ones.
    for goal in catalogue["goals"]:
        texts.append(f"{goal['short_title']}. {goal['title']}")
        labels.append({goal["goal"]})
        for target in goal["targets"]:
            texts.append(target["text"])
            labels.append({goal["goal"]})
            texts.extend(target["indicators"])
            labels.extend({goal["goal"]} for _ in target["indicators"])
    return texts, labels


def fit_goal_models(x: Matrix, y: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.float32], ...]:
    """One balanced L2 logistic regression per goal; returns (weights (V, 17), bias (17,))."""
    linear_model = _sk("sklearn.linear_model")
    weights = np.zeros((x.shape[1], 17), dtype=np.float32)
    bias = np.zeros(17, dtype=np.float32)
    for k in range(17):
        model = linear_model.LogisticRegression(
            C=C, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=SEED
        )
        model.fit(x, y[:, k])
        weights[:, k] = np.asarray(model.coef_[0], dtype=np.float32)
        bias[k] = float(model.intercept_[0])
    return weights, bias


def tune_thresholds(x: Matrix, y: npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]:
    """Per-goal threshold maximising F1 on out-of-fold probabilities, clamped."""
    folds = _sk("sklearn.model_selection").KFold(FOLDS, shuffle=True, random_state=SEED)
    oof = np.zeros(y.shape, dtype=np.float64)
    for train_rows, test_rows in folds.split(np.zeros(y.shape[0])):
        weights, bias = fit_goal_models(x[train_rows], y[train_rows])
        oof[test_rows] = 1.0 / (1.0 + np.exp(-(x[test_rows] @ weights + bias)))
    grid = np.round(np.arange(THRESHOLD_RANGE[0], THRESHOLD_RANGE[1] + 1e-9, 0.01), 2)
    thresholds = np.zeros(17, dtype=np.float32)
    for k in range(17):
        truth = y[:, k]
        best, best_f1 = grid[0], -1.0
        for threshold in grid:
            predicted = oof[:, k] >= threshold
            tp = float(np.sum(predicted & truth))
            f1 = 2 * tp / max(1.0, float(predicted.sum() + truth.sum()))
            if f1 > best_f1:
                best, best_f1 = threshold, f1
        thresholds[k] = best
    return thresholds


def train(data_dir: Path, out_dir: Path) -> LinearArtifact:
    started = time.perf_counter()
    catalogue = build_catalogue(data_dir / "sdg_targets.json")
    texts, labels = training_texts(data_dir, catalogue)
    y = np.zeros((len(texts), 17), dtype=bool)
    for row, goals in enumerate(labels):
        for goal in goals:
            y[row, goal - 1] = True
    vectorizer = _sk("sklearn.feature_extraction.text").TfidfVectorizer(
        analyzer=analyze, min_df=MIN_DF, sublinear_tf=True, norm="l2", dtype=np.float32
    )
    x = vectorizer.fit_transform(texts)
    vocabulary = tuple(str(t) for t in vectorizer.get_feature_names_out())
    thresholds = tune_thresholds(x, y)
    weights, bias = fit_goal_models(x, y)
    corpus = load_corpus(data_dir)
    artifact = LinearArtifact(
        name=MODEL_NAME,
        vocabulary=vocabulary,
        idf=np.asarray(vectorizer.idf_, dtype=np.float32),
        weights=weights,
        bias=bias,
        thresholds=thresholds,
        training={
            "seed": SEED,
            "algorithm": "TF-IDF (uni+bigrams, sublinear, l2) + per-goal logistic "
            f"regression (liblinear, C={C}, balanced), thresholds by {FOLDS}-fold OOF F1",
            "min_df": MIN_DF,
            "split_rule": SPLIT_RULE,
            "train_rows": {
                d: sum(r.dataset == d and r.split == "train" for r in corpus) for d in DATASETS
            },
            "held_out_rows": {
                d: sum(r.dataset == d and r.split == "test" for r in corpus) for d in DATASETS
            },
            "official_text_rows": len(texts) - sum(r.split == "train" for r in corpus),
            "sources_sha256": {
                p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
                for p in sorted(data_dir.iterdir())
                if p.suffix in {".csv", ".tsv", ".json"}
            },
        },
    )
    (out_dir / MODEL_FILE[0]).mkdir(parents=True, exist_ok=True)
    (out_dir.joinpath(*MODEL_FILE)).write_bytes(artifact.to_bytes())
    (out_dir.joinpath(*CATALOGUE_FILE)).write_text(
        json.dumps(catalogue, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    rounded = [round(float(t), 2) for t in thresholds]
    print(
        f"trained {MODEL_NAME}: {len(texts)} texts, {len(vocabulary)} terms, "
        f"thresholds {rounded} in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    return artifact


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data" / "sdg")
    parser.add_argument("--out", type=Path, default=REPO / "services" / "sdg_tagger")
    args = parser.parse_args(argv)
    train(args.data_dir, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Build the SDG tagger artifact from the labelled SDG corpora (deterministic, ~1 min).

Usage: ``python tools/train_sdg.py [--data-dir ../shared/data/sdg] [--out services/sdg_tagger]``

Reads ``sdg_targets.json``, the three labelled corpora (train split only, see
``services/sdg_tagger/corpus.py`` for the fixed split rule), the Aurora queries
(``aurora-queries/``) and the official texts in the six UN languages (``translations/``),
and writes:

- ``model/catalogue.json`` — official goal/target/indicator texts for run time;
- ``model/sdg_linear.json.gz`` — TF-IDF vocabulary + 17 Aurora query features + one
  logistic regression per goal, per-goal thresholds tuned on 5-fold out-of-fold
  predictions of the train split (maximising balanced accuracy, the benchmarks' score);
  the query lines; the word tables for fr/es/ar/ru/zh (IBM model 1 over the official
  parallel texts plus French/Spanish cognates, see ``services/sdg_tagger/parallel.py``).

Official texts whose English version falls in the TEST split are left out of training
(model and word tables), so their translations are a held-out test for other languages.

scikit-learn (no type stubs) is used only here, through the small typed wrappers below.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from defusedxml import ElementTree

from services.sdg_tagger.artifact import CATALOGUE_FILE, MODEL_FILE, LinearArtifact
from services.sdg_tagger.corpus import DATASETS, SPLIT_RULE, is_test, load_corpus
from services.sdg_tagger.features import analyze
from services.sdg_tagger.parallel import is_held_out, learn_tables, load_official
from services.sdg_tagger.queries import QuerySet, query_features

SEED = 20240917
C = 1.0
MIN_DF = 2
FOLDS = 5
THRESHOLD_RANGE = (0.1, 0.55)  # <= 0.55 so that a "strong" knowledge weight always assigns
MODEL_NAME = "sdg-tfidf-logreg"
RELATIVE_GRID = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
AURORA_NS = "{http://aurora-network.global/queries/namespace/}"
DC_NS = "{http://dublincore.org/documents/dcmi-namespace/}"
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


def aurora_queries(query_dir: Path) -> dict[str, Any]:
    """The ``TITLE-ABS-KEY`` query lines of every goal file, with their target ids."""
    lines: list[dict[str, Any]] = []
    for goal in range(1, 18):
        root = ElementTree.fromstring((query_dir / f"query_SDG{goal}.xml").read_bytes())
        for definition in root.iter(f"{AURORA_NS}query-definition"):
            uris = [
                (e.text or "").strip()
                for e in definition.findall(f"{DC_NS}identifier")
                if e.get("type") == "uri"
            ]
            target = uris[0].rsplit("/", 1)[-1] if uris else ""
            if not re.fullmatch(rf"{goal}\.(?:[1-9]\d?|[a-d])", target):
                target = ""  # a query for the goal as a whole (e.g. "13.0")
            for line in definition.iter(f"{AURORA_NS}query-line"):
                text = re.sub(r"\s+", " ", line.text or "").strip()
                if line.get("field") == "TITLE-ABS-KEY" and text:
                    lines.append({"goal": goal, "target": target, "query": text})
    return {
        "source": "Aurora Universities Network, SDG queries v5.0 "
        "(Aurora-Network-Global/sdg-queries @ 9acd03d0, doi:10.5281/zenodo.3817445)",
        "licence": "CC BY 4.0",
        "queries": lines,
    }


def _held_out_keys(data_dir: Path) -> set[str]:
    return {t.key for t in load_official(data_dir / "translations") if is_held_out(t)}


def training_texts(data_dir: Path, catalogue: dict[str, Any]) -> tuple[list[str], list[set[int]]]:
    texts: list[str] = []
    labels: list[set[int]] = []
    for row in load_corpus(data_dir, "train"):
        texts.append(row.text)
        labels.append(set(row.goals))
    # The official texts teach the vocabulary of every goal, including rare ones; those
    # held out (English text in the TEST split) are the other languages' test texts.
    held_out = _held_out_keys(data_dir)

    def add(key: str, text: str, goal: int) -> None:
        if key not in held_out and not is_test(text):
            texts.append(text)
            labels.append({goal})

    del catalogue  # the source file also has the indicator codes
    source = json.loads((data_dir / "sdg_targets.json").read_text(encoding="utf-8"))
    for goal in source["goals"]:
        g = int(goal["goal"])
        if f"{g}-title" not in held_out and f"{g}-short" not in held_out:
            add(f"{g}-title", f"{goal['short_title']}. {goal['title']}", g)
        for target in goal["targets"]:
            add(str(target["id"]).replace(".", "-") + "-title", target["text"], g)
            for indicator in target["indicators"]:
                add(str(indicator["code"]).replace(".", "-") + "-title", indicator["text"], g)
    return texts, labels


def fit_goal_models(x: Matrix, y: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.float32], ...]:
    """One balanced L2 logistic regression per goal; returns (weights (F, 17), bias (17,))."""
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


def tune_thresholds(x: Matrix, y: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.float32], float]:
    """Per-goal threshold maximising balanced accuracy on out-of-fold probabilities.

    Balanced accuracy (mean of recall on "yes" and on "no") is what a benchmark of
    balanced yes/no text-goal pairs measures; clamped to ``THRESHOLD_RANGE``.
    """
    folds = _sk("sklearn.model_selection").KFold(FOLDS, shuffle=True, random_state=SEED)
    oof = np.zeros(y.shape, dtype=np.float64)
    for train_rows, test_rows in folds.split(np.zeros(y.shape[0])):
        weights, bias = fit_goal_models(x[train_rows], y[train_rows])
        oof[test_rows] = 1.0 / (1.0 + np.exp(-(x[test_rows] @ weights + bias)))
    grid = np.round(np.arange(THRESHOLD_RANGE[0], THRESHOLD_RANGE[1] + 1e-9, 0.01), 2)
    thresholds = np.zeros(17, dtype=np.float32)
    for k in range(17):
        truth = y[:, k]
        best, best_score = grid[0], -1.0
        for threshold in grid:
            predicted = oof[:, k] >= threshold
            recall_yes = float(np.sum(predicted & truth)) / max(1.0, float(truth.sum()))
            recall_no = float(np.sum(~predicted & ~truth)) / max(1.0, float((~truth).sum()))
            score = (recall_yes + recall_no) / 2
            if score > best_score:
                best, best_score = threshold, score
        thresholds[k] = best
    return thresholds, tune_relative(oof, y, thresholds)


def _balanced_accuracy(predicted: npt.NDArray[np.bool_], y: npt.NDArray[np.bool_]) -> float:
    yes = (predicted & y).sum(axis=0) / np.maximum(1, y.sum(axis=0))
    no = (~predicted & ~y).sum(axis=0) / np.maximum(1, (~y).sum(axis=0))
    return float(((yes + no) / 2).mean())


def tune_relative(
    oof: npt.NDArray[np.float64], y: npt.NDArray[np.bool_], thresholds: npt.NDArray[np.float32]
) -> float:
    """The ratio to the text's best goal (see ``decision.py``) maximising mean balanced accuracy."""
    best_ratio, best_score = 0.0, -1.0
    top = oof.max(axis=1, keepdims=True)
    for ratio in RELATIVE_GRID:
        predicted = (oof >= thresholds) & (oof >= ratio * top)
        score = _balanced_accuracy(predicted, y)
        if score > best_score + 1e-6:
            best_ratio, best_score = ratio, score
    return best_ratio


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
    words = vectorizer.fit_transform(texts)
    vocabulary = tuple(str(t) for t in vectorizer.get_feature_names_out())
    queries = aurora_queries(data_dir / "aurora-queries")
    query_set = QuerySet.from_json(queries)
    query_x = np.asarray([query_features(query_set.match(t)) for t in texts], dtype=np.float32)
    sparse = _sk("scipy.sparse")
    x = sparse.hstack([words, sparse.csr_matrix(query_x)]).tocsr()
    thresholds, relative = tune_thresholds(x, y)
    all_weights, bias = fit_goal_models(x, y)
    weights, query_weights = all_weights[: len(vocabulary)], all_weights[len(vocabulary) :]
    official = load_official(data_dir / "translations")
    lexicon = learn_tables(official, [t for t in vocabulary if " " not in t])
    corpus = load_corpus(data_dir)
    artifact = LinearArtifact(
        name=MODEL_NAME,
        vocabulary=vocabulary,
        idf=np.asarray(vectorizer.idf_, dtype=np.float32),
        weights=weights,
        bias=bias,
        thresholds=thresholds,
        query_weights=query_weights,
        queries=queries,
        lexicon=lexicon,
        relative_ratio=relative,
        training={
            "seed": SEED,
            "algorithm": "TF-IDF (uni+bigrams, sublinear, l2) + 17 Aurora query features + "
            f"per-goal logistic regression (liblinear, C={C}, balanced), thresholds by "
            f"{FOLDS}-fold OOF balanced accuracy; word tables by IBM model 1 + cognates",
            "lexicon_entries": {lang: len(table) for lang, table in lexicon.items()},
            "held_out_official_keys": len(_held_out_keys(data_dir)),
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
                for p in sorted(
                    [*data_dir.iterdir(), *data_dir.glob("*/*"), *data_dir.glob("*/*/*")]
                )
                if p.suffix in {".csv", ".tsv", ".json", ".xml", ".yml"}
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
        f"thresholds {rounded}, relative {relative} in {time.perf_counter() - started:.1f}s",
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

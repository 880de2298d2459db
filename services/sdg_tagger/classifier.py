"""The statistical half of the tagger: one logistic regression per SDG.

Features: TF-IDF of the text's words and bigrams, plus 17 Aurora query features (how many
of each goal's expert Boolean query lines are true for the text, see :mod:`.queries`).
Weights are trained by ``tools/train_sdg.py`` (scikit-learn) and applied here with numpy
alone. Each goal has its own decision threshold, tuned on out-of-fold predictions of the
training split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.sdg_tagger.features import SparseVector, TfidfSpace
from services.sdg_tagger.queries import QueryHit, QuerySet, query_features

__all__ = ["LinearClassifier", "ModelScores"]

_GOALS = 17


@dataclass(frozen=True, slots=True)
class ModelScores:
    """Per-goal probabilities (index 0 is goal 1) and the text's features behind them."""

    probabilities: npt.NDArray[np.float64]
    vector: SparseVector
    contributions: npt.NDArray[np.float32]  # (n features of the text, 17 goals)
    query_hits: tuple[QueryHit, ...] = ()


class LinearClassifier:
    """Sigmoid(x · W + q · Q + b) per goal, with tuned thresholds; ``W`` is (vocabulary, 17)."""

    def __init__(
        self,
        space: TfidfSpace,
        weights: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        thresholds: npt.NDArray[np.float32],
        *,
        queries: QuerySet | None = None,
        query_weights: npt.NDArray[np.float32] | None = None,
    ) -> None:
        if weights.shape != (space.size, _GOALS) or bias.shape != (_GOALS,):
            msg = f"weights {weights.shape} / bias {bias.shape} do not fit {space.size} terms"
            raise ValueError(msg)
        if thresholds.shape != (_GOALS,):
            msg = f"expected 17 thresholds, got shape {thresholds.shape}"
            raise ValueError(msg)
        if query_weights is None:
            query_weights = np.zeros((_GOALS, _GOALS), dtype=np.float32)
        if query_weights.shape != (_GOALS, _GOALS):
            msg = f"expected (17, 17) query weights, got shape {query_weights.shape}"
            raise ValueError(msg)
        self.space = space
        self.queries = queries or QuerySet(())
        self._weights = weights.astype(np.float32, copy=False)
        self._query_weights = query_weights.astype(np.float64, copy=False)
        self._bias = bias.astype(np.float32, copy=False)
        self.thresholds = thresholds.astype(np.float32, copy=False)
        self._terms: Sequence[str] = space.terms

    def score(self, text: str) -> ModelScores:
        """Probabilities for the 17 goals; a text with no known words scores the priors."""
        vector = self.space.vectorize(text)
        hits = tuple(self.queries.match(text))
        contributions = vector.values[:, None] * self._weights[vector.indices]
        logits = contributions.sum(axis=0, dtype=np.float64) + self._bias
        if hits:
            logits += np.asarray(query_features(hits)) @ self._query_weights
        probabilities = 1.0 / (1.0 + np.exp(-logits))
        return ModelScores(probabilities, vector, contributions, hits)

    def top_terms(self, scores: ModelScores, goal: int, limit: int = 5) -> list[str]:
        """The words of the text that pushed ``goal`` up the most, strongest first."""
        return self.all_top_terms(scores, limit)[goal - 1]

    def all_top_terms(self, scores: ModelScores, limit: int = 5) -> list[list[str]]:
        """:meth:`top_terms` of the 17 goals (index 0 is goal 1), with one sort."""
        contributions = scores.contributions
        if contributions.shape[0] == 0:
            return [[] for _ in range(_GOALS)]
        order = np.argsort(-contributions, axis=0, kind="stable")[:limit]
        indices = scores.vector.indices
        terms = self._terms
        return [
            [terms[int(indices[i])] for i in order[:, k] if contributions[i, k] > 0.0]
            for k in range(_GOALS)
        ]

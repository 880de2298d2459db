"""The statistical half of the tagger: one logistic regression per SDG over TF-IDF.

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

__all__ = ["LinearClassifier", "ModelScores"]

_GOALS = 17


@dataclass(frozen=True, slots=True)
class ModelScores:
    """Per-goal probabilities (index 0 is goal 1) and the text's features behind them."""

    probabilities: npt.NDArray[np.float64]
    vector: SparseVector
    contributions: npt.NDArray[np.float32]  # (n features of the text, 17 goals)


class LinearClassifier:
    """Sigmoid(x · W + b) per goal, with tuned thresholds; ``W`` is (vocabulary, 17)."""

    def __init__(
        self,
        space: TfidfSpace,
        weights: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        thresholds: npt.NDArray[np.float32],
    ) -> None:
        if weights.shape != (space.size, _GOALS) or bias.shape != (_GOALS,):
            msg = f"weights {weights.shape} / bias {bias.shape} do not fit {space.size} terms"
            raise ValueError(msg)
        if thresholds.shape != (_GOALS,):
            msg = f"expected 17 thresholds, got shape {thresholds.shape}"
            raise ValueError(msg)
        self.space = space
        self._weights = weights.astype(np.float32, copy=False)
        self._bias = bias.astype(np.float32, copy=False)
        self.thresholds = thresholds.astype(np.float32, copy=False)
        self._terms: Sequence[str] = space.terms

    def score(self, text: str) -> ModelScores:
        """Probabilities for the 17 goals; a text with no known words scores the priors."""
        vector = self.space.vectorize(text)
        contributions = vector.values[:, None] * self._weights[vector.indices]
        logits = contributions.sum(axis=0, dtype=np.float64) + self._bias
        probabilities = 1.0 / (1.0 + np.exp(-logits))
        return ModelScores(probabilities, vector, contributions)

    def top_terms(self, scores: ModelScores, goal: int, limit: int = 5) -> list[str]:
        """The words of the text that pushed ``goal`` up the most, strongest first."""
        column = scores.contributions[:, goal - 1]
        if column.size == 0:
            return []
        order = np.argsort(-column, kind="stable")[:limit]
        return [self._terms[int(scores.vector.indices[i])] for i in order if column[i] > 0.0]

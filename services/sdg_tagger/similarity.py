"""Cosine similarity between a text and the official SDG target texts.

Each target is represented by its official text plus its indicators, vectorised in the
classifier's TF-IDF space; the matrix is built once at load time and restricted to the
terms that occur in some target, so a lookup costs one small dense product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from services.sdg_tagger.catalogue import Catalogue, Target
from services.sdg_tagger.features import SparseVector, TfidfSpace

__all__ = ["TargetMatch", "TargetSimilarity"]


@dataclass(frozen=True, slots=True)
class TargetMatch:
    target: Target
    similarity: float
    shared_terms: tuple[str, ...]


class TargetSimilarity:
    """Nearest official targets of a vectorised text, overall or within one goal."""

    def __init__(self, catalogue: Catalogue, space: TfidfSpace) -> None:
        self._targets = catalogue.targets
        vectors = [space.vectorize(" ".join((t.text, *t.indicators))) for t in catalogue.targets]
        columns = np.unique(np.concatenate([v.indices for v in vectors]))
        self._column_of = np.full(space.size, -1, dtype=np.int64)
        self._column_of[columns] = np.arange(columns.size)
        self._matrix = np.zeros((len(vectors), columns.size), dtype=np.float32)
        for row, vector in enumerate(vectors):
            self._matrix[row, self._column_of[vector.indices]] = vector.values
        self._terms: Sequence[str] = space.terms
        self._ids = tuple(t.id for t in self._targets)
        self._row_of_id = {t.id: i for i, t in enumerate(self._targets)}
        self._rows_of_goal = {
            g.goal: np.array([i for i, t in enumerate(self._targets) if t.goal == g.goal])
            for g in catalogue.goals
        }

    def similarities(self, vector: SparseVector) -> npt.NDArray[np.float32]:
        """Cosine similarity to every target, in catalogue order (zeros if no overlap)."""
        columns = self._column_of[vector.indices]
        known = columns >= 0
        if not known.any():
            return np.zeros(len(self._targets), dtype=np.float32)
        product: npt.NDArray[np.float32] = self._matrix[:, columns[known]] @ vector.values[known]
        return product

    def contributions(
        self, vector: SparseVector
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """The text's terms that occur in some target, and their products with every target.

        Returns (term indices (n,), products (targets, n)); a target's cosine similarity is
        the sum of its row.
        """
        columns = self._column_of[vector.indices]
        known = columns >= 0
        products = self._matrix[:, columns[known]] * vector.values[known]
        return vector.indices[known], products

    def match(
        self, vector: SparseVector, similarities: npt.NDArray[np.float32], row: int
    ) -> TargetMatch:
        """The target at ``row`` with its similarity and the words it shares with the text."""
        terms, products = self.contributions(vector)
        return self.match_products(terms, products, similarities, row)

    def match_products(
        self,
        terms: npt.NDArray[np.int64],
        products: npt.NDArray[np.float32],
        similarities: npt.NDArray[np.float32],
        row: int,
    ) -> TargetMatch:
        """:meth:`match` from :meth:`contributions` computed once for the text."""
        weights = products[row]
        order = np.argsort(-weights, kind="stable")[:5]
        shared = tuple(self._terms[int(terms[i])] for i in order if weights[i] > 0.0)
        return TargetMatch(self._targets[row], float(similarities[row]), shared)

    @property
    def targets(self) -> tuple[Target, ...]:
        return self._targets

    @property
    def ids(self) -> tuple[str, ...]:
        return self._ids

    def closest_row(self, similarities: npt.NDArray[np.float32], goal: int) -> tuple[str, int]:
        """Id and row of the most similar target of ``goal`` (its first when none overlap)."""
        rows = self._rows_of_goal[goal]
        best = int(rows[int(np.argmax(similarities[rows]))])
        return self._targets[best].id, best

    def closest_in_goal(
        self, vector: SparseVector, similarities: npt.NDArray[np.float32], goal: int
    ) -> TargetMatch:
        """The most similar target of ``goal`` with the words it shares with the text."""
        return self.match(vector, similarities, self.closest_row(similarities, goal)[1])

    def row_of(self, target_id: str) -> int:
        """Catalogue row of a target id; raises ``KeyError`` for an unknown id."""
        return self._row_of_id[target_id]

"""Text to sparse TF-IDF vectors, identical at training and at run time.

The training script fits the vocabulary and the inverse document frequencies with
scikit-learn, but always through :func:`analyze` below, and ships only the resulting
vocabulary and IDF weights; :class:`TfidfSpace` then reproduces scikit-learn's
``TfidfVectorizer(sublinear_tf=True, norm="l2")`` with numpy alone.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["STOPWORDS", "SparseVector", "TfidfSpace", "analyze", "tokenize"]

_WORD = re.compile(r"[^\W\d_]{2,}")

# Function words carry no topic; dropping them keeps the bigram space small.
_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each few
for from further had has have having he her here hers herself him himself his how
however i if in into is it its itself just me more most my myself no nor not now of off
on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too
under until up very was we were what when where which while who whom why will with
within would you your yours yourself yourselves may might must shall us via thus among
per upon whether et al
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokenize(text: str) -> list[str]:
    """Lower-cased alphabetic words of two letters or more, stopwords removed."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def analyze(text: str) -> list[str]:
    """Unigrams and adjacent-word bigrams (joined by a space) of :func:`tokenize`."""
    words = tokenize(text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@dataclass(frozen=True, slots=True)
class SparseVector:
    """Feature indices (ascending, unique) with their weights; empty when nothing is known."""

    indices: npt.NDArray[np.int64]
    values: npt.NDArray[np.float32]

    @property
    def is_empty(self) -> bool:
        return self.indices.size == 0


class TfidfSpace:
    """A fitted vocabulary with IDF weights: sublinear TF, times IDF, L2-normalised."""

    def __init__(self, vocabulary: Mapping[str, int], idf: npt.NDArray[np.float32]) -> None:
        if len(vocabulary) != idf.shape[0]:
            msg = f"vocabulary has {len(vocabulary)} terms but idf has {idf.shape[0]} weights"
            raise ValueError(msg)
        self._vocabulary = dict(vocabulary)
        self._idf = idf.astype(np.float32, copy=False)

    @property
    def size(self) -> int:
        return len(self._vocabulary)

    @property
    def terms(self) -> Sequence[str]:
        """Terms ordered by feature index."""
        ordered = [""] * len(self._vocabulary)
        for term, index in self._vocabulary.items():
            ordered[index] = term
        return ordered

    def vectorize(self, text: str) -> SparseVector:
        """The L2-normalised TF-IDF vector of ``text``; never raises on any string."""
        counts = Counter(t for t in analyze(text) if t in self._vocabulary)
        if not counts:
            return SparseVector(np.empty(0, np.int64), np.empty(0, np.float32))
        pairs = sorted((self._vocabulary[t], c) for t, c in counts.items())
        indices = np.fromiter((i for i, _ in pairs), np.int64, len(pairs))
        tf = np.fromiter((1.0 + math.log(c) for _, c in pairs), np.float32, len(pairs))
        values = tf * self._idf[indices]
        norm = float(np.linalg.norm(values))
        if norm > 0.0:
            values /= norm
        return SparseVector(indices, values.astype(np.float32, copy=False))

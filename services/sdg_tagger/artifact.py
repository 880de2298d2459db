"""The trained artifact on disk: its format, its files, and the model id derived from them.

Files (all package data, read with :mod:`importlib.resources`):

- ``model/sdg_linear.json.gz`` — vocabulary, IDF (float32), weights (float16), biases,
  thresholds, the weights of the Aurora query features (float32) and the query lines
  themselves (CC BY 4.0, Aurora Universities Network), the per-language word tables that
  let the English model read the other UN languages, and training metadata; gzip with
  ``mtime=0`` so a rebuild is byte-identical.
- ``model/catalogue.json`` — the official goal and target texts (see :mod:`.catalogue`).
- ``knowledge/ip_sdg_map.yaml`` — the IP knowledge map (see :mod:`.knowledge`).

The model id is ``f"{name}-{sha256(all three files)[:12]}"``: any change to the weights,
the official texts or the knowledge rules yields a new id, which every result repeats.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from services.sdg_tagger.errors import ArtifactInvalid

__all__ = [
    "CATALOGUE_FILE",
    "KNOWLEDGE_FILE",
    "MODEL_FILE",
    "ArtifactFiles",
    "LinearArtifact",
    "read_package_files",
]

FORMAT = 2
MODEL_FILE = ("model", "sdg_linear.json.gz")
CATALOGUE_FILE = ("model", "catalogue.json")
KNOWLEDGE_FILE = ("knowledge", "ip_sdg_map.yaml")
_PACKAGE = "services.sdg_tagger"


@dataclass(frozen=True, slots=True)
class LinearArtifact:
    """Everything the classifier needs, plus how it was made."""

    name: str
    vocabulary: tuple[str, ...]
    idf: npt.NDArray[np.float32]
    weights: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]
    thresholds: npt.NDArray[np.float32]
    training: dict[str, Any]
    query_weights: npt.NDArray[np.float32]  # (17 query features, 17 goals)
    queries: dict[str, Any]  # {"source": ..., "licence": ..., "queries": [...]}
    lexicon: dict[str, dict[str, list[str]]]  # language -> source key -> English words
    relative_ratio: float  # a model-only goal also needs p >= ratio * the text's best p

    def to_bytes(self) -> bytes:
        """Deterministic gzip-compressed JSON."""
        document = {
            "format": FORMAT,
            "name": self.name,
            "training": self.training,
            "vocabulary": list(self.vocabulary),
            "idf_float32_le": _b64(self.idf.astype("<f4")),
            "weights_float16_le": _b64(self.weights.astype("<f2")),
            "bias": [round(float(b), 6) for b in self.bias],
            "thresholds": [round(float(t), 4) for t in self.thresholds],
            "query_weights_float32_le": _b64(self.query_weights.astype("<f4")),
            "queries": self.queries,
            "lexicon": self.lexicon,
            "relative_ratio": round(float(self.relative_ratio), 4),
        }
        raw = json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return gzip.compress(raw, compresslevel=9, mtime=0)

    @classmethod
    def from_bytes(cls, data: bytes) -> LinearArtifact:
        """Decode :meth:`to_bytes` output; raises :class:`ArtifactInvalid` if malformed."""
        try:
            document = json.loads(gzip.decompress(data))
            if document["format"] != FORMAT:
                msg = f"artifact format {document['format']!r}, this code reads {FORMAT}"
                raise ArtifactInvalid(msg)
            vocabulary = tuple(str(t) for t in document["vocabulary"])
            idf = _unb64(document["idf_float32_le"], "<f4")
            weights = _unb64(document["weights_float16_le"], "<f2").reshape(len(vocabulary), 17)
            return cls(
                name=str(document["name"]),
                vocabulary=vocabulary,
                idf=idf.astype(np.float32),
                weights=weights.astype(np.float32),
                bias=np.asarray(document["bias"], dtype=np.float32),
                thresholds=np.asarray(document["thresholds"], dtype=np.float32),
                training=dict(document["training"]),
                query_weights=_unb64(document["query_weights_float32_le"], "<f4")
                .reshape(17, 17)
                .astype(np.float32),
                queries=dict(document["queries"]),
                relative_ratio=float(document["relative_ratio"]),
                lexicon={
                    str(lang): {str(k): [str(w) for w in v] for k, v in table.items()}
                    for lang, table in document["lexicon"].items()
                },
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            msg = f"model artifact is malformed: {exc!r}"
            raise ArtifactInvalid(msg) from exc


@dataclass(frozen=True, slots=True)
class ArtifactFiles:
    model: bytes
    catalogue: bytes
    knowledge: bytes

    @property
    def digest(self) -> str:
        sha = hashlib.sha256()
        for part in (self.model, self.catalogue, self.knowledge):
            sha.update(hashlib.sha256(part).digest())
        return sha.hexdigest()


def read_package_files() -> ArtifactFiles:
    """Read the three artifact files from the installed package.

    Raises :class:`ArtifactInvalid` when one is missing (run ``tools/train_sdg.py``).
    """
    root = resources.files(_PACKAGE)
    try:
        return ArtifactFiles(
            model=root.joinpath(*MODEL_FILE).read_bytes(),
            catalogue=root.joinpath(*CATALOGUE_FILE).read_bytes(),
            knowledge=root.joinpath(*KNOWLEDGE_FILE).read_bytes(),
        )
    except OSError as exc:
        msg = f"SDG tagger artifact missing ({exc}); build it with tools/train_sdg.py"
        raise ArtifactInvalid(msg) from exc


def _b64(array: npt.NDArray[Any]) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")


def _unb64(text: str, dtype: str) -> npt.NDArray[Any]:
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype))

"""The packaged artifact, its model id, the features and the fixed split."""

from __future__ import annotations

import re

import numpy as np
import pytest

from services.sdg_tagger import ArtifactInvalid, SdgTagger
from services.sdg_tagger.artifact import LinearArtifact, read_package_files
from services.sdg_tagger.corpus import SPLIT_RULE, is_test
from services.sdg_tagger.features import TfidfSpace, analyze, tokenize


def test_model_id_is_name_plus_content_hash(tagger: SdgTagger) -> None:
    files = read_package_files()

    assert re.fullmatch(r"sdg-tfidf-logreg-[0-9a-f]{12}", tagger.model_id)
    assert tagger.model_id.endswith(files.digest[:12])


def test_artifact_is_small_and_records_its_split_rule(tagger: SdgTagger) -> None:
    files = read_package_files()

    assert len(files.model) + len(files.catalogue) + len(files.knowledge) < 3_000_000
    assert tagger.training["split_rule"] == SPLIT_RULE
    assert tagger.training["held_out_rows"] == {
        "qu_original": 489,
        "core_oro_gold": 111,
        "core_aurora_survey": 1161,
    }


def test_artifact_bytes_round_trip_exactly() -> None:
    data = read_package_files().model

    assert LinearArtifact.from_bytes(data).to_bytes() == data


def test_a_changed_knowledge_file_changes_the_model_id(tagger: SdgTagger) -> None:
    files = read_package_files()
    edited = type(files)(files.model, files.catalogue, files.knowledge + b"\n# reviewed\n")

    assert SdgTagger(edited).model_id != tagger.model_id


def test_corrupt_artifact_fails_loudly() -> None:
    files = read_package_files()

    with pytest.raises(ArtifactInvalid, match="model artifact is malformed"):
        SdgTagger(type(files)(b"not gzip", files.catalogue, files.knowledge))


def test_features_are_unigrams_and_bigrams_without_stopwords() -> None:
    assert tokenize("The WIPO GREEN database, 2024!") == ["wipo", "green", "database"]
    assert analyze("green technology transfer") == [
        "green",
        "technology",
        "transfer",
        "green technology",
        "technology transfer",
    ]


def test_tfidf_vectors_are_unit_length_and_ignore_unknown_words() -> None:
    space = TfidfSpace({"patent": 0, "office": 1}, np.array([1.0, 2.0], dtype=np.float32))

    vector = space.vectorize("Patent office patent zebra")

    assert vector.indices.tolist() == [0, 1]
    assert float(np.linalg.norm(vector.values)) == pytest.approx(1.0)
    assert space.vectorize("zebra").is_empty


def test_split_rule_is_fixed_and_about_one_fifth() -> None:
    texts = [f"activity number {i}" for i in range(2000)]

    held_out = sum(is_test(t) for t in texts)

    assert 340 <= held_out <= 460
    assert is_test("Activity  Number 7") == is_test("activity number 7")

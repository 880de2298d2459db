"""The SDG tagger's public entry point: load the packaged artifact, tag a text.

Pure and synchronous: no I/O after :meth:`SdgTagger.load`, no network, no global state;
one instance is safe to share between threads (it is never mutated after loading).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from services.sdg_tagger.artifact import ArtifactFiles, LinearArtifact, read_package_files
from services.sdg_tagger.catalogue import Catalogue, goal_of_target
from services.sdg_tagger.classifier import LinearClassifier, ModelScores
from services.sdg_tagger.crosslingual import Lexicon, Translation
from services.sdg_tagger.decision import decide_goals, select_targets
from services.sdg_tagger.errors import ArtifactInvalid
from services.sdg_tagger.evidence import EvidenceBuilder
from services.sdg_tagger.features import TfidfSpace
from services.sdg_tagger.knowledge import KnowledgeMap, RuleHit
from services.sdg_tagger.language import detect_language
from services.sdg_tagger.queries import QuerySet
from services.sdg_tagger.result import GoalTag, Outcome, TagResult, TargetTag
from services.sdg_tagger.similarity import TargetSimilarity
from services.sdg_tagger.text_limits import MAX_CHARACTERS, has_words, truncate

__all__ = ["SdgTagger"]

_ENGLISH_SHARE_FOR_MODEL = 0.3
_QUERY_TARGET_SUPPORT = 0.8
_LANGUAGE_NAMES = {
    "fr": "French",
    "es": "Spanish",
    "ar": "Arabic",
    "ru": "Russian",
    "zh": "Chinese",
}


class SdgTagger:
    """Tags texts with SDG goals and targets, with a score and evidence for each."""

    def __init__(self, files: ArtifactFiles, *, max_characters: int = MAX_CHARACTERS) -> None:
        """Build from artifact bytes; raises :class:`ArtifactInvalid` if they are unusable."""
        artifact = LinearArtifact.from_bytes(files.model)
        try:
            catalogue = Catalogue.from_json(json.loads(files.catalogue))
            knowledge_source = files.knowledge.decode("utf-8")
        except ValueError as exc:
            msg = f"catalogue or knowledge file unreadable: {exc}"
            raise ArtifactInvalid(msg) from exc
        space = TfidfSpace({t: i for i, t in enumerate(artifact.vocabulary)}, artifact.idf)
        try:
            queries = QuerySet.from_json(artifact.queries)
            self.lexicon = Lexicon(artifact.lexicon)
        except (ValueError, KeyError, TypeError) as exc:
            msg = f"model artifact is malformed: queries or word tables unusable: {exc!r}"
            raise ArtifactInvalid(msg) from exc
        self.model_id = f"{artifact.name}-{files.digest[:12]}"
        self.training = artifact.training
        self.catalogue = catalogue
        self.knowledge = KnowledgeMap.from_yaml(knowledge_source, catalogue)
        self.max_characters = max_characters
        self.relative_ratio = artifact.relative_ratio
        self.queries = queries
        self._classifier = LinearClassifier(
            space,
            artifact.weights,
            artifact.bias,
            artifact.thresholds,
            queries=queries,
            query_weights=artifact.query_weights,
        )
        self._evidence = EvidenceBuilder(catalogue, TargetSimilarity(catalogue, space))

    @property
    def goal_thresholds(self) -> dict[int, float]:
        """The decision threshold of each goal (goal -> threshold on the combined score)."""
        return {g: round(float(t), 4) for g, t in enumerate(self._classifier.thresholds, 1)}

    @classmethod
    def load(cls, *, max_characters: int = MAX_CHARACTERS) -> SdgTagger:
        """Load the artifact shipped in the package (``model/``, ``knowledge/``)."""
        return cls(read_package_files(), max_characters=max_characters)

    def tag(
        self,
        text: str,
        *,
        curated_goals: Iterable[int] = (),
        curated_targets: Iterable[str] = (),
    ) -> TagResult:
        """Tag ``text``; curated goals/targets, when given, are the answer (``curated``).

        Never raises because of the text (see :mod:`.result` for the outcomes). Raises
        :class:`~services.sdg_tagger.errors.InvalidTagRequest` for a curated goal outside
        1-17 or a curated target id that does not exist.
        """
        goals_curated = sorted({self.catalogue.goal(int(g)).goal for g in curated_goals})
        targets_curated = sorted(
            {self.catalogue.target(t).id for t in curated_targets},
            key=lambda t: (goal_of_target(t), t),
        )
        used, notes = truncate(text, self.max_characters)
        outcome: Outcome
        scores: ModelScores | None = None
        translation: Translation | None = None
        if not has_words(used):
            outcome, language = "empty", "und"
            notes.append("no words in the text: only curated tags are returned")
        else:
            guess = detect_language(used)
            language = guess.code
            if guess.code == "en" or guess.english_share >= _ENGLISH_SHARE_FOR_MODEL:
                outcome = "tagged"
            elif guess.code == "und" and guess.script == "latin":
                outcome = "tagged"
                notes.append("language undetermined (too few function words): read as English")
            elif guess.code in self.lexicon.languages:
                translation = self.lexicon.translate(used, guess.code)
                name = _LANGUAGE_NAMES[guess.code]
                if translation.english:
                    outcome = "tagged"
                    notes.append(
                        f"{name} text read by the model through its {guess.code}->en word "
                        f"table ({translation.known_share:.0%} of the words known)"
                    )
                elif guess.code in ("fr", "es"):
                    outcome = "knowledge_only"
                    notes.append(
                        f"no word of this {name} text is in the model's word table: only "
                        "the IP knowledge terms were applied"
                    )
                else:
                    outcome = "unsupported_language"
                    notes.append(
                        f"no word of this {name} text is in the model's word table: only "
                        "curated tags are returned"
                    )
            else:
                outcome = "unsupported_language"
                notes.append(
                    f"language {guess.code!r} (script {guess.script}) is not supported by "
                    "the model or the knowledge terms: only curated tags are returned"
                )
        if outcome in ("empty", "unsupported_language"):
            goals, targets = self._evidence.curated_only(goals_curated, targets_curated)
        else:
            if outcome == "tagged":
                model_text = used if translation is None else translation.english
                scores = self._classifier.score(model_text)
            goals, targets = self._computed(
                used, scores, goals_curated, targets_curated, translation
            )
        return TagResult(
            model_id=self.model_id,
            outcome=outcome,
            language=language,
            truncated=len(used) < len(text),
            characters=len(text),
            characters_used=len(used),
            notes=tuple(notes),
            goals=goals,
            targets=targets,
        )

    def _computed(
        self,
        text: str,
        scores: ModelScores | None,
        curated_goals: Sequence[int],
        curated_targets: Sequence[str],
        translation: Translation | None = None,
    ) -> tuple[tuple[GoalTag, ...], tuple[TargetTag, ...]]:
        hits = self.knowledge.match(text)
        probabilities = None if scores is None else scores.probabilities
        verdicts = decide_goals(
            probabilities, self._classifier.thresholds, hits, self.relative_ratio
        )
        query_hits = () if scores is None else scores.query_hits
        for verdict in verdicts:
            for query in query_hits:
                if query.goal == verdict.goal:
                    verdict.rules.append(f"aurora.{query.target or query.goal}")
                    verdict.knowledge_terms.extend(
                        self._source_words(q, translation) for q in query.matched
                    )
        # A target whose Aurora query fired is proposed under its goal, as a rule's is.
        target_hits = [
            RuleHit(
                q.target, q.matched, {q.goal: _QUERY_TARGET_SUPPORT}, (q.target,), source="aurora"
            )
            for q in query_hits
            if q.target and self.catalogue.has_target(q.target)
        ]
        vector = self._classifier.space.vectorize(text) if scores is None else scores.vector
        view = self._evidence.view(vector)
        candidates = select_targets(
            {v.goal: v.score for v in verdicts if v.assigned},
            [*hits, *target_hits],
            view.similarity_of,
            view.nearest_of_goal,
        )

        top = [] if scores is None else self._classifier.all_top_terms(scores)

        def model_terms(goal: int) -> list[str]:
            if scores is None:
                return []
            return [self._source_words(t, translation) for t in top[goal - 1]]

        return self._evidence.build(
            verdicts,
            candidates,
            view,
            model_terms=model_terms,
            curated_goals=curated_goals,
            curated_targets=curated_targets,
        )

    @staticmethod
    def _source_words(term: str, translation: Translation | None) -> str:
        """``poverty`` as ``pauvreté→poverty`` when the text was read through a word table."""
        if translation is None:
            return term
        source = " ".join(dict.fromkeys(translation.source_of.get(w, w) for w in term.split()))
        return term if source == term else f"{source}→{term}"

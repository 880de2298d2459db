"""Ingesting one partner input: per-record verdicts as a stream, and a report at the end.

Usage::

    run = ingest(body, source_format=SourceFormat.IATI_XML, partner_id="xm-dac-41114")
    for outcome in run:            # RecordOutcome, accepted or quarantined
        ...
    run.report                     # counts, top findings, the fatal error if any

Iterating never raises :class:`InputFault`: a fatal fault ends the stream and is recorded
in ``run.report.fatal``; outcomes already yielded stay valid.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date

from pydantic import BaseModel, ConfigDict

from services.partner_feed.formats.errors import InputFault, Location
from services.partner_feed.formats.iati_ingest import read_iati
from services.partner_feed.formats.record import SourceFormat
from services.partner_feed.formats.regional import RegionalMapping, read_regional
from services.partner_feed.formats.safety import ByteSource, Limits
from services.partner_feed.formats.tfm_reader import read_tfm_csv, read_tfm_json
from services.partner_feed.validation.verdict import (
    DEFAULT_POLICY,
    Candidate,
    QuarantinePolicy,
    RecordOutcome,
    judge,
)


class FatalError(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    location: Location


class IngestReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    source_format: SourceFormat
    records: int
    accepted: int
    quarantined: int
    finding_counts: dict[str, int]
    """Finding code → occurrences, most frequent first."""
    fatal: FatalError | None


class IngestRun:
    """Single-use iterable of :class:`RecordOutcome`; ``report`` is final once exhausted."""

    def __init__(
        self,
        source_format: SourceFormat,
        candidates: Iterator[Candidate],
        today: date,
        policy: QuarantinePolicy = DEFAULT_POLICY,
    ):
        self.source_format = source_format
        self._candidates = candidates
        self._today = today
        self._policy = policy
        self._accepted = self._quarantined = 0
        self._codes: Counter[str] = Counter()
        self._fatal: FatalError | None = None

    def __iter__(self) -> Iterator[RecordOutcome]:
        try:
            for candidate in self._candidates:
                outcome = judge(candidate, today=self._today, policy=self._policy)
                if outcome.accepted:
                    self._accepted += 1
                else:
                    self._quarantined += 1
                self._codes.update(f.code for f in outcome.findings)
                yield outcome
        except InputFault as exc:
            self._fatal = FatalError(code=exc.code, message=exc.message, location=exc.location)

    @property
    def report(self) -> IngestReport:
        return IngestReport(
            source_format=self.source_format,
            records=self._accepted + self._quarantined,
            accepted=self._accepted,
            quarantined=self._quarantined,
            finding_counts=dict(self._codes.most_common()),
            fatal=self._fatal,
        )


def ingest(
    source: ByteSource,
    *,
    source_format: SourceFormat,
    partner_id: str,
    today: date,
    limits: Limits | None = None,
    regional_mapping: RegionalMapping | None = None,
    policy: QuarantinePolicy | None = None,
) -> IngestRun:
    """Start ingesting ``source``; nothing is read until the run is iterated.

    ``regional_mapping`` is required for the regional formats (``ValueError`` otherwise).
    ``policy`` says which findings quarantine a record (default: critical ones only).
    """
    limits = limits or Limits()
    readers: dict[SourceFormat, Callable[[], Iterator[Candidate]]] = {
        SourceFormat.IATI_XML: lambda: read_iati(
            source, partner_id=partner_id, limits=limits, today=today
        ),
        SourceFormat.TFM_JSON: lambda: read_tfm_json(source, partner_id=partner_id, limits=limits),
        SourceFormat.TFM_CSV: lambda: read_tfm_csv(source, partner_id=partner_id, limits=limits),
    }
    if source_format in (SourceFormat.REGIONAL_CSV, SourceFormat.REGIONAL_JSON):
        if regional_mapping is None:
            raise ValueError("a regional format needs its partner's RegionalMapping")
        mapping = regional_mapping
        readers[source_format] = lambda: read_regional(
            source, source_format=source_format, mapping=mapping, limits=limits
        )
    return IngestRun(source_format, readers[source_format](), today, policy or DEFAULT_POLICY)

"""Partner sources: who may upload, what they send, and where we pull from.

Configured as a JSON list (``FEED_PARTNERS``, inline or a file path). API keys are held as
SHA-256 digests only; a presented key is hashed and compared in constant time.
"""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from services.partner_feed.formats import ColumnMapping, RegionalMapping, SourceFormat
from services.partner_feed.validation.verdict import QuarantinePolicy
from shared import key_digest

FormatName = Literal["iati", "tfm-json", "tfm-csv", "regional-csv", "regional-json"]

FORMATS: dict[str, SourceFormat] = {
    "iati": SourceFormat.IATI_XML,
    "tfm-json": SourceFormat.TFM_JSON,
    "tfm-csv": SourceFormat.TFM_CSV,
    "regional-csv": SourceFormat.REGIONAL_CSV,
    "regional-json": SourceFormat.REGIONAL_JSON,
}
REGIONAL = frozenset({SourceFormat.REGIONAL_CSV, SourceFormat.REGIONAL_JSON})


class RegionalColumns(BaseModel):
    """A regional mapping as configured (the partner id is the source's own)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    community: str = Field(min_length=1)
    columns: tuple[ColumnMapping, ...] = Field(min_length=1)
    records_key: str | None = None


class PartnerSource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
    name: str = ""
    format: FormatName = "iati"
    url: str | None = Field(default=None, pattern=r"^https?://")
    interval_seconds: float = Field(default=3600.0, gt=0)
    api_key_sha256: tuple[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")], ...] = ()
    mapping: RegionalColumns | None = None
    quarantine: QuarantinePolicy = QuarantinePolicy()
    """Which findings quarantine a record of this partner; by default only critical ones
    (no usable identifier, unreadable), as the IATI Datastore. ``{"block": "error"}``
    tightens it to every rule, schema and codelist error."""

    def source_format(self) -> SourceFormat:
        return FORMATS[self.format]

    def regional_mapping(self) -> RegionalMapping | None:
        if self.mapping is None:
            return None
        return RegionalMapping(
            partner_id=self.id,
            community=self.mapping.community,
            columns=self.mapping.columns,
            records_key=self.mapping.records_key,
        )

    def accepts_key(self, presented: str) -> bool:
        digest = hash_key(presented)
        # Compare against every digest so the time taken does not reveal which one matched.
        matches = [hmac.compare_digest(digest, known) for known in self.api_key_sha256]
        return any(matches)


hash_key = key_digest


_SOURCES = TypeAdapter(tuple[PartnerSource, ...])


def parse_partners(value: Any) -> tuple[PartnerSource, ...]:
    """Partner sources from a JSON list, a JSON string, or a path to a JSON file.

    Raises:
        ValueError: unreadable file, malformed JSON, duplicate ids, or an invalid source.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return ()
        if not text.startswith("["):
            text = Path(text).read_text(encoding="utf-8")
        value = json.loads(text)
    sources = _SOURCES.validate_python(value)
    ids = [s.id for s in sources]
    if len(set(ids)) != len(ids):
        raise ValueError(f"partner ids must be unique: {ids}")
    for source in sources:
        if source.source_format() in REGIONAL and source.mapping is None:
            raise ValueError(f"partner {source.id!r} uses {source.format} but has no mapping")
    return sources


class PartnerDirectory:
    """The configured partners, by id."""

    def __init__(self, sources: tuple[PartnerSource, ...]) -> None:
        self._by_id = {s.id: s for s in sources}

    def get(self, partner_id: str) -> PartnerSource | None:
        return self._by_id.get(partner_id)

    def all(self) -> list[PartnerSource]:
        return list(self._by_id.values())

    def pulled(self) -> list[PartnerSource]:
        return [s for s in self._by_id.values() if s.url]

"""The TFM online-platform record, version 1: :class:`TfmRecord`.

No public schema exists for exports of the IATT / TFM online platform, so this one is ours,
drawn from the TFM mandate (A/RES/70/1 para. 70: STI initiatives, mechanisms and
programmes of UN entities and partners) and the UN INFO / IATI activity fields. The JSON
Schema is published as ``contracts/tfm/tfm-record.v1.schema.json`` and the CSV layout as
``contracts/tfm/tfm-record.v1.csv-columns.md``; within v1 changes are additive only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field

UN_LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
ShortText = Annotated[str, Field(min_length=1, max_length=500)]
LongText = Annotated[str, Field(min_length=1, max_length=20_000)]

RecordType = Literal[
    "initiative", "programme", "project", "capacity-building", "partnership",
    "platform", "database", "publication", "event",
]  # fmt: skip
Status = Literal["pipeline", "ongoing", "finalisation", "completed", "cancelled", "suspended"]
Modality = Literal["bilateral", "multilateral", "regional", "national", "global"]
PartnerRole = Literal["funding", "accountable", "extending", "implementing"]
"""IATI OrganisationRole names (codes 1-4)."""

STATUS_CODES: dict[str, str] = {
    "pipeline": "1",
    "ongoing": "2",
    "finalisation": "3",
    "completed": "4",
    "cancelled": "5",
    "suspended": "6",
}
ROLE_CODES: dict[str, str] = {
    "funding": "1",
    "accountable": "2",
    "extending": "3",
    "implementing": "4",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TfmPartner(_Frozen):
    name: ShortText
    role: PartnerRole
    iati_ref: Annotated[str, Field(max_length=100)] | None = None
    """IATI organisation identifier, when the partner has one (e.g. ``XM-DAC-41114``)."""


class TfmLink(_Frozen):
    url: AnyUrl
    title: ShortText | None = None


class TfmRecord(_Frozen):
    """One record of a TFM online-platform export (``tfm-record`` v1)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"$id": "tfm-record.v1.schema.json"}
    )

    record_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]
    record_type: RecordType
    un_entity: Annotated[str, Field(min_length=1, max_length=100)]
    """Short name of the UN entity that owns the record (``WIPO``, ``UNCTAD``, ...)."""
    partners: tuple[TfmPartner, ...] = ()
    titles: Annotated[dict[LanguageCode, ShortText], Field(min_length=1)]
    summaries: dict[LanguageCode, LongText] = {}
    modality: Modality | None = None
    sdg_goals: tuple[Annotated[int, Field(ge=1, le=17)], ...] = ()
    sdg_targets: tuple[Annotated[str, Field(pattern=r"^([1-9]|1[0-7])\.([0-9]+|[a-z])$")], ...] = ()
    countries: tuple[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], ...] = ()
    """ISO 3166-1 alpha-2."""
    regional_groupings: tuple[Annotated[str, Field(min_length=1, max_length=50)], ...] = ()
    """Regional communities and groupings by acronym (``EAC``, ``ASEAN``, ``LDC``)."""
    status: Status
    start_date: date | None = None
    end_date: date | None = None
    gender_marker: Annotated[int, Field(ge=0, le=2)] | None = None
    """OECD DAC gender-equality marker: 0 not targeted, 1 significant, 2 principal."""
    da_recommendations: tuple[Annotated[int, Field(ge=1, le=45)], ...] = ()
    links: tuple[TfmLink, ...] = ()
    last_modified: datetime

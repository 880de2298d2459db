"""Mapping one IATI ``iati-activity`` element (2.0x, or 1.0x via the legacy rules) to a
:class:`PartnerRecord`, with the location of each field and any conversion findings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.partner_feed.formats import iati_legacy as legacy
from services.partner_feed.formats import vocabularies as voc
from services.partner_feed.formats.errors import Location
from services.partner_feed.formats.iati_element import ElementReader
from services.partner_feed.formats.record import (
    GoalSource,
    GoalVia,
    PartnerRecord,
    SourceFormat,
    Text,
    goal_of,
)
from services.partner_feed.validation.findings import Finding, Severity

_DATE_FIELDS = {"1": "planned_start", "2": "actual_start", "3": "planned_end", "4": "actual_end"}


def map_activity(
    activity: Any, *, partner_id: str, reader: ElementReader
) -> tuple[PartnerRecord, dict[str, Location], list[Finding]]:
    """Map one activity element read by ``reader``. Never raises on content: faults become
    findings."""
    m = reader
    a = activity
    fields: dict[str, Any] = {}
    ident_el = m.child("iati-identifier")
    ident = (ident_el.text or "").strip() if ident_el is not None else ""
    if ident_el is not None:
        m.keep("identifier", ident_el)
    reporting = m.child("reporting-org")
    if reporting is not None:
        fields["reporting_org_ref"] = m.attr(reporting, "ref")
    title = m.child("title")
    if title is not None:
        m.keep("titles", title)
    fields["titles"] = m.text(title)
    descriptions: Text = {}
    for desc in m.children("description"):
        m.keep("descriptions", desc)
        if desc.get("type", "1").strip() == "1":
            for lang, value in m.text(desc).items():
                descriptions.setdefault(lang, value)
    fields["descriptions"] = descriptions
    status = m.child("activity-status")
    if status is not None:
        m.keep("status", status)
        fields["status"] = m.attr(status, "code")
    for date_el in m.children("activity-date"):
        kind = m.attr(date_el, "type")
        field = _DATE_FIELDS.get((legacy.date_type_code(kind) if m.legacy else kind) or "")
        if field and field not in fields:
            fields[field] = m.iso_date(date_el)
            m.keep(field, date_el)
    fields["identifiers"] = _identifiers(m, ident or None)
    fields["participating_orgs"] = _participants(m)
    _geography(m, fields)
    _sectors_and_tags(m, fields)
    _gender(m, fields)
    updated = m.attr(a, "last-updated-datetime")
    if updated:
        try:
            fields["last_updated"] = datetime.fromisoformat(updated)
        except ValueError:
            m.fault("format.datetime", f"last-updated-datetime={updated!r}", a, Severity.WARNING)
    # Nested values are plain dicts and lists, validated once here (one pass in
    # pydantic-core rather than a model per sector, country, participant, ...).
    record = PartnerRecord.model_validate(
        {
            "partner_id": partner_id,
            "record_id": ident or m.path,
            "source_format": SourceFormat.IATI_XML,
            **fields,
        }
    )
    return record, m.locations, m.findings


def _geography(m: ElementReader, fields: dict[str, Any]) -> None:
    countries: list[dict[str, Any]] = []
    regions: list[dict[str, Any]] = []
    for el in m.children("recipient-country"):
        m.indexed("recipient_countries", el)
        code = (m.attr(el, "code") or "").upper()
        countries.append({"code": code, "percentage": m.decimal(el)})
    for el in m.children("recipient-region"):
        m.indexed("recipient_regions", el)
        regions.append(
            {
                "code": m.attr(el, "code") or "",
                "vocabulary": m.attr(el, "vocabulary") or "1",
                "percentage": m.decimal(el),
            }
        )
    fields["recipient_countries"] = countries
    fields["recipient_regions"] = regions


def _identifiers(m: ElementReader, ident: str | None) -> dict[str, Any]:
    """The ``Identifiers`` of the activity, as the dict ``PartnerRecord`` validates."""
    other = [
        {
            "ref": m.attr(el, "ref") or "",
            "type": m.attr(el, "type"),
            "owner_ref": m.attr(owner, "ref")
            if (owner := el.find("owner-org")) is not None
            else None,
        }
        for el in m.children("other-identifier")
    ]
    related = [
        {"ref": m.attr(el, "ref") or "", "type": m.attr(el, "type")}
        for el in m.children("related-activity")
    ]
    activity_ids = tuple(
        dict.fromkeys(
            v for el in m.children("participating-org") if (v := m.attr(el, "activity-id"))
        )
    )
    return {
        "iati_identifier": ident,
        "other": other,
        "related_activities": related,
        "participating_activity_ids": activity_ids,
    }


def _participants(m: ElementReader) -> list[dict[str, Any]]:
    out = []
    for el in m.children("participating-org"):
        m.indexed("participating_orgs", el)
        role = m.attr(el, "role") or ""
        out.append(
            {
                "role": (legacy.role_code(role) or "") if m.legacy else role,
                "ref": m.attr(el, "ref"),
                "type": m.attr(el, "type"),
                "name": m.text(el),
                "activity_id": m.attr(el, "activity-id"),
            }
        )
    return out


def _sectors_and_tags(m: ElementReader, fields: dict[str, Any]) -> None:
    goals: list[str] = []
    targets: list[str] = []
    sources: list[GoalSource] = []
    sectors: list[dict[str, Any]] = []
    for el in m.children("sector"):
        m.indexed("sectors", el)
        vocab = m.attr(el, "vocabulary") or "1"
        vocab = (legacy.vocabulary_code(vocab) or "1") if m.legacy else vocab
        code = m.attr(el, "code") or ""
        sectors.append({"code": code, "vocabulary": vocab, "percentage": m.decimal(el)})
        if vocab == voc.SECTOR_SDG_GOAL:
            goals.append(code)
            sources.append(GoalSource(goal=code, via="sector-7", code=code))
        elif vocab == voc.SECTOR_SDG_TARGET:
            targets.append(code)
            _implied(sources, code, "sector-8")
        elif vocab == voc.SECTOR_SDG_INDICATOR:
            _implied(sources, code.lower(), "sector-9")
    communities: list[str] = []
    recommendations: list[int] = []
    tags: list[dict[str, Any]] = []
    for el in m.children("tag"):
        vocab = m.attr(el, "vocabulary") or ""
        code = m.attr(el, "code") or ""
        uri = m.attr(el, "vocabulary-uri")
        m.indexed("tags", el)
        if vocab == voc.TAG_SDG_GOAL:
            goals.append(code)
            sources.append(GoalSource(goal=code, via="tag-2", code=code))
        elif vocab == voc.TAG_SDG_TARGET:
            targets.append(code)
            _implied(sources, code, "tag-3")
        elif vocab == voc.REPORTING_ORG_VOCABULARY and uri == voc.REGIONAL_COMMUNITY_URI:
            communities.append(code)
        elif vocab == voc.REPORTING_ORG_VOCABULARY and uri == voc.DA_RECOMMENDATION_URI:
            if code.isdigit() and int(code) in voc.DA_RECOMMENDATIONS:
                recommendations.append(int(code))
            else:
                m.fault("format.da_recommendation", f"{code!r} is not a DA recommendation 1-45", el)
        else:
            tags.append(
                {"code": code, "vocabulary": vocab, "vocabulary_uri": uri, "text": m.text(el)}
            )
    fields.update(
        sectors=sectors,
        sdg_goals=tuple(dict.fromkeys(goals)),
        sdg_targets=tuple(dict.fromkeys(targets)),
        goal_sources=tuple(dict.fromkeys(sources)),
        regional_communities=tuple(dict.fromkeys(communities)),
        da_recommendations=tuple(dict.fromkeys(recommendations)),
        tags=tags,
    )


def _implied(sources: list[GoalSource], code: str, via: GoalVia) -> None:
    goal = goal_of(code)
    if goal is not None:
        sources.append(GoalSource(goal=goal, via=via, code=code))


def _gender(m: ElementReader, fields: dict[str, Any]) -> None:
    for el in m.children("policy-marker"):
        vocab = m.attr(el, "vocabulary") or voc.POLICY_MARKER_OECD_DAC
        vocab = (legacy.vocabulary_code(vocab) or vocab) if m.legacy else vocab
        if vocab != voc.POLICY_MARKER_OECD_DAC or m.attr(el, "code") != voc.GENDER_EQUALITY_MARKER:
            continue
        significance = m.attr(el, "significance")
        m.keep("gender_marker", el)
        if significance is not None and significance.isdigit():
            fields["gender_marker"] = int(significance)
        elif significance is not None:
            m.fault(
                "format.significance",
                f"significance={significance!r} is not a code; read as absent",
                el,
                Severity.WARNING,
            )
        # No significance at all: rule 6.14.1 (2.0x) says so; the marker is absent.
        return

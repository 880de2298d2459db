"""Rendering :class:`FeedActivity` records as IATI 2.03 activity XML, chunk by chunk.

The output validates against the 2.03 schema and passes the IATI Standard Ruleset with no
error (``tests/unit/partner_feed/test_feed_outbound_ruleset.py``). No contact-info or other
personal data is written. Regional communities and DA recommendations go out as
vocabulary-99 tags (see :mod:`vocabularies`), SDGs as tag vocabularies 2 (goals) and 3
(targets), the gender marker as OECD DAC policy-marker 1, sectors with their narrative
(vocabulary 99 needs one, rule 2.2.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from services.partner_feed.formats import vocabularies as voc
from services.partner_feed.formats.feed_activity import FeedActivity
from services.partner_feed.formats.record import Text

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_DATE_TYPES = (
    ("1", "planned_start"),
    ("2", "actual_start"),
    ("3", "planned_end"),
    ("4", "actual_end"),
)


def write_iati(activities: Iterable[FeedActivity], *, generated: datetime) -> Iterator[bytes]:
    """Yield the document in chunks: the header, one chunk per activity, the footer.

    Memory stays bounded by one activity; ``activities`` may be a lazy iterator. An empty
    input still yields a well-formed document (which the schema, needing one activity,
    rejects: publish no file rather than an empty one).
    """
    yield document_start(generated)
    for activity in activities:
        yield activity_bytes(activity)
    yield DOCUMENT_END


DOCUMENT_END = b"</iati-activities>\n"


def document_start(generated: datetime) -> bytes:
    """The XML declaration and the ``iati-activities`` start tag (for async streaming)."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<iati-activities version="2.03" generated-datetime="'
        + generated.isoformat().encode()
        + b'">\n'
    )


def activity_bytes(activity: FeedActivity) -> bytes:
    """One serialised ``iati-activity`` element and a newline."""
    chunk: bytes = etree.tostring(activity_element(activity), encoding="utf-8")
    return chunk + b"\n"


def _sub(parent: Any, tag: str, **attrs: str | None) -> Any:
    el = etree.SubElement(parent, tag)
    for name, value in attrs.items():
        if value is not None:
            el.set(name.replace("_", "-"), value)
    return el


def _narratives(el: Any, text: Text, default_lang: str) -> None:
    for lang, value in text.items():
        narrative = etree.SubElement(el, "narrative")
        if lang != default_lang:
            narrative.set(XML_LANG, lang)
        narrative.text = value


def _pct(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def activity_element(a: FeedActivity) -> Any:
    """One ``iati-activity`` element, children in the schema's order."""
    lang = a.default_language
    root = etree.Element("iati-activity")
    root.set("last-updated-datetime", a.last_updated.isoformat())
    root.set(XML_LANG, lang)
    _sub(root, "iati-identifier").text = a.identifier
    org = _sub(root, "reporting-org", ref=a.reporting_org.ref, type=a.reporting_org.type)
    _narratives(org, a.reporting_org.name, lang)
    _narratives(_sub(root, "title"), a.titles, lang)
    _narratives(_sub(root, "description", type="1"), a.descriptions, lang)
    for p in a.participating_orgs:
        el = _sub(root, "participating-org", ref=p.ref, type=p.type, role=p.role)
        if p.activity_id:
            el.set("activity-id", p.activity_id)
        _narratives(el, p.name, lang)
    _sub(root, "activity-status", code=a.status)
    for code, field in _DATE_TYPES:
        value = getattr(a, field)
        if value is not None:
            _sub(root, "activity-date", type=code, iso_date=value.isoformat())
    for country, share in a.country_shares():
        _sub(root, "recipient-country", code=country, percentage=_pct(share))
    for region in a.recipient_regions:
        _sub(
            root,
            "recipient-region",
            code=region.code,
            vocabulary="1",
            percentage=_pct(region.percentage),
        )
    for s in a.sectors:
        sector = _sub(
            root,
            "sector",
            vocabulary=s.vocabulary,
            vocabulary_uri=s.vocabulary_uri,
            code=s.code,
            percentage=_pct(s.percentage),
        )
        _narratives(sector, s.name, lang)
    for goal in a.sdg_goals:
        _sub(root, "tag", vocabulary=voc.TAG_SDG_GOAL, code=goal)
    for target in a.sdg_targets:
        _sub(root, "tag", vocabulary=voc.TAG_SDG_TARGET, code=target)
    for community in a.regional_communities:
        _sub(
            root,
            "tag",
            vocabulary=voc.REPORTING_ORG_VOCABULARY,
            vocabulary_uri=voc.REGIONAL_COMMUNITY_URI,
            code=community,
        )
    for rec in a.da_recommendations:
        _sub(
            root,
            "tag",
            vocabulary=voc.REPORTING_ORG_VOCABULARY,
            vocabulary_uri=voc.DA_RECOMMENDATION_URI,
            code=str(rec),
        )
    if a.gender_marker is not None:
        _sub(
            root,
            "policy-marker",
            vocabulary=voc.POLICY_MARKER_OECD_DAC,
            code=voc.GENDER_EQUALITY_MARKER,
            significance=str(a.gender_marker),
        )
    return root

"""The Standard Ruleset's screen (one combined XPath per activity that says which cases
cannot fail) changes no finding: screened and unscreened rulesets compared finding by
finding on every IATI file in ../shared/data and on variants built to sit on each screen's
edges (white space, reserved characters, numbers, dates, missing elements)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from services.partner_feed.formats.errors import Location
from services.partner_feed.validation.ruleset import Ruleset
from services.partner_feed.validation.ruleset_screen import STRIP_WHITESPACE

REPO = Path(__file__).resolve().parents[3]
DATA = REPO.parent / "shared" / "data" / "iati"
SHIPPED = REPO / "services" / "partner_feed" / "validation" / "rulesets" / "standard.json"
DAYS = (date(2025, 6, 30), date(2014, 1, 1), date(2011, 12, 31))
Found = list[tuple[str | None, str, Location, str]]


@pytest.fixture(scope="module")
def rulesets() -> tuple[Ruleset, Ruleset]:
    document = json.loads(SHIPPED.read_text(encoding="utf-8"))
    return Ruleset(document), Ruleset(document, screen=False)


def _activities() -> list[Any]:
    files = sorted(DATA.glob("*/*.xml"))
    return [a for f in files for a in etree.parse(str(f)).getroot().iter("iati-activity")]


def _run(ruleset: Ruleset, activity: Any, today: date) -> Found:
    found = ruleset.evaluate(
        activity,
        today=today,
        locate=lambda e: Location(line=e.sourceline, path=activity.getroottree().getpath(e)),
    )
    return [(f.rule, f.severity.value, f.location, f.message) for f in found]


def _same(rulesets: tuple[Ruleset, Ruleset], activities: list[Any], days: tuple[date, ...]) -> int:
    screened, plain = rulesets
    findings = 0
    for activity in activities:
        for today in days:
            expected = _run(plain, activity, today)
            assert _run(screened, activity, today) == expected, activity.findtext("iati-identifier")
            findings += len(expected)
    return findings


def test_the_white_space_the_screen_knows_is_what_strip_removes() -> None:
    xml_chars = [c for c in map(chr, range(0x110000)) if c.isspace()]
    unencodable = {"\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f"}
    assert set(STRIP_WHITESPACE) == set(xml_chars) - unencodable
    for c in unencodable:  # XML 1.0 cannot carry them, so no value holds them
        with pytest.raises(ValueError, match="XML compatible"):
            etree.Element("a").set("b", c)


def test_screening_changes_no_finding_on_the_publisher_files(
    rulesets: tuple[Ruleset, Ruleset],
) -> None:
    activities = _activities()
    assert len(activities) >= 17
    assert _same(rulesets, activities, DAYS) > 50
    screen = rulesets[0]._screen
    assert screen is not None
    flags = [screen.flags(a, DAYS[0]) for a in activities]
    # Not vacuous: most cases are screened out, and some are not.
    assert all(f.count("0") > f.count("1") for f in flags)
    assert all("1" in f for f in flags)


EDGE_VALUES = (
    "", " ", "x", " x", "x ", "\xa0x", "x\u3000", "a/b", "a&b", "a|b", "a?b", "a\nb",
    "0", "100", "100.0", "0100", "5.", ".5", ".", "1.2.3", "100.00000001", "99.999999999",
    "1e2", "-5", "+5", "101", "33.33", "NaN", "Infinity", "1_0",
    "2014-01-01", "2013-12-31", "2011-12-31", "2012-01-01", "2015-01-01", "2014-13-45",
    "2014-1-1", " 2014-01-01", "2014-01-01T00:00:00Z", "2014-01-01Z", "20140101", "2014-01-01garbage",
    "2014-01-0112", "2014-02-30T00:00:00", "2014-01-01T23:59:59+14:00", "2014-W01-1", "1",
    "2", "99", "98", "XM-DAC-1",
)  # fmt: skip
"""Values that sit on the screens' edges: white space at either end, the identifier
regex's reserved characters, numbers libxml2 and Decimal read differently, plain and
not-quite-plain dates around the rulesets' bounds, vocabulary codes."""


def _attribute_variants(activity: Any, names: set[str], *, first: bool) -> Iterator[Any]:
    """The activity with every ``name`` attribute (and, with ``first``, only the first) set
    to each value."""
    for name in sorted(names):
        holders = [el for el in activity.iter() if isinstance(el.tag, str) and name in el.attrib]
        counts = sorted({len(holders), 1} if first else {len(holders)}) if holders else []
        for value in EDGE_VALUES:
            for count in counts:
                variant = copy.deepcopy(activity)
                targets = [
                    el for el in variant.iter() if isinstance(el.tag, str) and name in el.attrib
                ]
                for el in targets[:count]:
                    el.set(name, value)
                yield variant


def _text_variants(activity: Any) -> Iterator[Any]:
    for tag in ("iati-identifier", "narrative"):
        for value in EDGE_VALUES:
            variant = copy.deepcopy(activity)
            for el in variant.iter(tag):
                el.text = value or None
            yield variant


def _removal_variants(activity: Any) -> Iterator[Any]:
    """The activity without each of its child element kinds in turn."""
    for tag in sorted({c.tag for c in activity if isinstance(c.tag, str)}):
        variant = copy.deepcopy(activity)
        for child in variant.findall(tag):
            variant.remove(child)
        yield variant


def _richest(count: int) -> list[Any]:
    return sorted(_activities(), key=lambda a: -sum(1 for _ in a.iter()))[:count]


def test_screening_changes_no_finding_on_edge_values(rulesets: tuple[Ruleset, Ruleset]) -> None:
    names = {
        "ref", "percentage", "vocabulary", "type", "value", "significance", "activity-id",
        "provider-activity-id", "receiver-activity-id", "default-currency", "currency",
        "measure", "{http://www.w3.org/XML/1998/namespace}lang",
    }  # fmt: skip
    dates = {"iso-date", "value-date", "last-updated-datetime"}
    [activity] = _richest(1)
    variants = list(_attribute_variants(activity, names, first=False))
    dated = list(_attribute_variants(activity, dates, first=True))
    assert len(variants) > 400 and len(dated) > 200
    assert _same(rulesets, variants, DAYS[:1]) > len(variants)
    assert _same(rulesets, dated, DAYS) > len(dated)


def test_screening_changes_no_finding_on_texts_and_missing_elements(
    rulesets: tuple[Ruleset, Ruleset],
) -> None:
    variants = [v for a in _richest(3) for v in (*_text_variants(a), *_removal_variants(a))]
    assert len(variants) > 150
    assert _same(rulesets, variants, DAYS[:1]) > len(variants)

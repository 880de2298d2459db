"""IATI validation benchmark: what reading real publisher data costs, stage by stage.

    python -m tools.bench_iati [--activities 2000] [--repeats 3]

Uses the real activities of ../shared/data/iati (examples and publishers). Prints:

- acceptance on the real files as they are (accepted / activities, quarantine reasons),
  and on the issue's classes of lost activities applied to those activities;
- per activity, the median time of each stage on the real activities: tolerant reading,
  the 2.03 schema, the IATI Standard Ruleset (as shipped, without its pre-filter, and
  without its screen: every case evaluated by libxml2 case by case);
- format-layer ingest throughput (activities/s) on a document of ``--activities`` real
  activities with fresh identifiers.

The last line is ``RATIO bench-iati <x>``: Standard Ruleset time without the pre-filter /
with it (how much the pre-filter saves; both give the same findings, see
tests/unit/partner_feed/test_feed_ruleset.py).
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from lxml import etree

from services.partner_feed.formats import SourceFormat, ingest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "iati"
TODAY = date(2025, 6, 30)
RULESET_JSON = ROOT / "services" / "partner_feed" / "validation" / "rulesets" / "standard.json"
_ACTIVITY = re.compile(r"<iati-activity[ >].*?</iati-activity>", flags=re.S)
ISSUE_CASES: dict[str, Callable[[str], str]] = {
    "upper-case SDG target (16.A)": lambda a: a.replace(
        "</title>", '</title><tag vocabulary="3" code="16.A"/>', 1
    ),
    "country 100 % + region without %": lambda a: re.sub(
        r"<recipient-country[^>]*/>",
        '<recipient-country code="KE" percentage="100"/>'
        '<recipient-region code="298" vocabulary="1"/>',
        a,
        count=1,
    ),
    'significance=""': lambda a: re.sub(r'significance="[^"]*"', 'significance=""', a),
    "identifier prefix != reporting-org (1.1.21)": lambda a: a.replace(
        "<iati-identifier>", "<iati-identifier>ZZ-OTHER-", 1
    ),
}
"""The issue's classes of lost activities, applied to every real activity of the corpus
(only where the activity has the element the case changes)."""


def _files() -> list[Path]:
    return sorted((DATA / "examples").glob("activity-*.xml")) + sorted(
        (DATA / "publishers").glob("*.xml")
    )


def _acceptance() -> None:
    records = accepted = 0
    reasons: Counter[str] = Counter()
    for path in _files():
        with path.open("rb") as body:
            run = ingest(body, source_format=SourceFormat.IATI_XML, partner_id="p", today=TODAY)
            outcomes = list(run)
        records += run.report.records
        accepted += run.report.accepted
        for o in outcomes:
            if not o.accepted:
                reasons.update(f.code for f in o.findings if f.severity != "warning")
    print(f"acceptance on {len(_files())} real files: {accepted}/{records} activities")
    print(f"quarantine reasons: {dict(reasons) or 'none'}")
    for name, change in ISSUE_CASES.items():
        records = accepted = 0
        for path in _files():
            text = path.read_text("utf-8")
            head = text[: text.find("<iati-activity")]
            if "<iati-activities" not in head:
                continue
            for activity in _ACTIVITY.findall(text):
                changed = change(activity)
                if changed == activity:
                    continue
                doc = (head + changed + "</iati-activities>").encode()
                run = ingest(doc, source_format=SourceFormat.IATI_XML, partner_id="p", today=TODAY)
                outcomes = list(run)
                records += len(outcomes)
                accepted += sum(o.accepted for o in outcomes)
        print(f"  issue case {name:44} {accepted}/{records} accepted")


def _time(fn: Callable[[Any], object], items: list[Any], repeats: int) -> float:
    """Median seconds per item over ``repeats`` passes."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for item in items:
            fn(item)
        runs.append((time.perf_counter() - start) / len(items))
    return statistics.median(runs)


def _stages(repeats: int) -> float:
    from services.partner_feed.formats.errors import Location
    from services.partner_feed.formats.iati_element import ElementReader
    from services.partner_feed.formats.iati_tolerant import normalise_activity
    from services.partner_feed.validation.ruleset import Ruleset, standard_ruleset
    from services.partner_feed.validation.schema import validate_activity

    activities = [a for p in _files() for a in etree.parse(str(p)).getroot().iter("iati-activity")]
    loc = lambda el: Location(line=el.sourceline)  # noqa: E731
    shipped = standard_ruleset()
    plain = Ruleset(orjson.loads(RULESET_JSON.read_bytes()), prefilter=False)
    unscreened = Ruleset(orjson.loads(RULESET_JSON.read_bytes()), screen=False)
    stages = {
        "tolerant reading": lambda a: normalise_activity(
            a, ElementReader(a, "/", False, 10**6).loc
        ),
        "2.03 schema": lambda a: validate_activity(a, "/"),
        "Standard Ruleset": lambda a: shipped.evaluate(a, today=TODAY, locate=loc),
        "Standard Ruleset, no pre-filter": lambda a: plain.evaluate(a, today=TODAY, locate=loc),
        "Standard Ruleset, no screen": lambda a: unscreened.evaluate(a, today=TODAY, locate=loc),
    }
    times = {name: _time(fn, activities, repeats * 10) for name, fn in stages.items()}
    for name, seconds in times.items():
        print(f"{name:34} {seconds * 1000:7.3f} ms/activity")
    return times["Standard Ruleset, no pre-filter"] / times["Standard Ruleset"]


def _throughput(n: int, repeats: int) -> None:
    texts = []
    for path in _files():
        texts += _ACTIVITY.findall(path.read_text("utf-8"))
    body = (
        '<iati-activities version="2.03">'
        + "".join(
            texts[i % len(texts)].replace("</iati-identifier>", f"-{i}</iati-identifier>", 1)
            for i in range(n)
        )
        + "</iati-activities>"
    ).encode()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        run = ingest(body, source_format=SourceFormat.IATI_XML, partner_id="p", today=TODAY)
        count = sum(1 for _ in run)
        runs.append(time.perf_counter() - start)
    seconds = statistics.median(runs)
    print(f"format-layer ingest: {count} activities ({len(body) / 1e6:.1f} MB) in {seconds:.2f} s"
          f" = {count / seconds:.0f} activities/s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--acceptance-only", action="store_true", help="only the acceptance figures (runs on"
        " any version of the format layer: PYTHONPATH=<old checkout> for a before figure)"
    )  # fmt: skip
    args = parser.parse_args()
    _acceptance()
    if args.acceptance_only:
        return
    ratio = _stages(args.repeats)
    _throughput(args.activities, args.repeats)
    print(f"RATIO bench-iati {ratio:.2f}")


if __name__ == "__main__":
    main()

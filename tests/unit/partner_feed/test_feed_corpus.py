"""Every real IATI file in ../shared/data/iati ingests without raising, per activity, and
at least 95 % of the activities are accepted (with their findings), as the Datastore would
index them; a quarantine always names a critical reason."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from services.partner_feed.formats import SourceFormat, ingest

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
TODAY = date(2025, 6, 30)

FILES = sorted((SHARED_DATA / "iati" / "examples").glob("*.xml")) + sorted(
    (SHARED_DATA / "iati" / "publishers").glob("*.xml")
)
SUMMARY: list[str] = []
TOTALS = {"records": 0, "accepted": 0}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_activity_is_accepted_or_quarantined_with_findings(path: Path) -> None:
    with path.open("rb") as body:
        run = ingest(body, source_format=SourceFormat.IATI_XML, partner_id="p", today=TODAY)
        outcomes = list(run)
    report = run.report
    assert report.records == len(outcomes) == report.accepted + report.quarantined
    for outcome in outcomes:
        if not outcome.accepted:
            assert outcome.findings, outcome.ref
            assert all(f.location.line for f in outcome.findings)
            assert any(f.severity == "critical" for f in outcome.findings), outcome.findings
        for finding in outcome.findings:
            if finding.code.startswith("iati-rule."):
                assert finding.rule == finding.code.removeprefix("iati-rule.")
    TOTALS["records"] += report.records
    TOTALS["accepted"] += report.accepted
    top = Counter(f.code for o in outcomes for f in o.findings).most_common(3)
    fatal = report.fatal.code if report.fatal else "-"
    SUMMARY.append(
        f"{path.name:48} {report.records:>3} {report.accepted:>3} {report.quarantined:>3} "
        f"{fatal:20} {', '.join(f'{c} x{n}' for c, n in top)}"
    )
    if path.name.startswith("organisation-"):
        assert report.fatal is not None and report.fatal.code == "wrong-root-element"
    else:
        assert report.fatal is None and report.records > 0


def test_print_summary(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(
            "\nfile                                              act acc  qu fatal                top findings"
        )
        print("\n".join(SUMMARY))
        records, accepted = TOTALS["records"], TOTALS["accepted"]
        print(f"accepted {accepted}/{records} activities")
    if len(SUMMARY) == len(FILES):  # the whole corpus ran
        assert records and accepted >= 0.95 * records

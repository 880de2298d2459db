"""Reconciliation through an upload: explicit identifiers link at 1.0, a look-alike record
links with a lower confidence, and disagreements land in the discrepancy report."""

from __future__ import annotations

import orjson
import pytest

from tests.integration.partner_feed.test_feed_outbound import _feed_holds
from tests.unit.partner_feed.harness import FeedService, make_activity, registered

pytestmark = pytest.mark.timeout(120)


def partner_file(*activities: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">'
        + b"".join(activities)
        + b"</iati-activities>"
    )


def partner_activity(ident: str, title: str, *, extra: str = "", status: str = "2") -> bytes:
    return f"""<iati-activity last-updated-datetime="2026-02-01T00:00:00+00:00" xml:lang="en">
 <iati-identifier>XM-DAC-41111-{ident}</iati-identifier>
 <reporting-org ref="XM-DAC-41111" type="40"><narrative>UNCTAD</narrative></reporting-org>
 <title><narrative>{title}</narrative></title>
 <description type="1"><narrative>Partner view of the activity.</narrative></description>
 <participating-org ref="XM-DAC-41111" type="40" role="1"><narrative>UNCTAD</narrative></participating-org>
 {extra}
 <activity-status code="{status}"/>
 <activity-date type="1" iso-date="2026-01-20"/>
 <recipient-country code="KE" percentage="100"/>
</iati-activity>""".encode()


async def test_explicit_and_fuzzy_links_and_discrepancies(service: FeedService) -> None:
    kenya = make_activity(1)
    other = make_activity(
        2, title={"en": "Patent information centres for Senegal"}, beneficiaries=[{"country": "SN"}]
    )
    await service.publish([registered(kenya), registered(other)])
    await _feed_holds(service, 2)

    body = partner_file(
        partner_activity(
            "X1",
            "Support to Senegal TISCs",
            extra='<other-identifier ref="TA-2026-000002" type="A1"/>',
        ),
        partner_activity("F1", "Kenya national IP strategy", status="3"),
        partner_activity("N1", "Fisheries statistics capacity in the Pacific"),
    )
    status, report = await service.upload("unctad", body)
    assert status == 201 and report["counts"]["new"] == 3, report["quarantined"]
    assert report["counts"]["linked"] == 2

    links = {
        x["record_id"]: x
        for x in (orjson.loads(e.value) for e in await service.events(service.links_topic, 2))
    }
    explicit = links["XM-DAC-41111-X1"]
    assert (explicit["activity_id"], explicit["confidence"], explicit["method"]) == (
        other.id,
        1.0,
        "identifier",
    )
    fuzzy = links["XM-DAC-41111-F1"]
    assert fuzzy["activity_id"] == kenya.id and fuzzy["method"] == "scored"
    assert 0.7 <= fuzzy["confidence"] < 1.0
    assert "XM-DAC-41111-N1" not in links

    status, found = await service.get_json("/v1/partners/unctad/discrepancies", "unctad")
    assert status == 200
    fields = {(d["record_id"], d["field"]) for d in found["discrepancies"]}
    assert ("XM-DAC-41111-F1", "status") in fields
    assert ("XM-DAC-41111-F1", "planned_start") in fields
    assert ("XM-DAC-41111-X1", "countries") in fields

    # The same file again: nothing new, no new links.
    _, again = await service.upload("unctad", body)
    assert again["counts"]["unchanged"] == 3 and again["counts"]["linked"] == 0

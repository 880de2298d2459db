"""Hostile input: each attack gets its typed error, and good records nearby survive."""

from __future__ import annotations

import gzip
from datetime import date

import orjson
import pytest

from services.partner_feed.formats import (
    FeedActivity,
    IngestRun,
    Limits,
    SourceFormat,
    ingest,
    to_tfm,
    write_tfm_csv,
)
from services.partner_feed.formats.iati_writer import activity_element

TODAY = date(2025, 6, 30)
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _good(activity: FeedActivity) -> bytes:
    from lxml import etree

    return bytes(etree.tostring(activity_element(activity)))


def _run(body: bytes, fmt: SourceFormat = SourceFormat.IATI_XML, **kw: object) -> IngestRun:
    return ingest(body, source_format=fmt, partner_id="p", today=TODAY, **kw)  # type: ignore[arg-type]


def _doc(*parts: bytes, prolog: bytes = b"") -> bytes:
    return (
        HEAD
        + prolog
        + b'<iati-activities version="2.03">'
        + b"".join(parts)
        + b"</iati-activities>"
    )


def _accepted(run: IngestRun) -> list[str]:
    return [o.ref for o in run if o.accepted]


BILLION_LAUGHS = b"""<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
"""
XXE_FILE = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
XXE_HTTP = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/evil">]>\n'
QUADRATIC = b'<!DOCTYPE x [<!ENTITY a "' + b"A" * 50_000 + b'">]>\n'


@pytest.mark.parametrize(
    ("prolog", "ref"),
    [
        (BILLION_LAUGHS, b"&lol9;"),
        (XXE_FILE, b"&xxe;"),
        (XXE_HTTP, b"&xxe;"),
        (QUADRATIC, b"&a;" * 5000),
    ],
    ids=["billion-laughs", "xxe-file", "xxe-http", "quadratic-blowup"],
)
def test_declarations_are_refused_and_never_expanded(
    activity: FeedActivity, prolog: bytes, ref: bytes
) -> None:
    hostile = _doc(
        b"<iati-activity><title><narrative>" + ref + b"</narrative></title></iati-activity>",
        prolog=prolog,
    )
    run = _run(hostile)
    assert list(run) == []
    fatal = run.report.fatal
    assert fatal is not None and fatal.code == "forbidden-declaration"
    assert fatal.location.line == 2
    assert _accepted(_run(_doc(_good(activity)))) == [activity.identifier]


def test_declaration_in_utf16_is_refused_from_document_info() -> None:
    body = '<?xml version="1.0" encoding="UTF-16"?>' + XXE_FILE.decode() + "<iati-activities/>"
    run = _run(body.encode("utf-16"))
    assert list(run) == []
    assert run.report.fatal is not None and run.report.fatal.code == "forbidden-declaration"


def test_gzip_bomb_is_stopped_and_plain_gzip_works(activity: FeedActivity) -> None:
    bomb = gzip.compress(_doc(_good(activity), b"<x>" + b" " * 50_000_000 + b"</x>"))
    run = _run(bomb, limits=Limits(ratio_grace_bytes=1024 * 1024))
    assert _accepted(run) == [activity.identifier]  # the activity before the bomb survives
    assert run.report.fatal is not None and run.report.fatal.code == "decompression-bomb"
    small = Limits(max_input_bytes=10_000, max_compression_ratio=10_000)
    capped = _run(gzip.compress(b" " * 50_000), limits=small)
    assert list(capped) == [] and capped.report.fatal is not None
    assert capped.report.fatal.code == "input-too-large"
    assert _accepted(_run(gzip.compress(_doc(_good(activity))))) == [activity.identifier]


def test_truncated_xml_keeps_the_activities_before_it(activity: FeedActivity) -> None:
    body = _doc(_good(activity))[: -len(b"</iati-activities>")] + b"<iati-activity><iati-ident"
    run = _run(body)
    assert _accepted(run) == [activity.identifier]
    fatal = run.report.fatal
    assert fatal is not None and fatal.code == "malformed-input" and fatal.location.line


def test_wrong_root_element() -> None:
    run = _run(HEAD + b"<iati-organisations><x/></iati-organisations>")
    assert list(run) == []
    assert run.report.fatal is not None and run.report.fatal.code == "wrong-root-element"
    assert run.report.fatal.location.path == "/iati-organisations"


def test_invalid_utf8_reports_line_and_column_after_good_activities(activity: FeedActivity) -> None:
    bad = b"<iati-activity>\n<title><narrative>caf\xe9</narrative></title></iati-activity>"
    run = _run(_doc(_good(activity), b"\n", bad))
    assert _accepted(run) == [activity.identifier]
    fatal = run.report.fatal
    assert fatal is not None and fatal.code == "invalid-encoding"
    assert fatal.location.line == 4 and fatal.location.column


def test_undeclared_entity_reference_is_malformed() -> None:
    run = _run(_doc(b"<iati-activity>&xxe;</iati-activity>"))
    assert list(run) == [] and run.report.fatal is not None


def test_unsupported_version_costs_only_its_activity(activity: FeedActivity) -> None:
    future = _good(activity).replace(b"<iati-activity ", b'<iati-activity version="3.01" ', 1)
    outcomes = list(_run(_doc(future, _good(activity))))
    assert [o.accepted for o in outcomes] == [False, True]
    assert outcomes[0].findings[0].code == "unsupported-version"


def test_oversized_xml_text_is_a_finding(activity: FeedActivity) -> None:
    big = _good(activity.model_copy(update={"descriptions": {"en": "x" * 40_000}}))
    outcomes = list(_run(_doc(big, _good(activity))))
    # Accepted without the oversized text (Datastore policy), the error attached.
    assert [o.accepted for o in outcomes] == [True, True]
    assert "format.field_too_large" in {f.code for f in outcomes[0].findings}
    assert outcomes[0].record is not None and outcomes[0].record.descriptions == {}


# --- CSV -------------------------------------------------------------------------------


def _tfm_csv(activity: FeedActivity) -> bytes:
    return b"".join(write_tfm_csv([to_tfm(activity)]))


def test_csv_formula_is_flagged_on_input_and_neutralised_on_output(activity: FeedActivity) -> None:
    evil = activity.model_copy(update={"titles": {"en": '=HYPERLINK("http://evil","x")'}})
    body = _tfm_csv(evil)
    assert b"'=HYPERLINK" in body
    raw = body.replace(b"'=HYPERLINK", b"=HYPERLINK")
    [outcome] = list(_run(raw, SourceFormat.TFM_CSV))
    assert outcome.accepted
    [warning] = [f for f in outcome.findings if f.code == "csv.formula"]
    assert warning.severity == "warning" and warning.location.path == "title_en"


def test_csv_oversized_cell_and_bad_bytes_cost_only_their_rows(activity: FeedActivity) -> None:
    header, good = _tfm_csv(activity).split(b"\r\n", 1)
    big = good.replace(b"National IP strategy", b"N" * 40_000, 1)
    bad = good.replace(b"Rwanda", b"Rw\xffnda", 1)
    body = header + b"\r\n" + big + bad + good
    outcomes = list(_run(body, SourceFormat.TFM_CSV))
    assert [o.accepted for o in outcomes] == [False, False, True]
    assert outcomes[0].findings[0].code == "field-too-large"
    assert outcomes[0].findings[0].location.line == 2
    assert outcomes[1].findings[0].code == "invalid-encoding"
    assert outcomes[1].findings[0].location.line == 3


# --- JSON ------------------------------------------------------------------------------


def _tfm_json(activity: FeedActivity) -> dict[str, object]:
    return to_tfm(activity).model_dump(mode="json")


def test_json_deep_nesting_wrong_types_and_oversized_fields_are_located(
    activity: FeedActivity,
) -> None:
    deep: object = "x"
    for _ in range(40):
        deep = [deep]
    good = _tfm_json(activity)
    records = [
        {**good, "links": deep},
        {**good, "sdg_goals": "nine", "status": 3},
        {**good, "titles": {"en": "t" * 40_000}},
        good,
    ]
    outcomes = list(_run(orjson.dumps({"records": records}), SourceFormat.TFM_JSON))
    assert [o.accepted for o in outcomes] == [False, False, False, True]
    assert outcomes[0].findings[0].code == "nesting-too-deep"
    assert (outcomes[0].findings[0].location.path or "").startswith("/records/0/links/0/0")
    paths = {f.location.path for f in outcomes[1].findings}
    assert {"/records/1/sdg_goals", "/records/1/status"} <= paths
    assert outcomes[2].findings[0].location.path == "/records/2/titles/en"


def test_json_beyond_parser_depth_is_fatal() -> None:
    run = _run(b"[" * 5000 + b"]" * 5000, SourceFormat.TFM_JSON)
    assert list(run) == []
    assert run.report.fatal is not None and run.report.fatal.code == "nesting-too-deep"


def test_json_invalid_utf8_is_fatal_with_location() -> None:
    run = _run(b'[\n{"record_id": "a\xff"}]', SourceFormat.TFM_JSON)
    assert list(run) == []
    fatal = run.report.fatal
    assert fatal is not None and fatal.code == "invalid-encoding" and fatal.location.line == 2


def test_limits_defaults_are_sane() -> None:
    assert Limits().max_field_chars < 131_072  # below the csv module's own hard limit

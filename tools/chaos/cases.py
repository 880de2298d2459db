"""Generated hostile inputs: bodies, headers and paths for every service.

Each `Case` names what it sends and what answer is correct: `refuse` (a typed 4xx),
`import` (an upload: a 4xx, or an import that ends `failed` or quarantines), or `any`
(input a service may accept or refuse, such as a value validation may coerce, but never
with a 5xx).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Expect = Literal["refuse", "import", "any"]

JSON = {"Content-Type": "application/json"}
MERGE = {"Content-Type": "application/merge-patch+json"}

#: The characters XML 1.0 cannot hold (one of each kind the validator names).
BAD_CODE_POINTS = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]


@dataclass(frozen=True)
class Case:
    name: str
    service: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: Expect = "refuse"
    auth: str = "default"  # the credential the runner attaches (see hostile.py)


def activity_doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "title": {"en": "National IP strategy for Kenya"},
        "description": {"en": "Needs assessment and drafting of a national IP strategy."},
        "category": "national_ip_strategy",
        "stage": "planning_and_design",
        "status": "implementation",
        "beneficiaries": [{"country": "KE"}],
        "regional_communities": ["EAC"],
        "lead_unit": {"kind": "regional_bureau", "name": "Regional Bureau for Africa"},
        "partners": [{"name": "KIPI", "kind": "ip_office", "role": "implementing"}],
        "monitoring": {"expected_results": ["A strategy adopted"]},
        "dates": {"planned_start": "2026-01-15", "planned_end": "2027-06-30"},
        "sdg": {"goals": [9]},
    }
    doc.update(overrides)
    return doc


def _dumps(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _with_text(path: tuple[Any, ...], text: str) -> dict[str, Any]:
    doc = activity_doc()
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = text
    return doc


TEXT_FIELDS: list[tuple[Any, ...]] = [
    ("title", "en"),
    ("description", "en"),
    ("lead_unit", "name"),
    ("partners", 0, "name"),
    ("monitoring", "expected_results", 0),
]


def nested(depth: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return opener * depth + closer * depth


def gzip_bomb(inflated: int) -> bytes:
    """A small gzip stream that inflates to `inflated` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(inflated // len(chunk))]
    parts.append(compressor.flush())
    return b"".join(parts)


def registry_cases(activity_id: str) -> Iterator[Case]:
    yield from _registry_bodies("/v1/activities")
    yield from _registry_items(f"/v1/activities/{activity_id}")


def _registry_bodies(create: str) -> Iterator[Case]:
    for path in TEXT_FIELDS:
        for cp in BAD_CODE_POINTS:
            text = f"ok{chr(cp)}text"
            yield Case(
                f"registry.text.{'.'.join(map(str, path))}.U+{cp:04X}",
                "registry",
                "POST",
                create,
                _dumps(_with_text(path, text)),
                JSON,
            )
    for surrogate in ("\\ud800", "\\udfff", "\\udbff\\u0041"):
        raw = _dumps(activity_doc()).replace(b"Kenya", f"Ken{surrogate}ya".encode(), 1)
        yield Case(f"registry.surrogate.{surrogate}", "registry", "POST", create, raw, JSON)
    for name, value in {
        "title-501": {"en": "x" * 501},
        "title-empty": {"en": ""},
        "title-no-language": {},
        "title-unknown-language": {"xx": "t"},
    }.items():
        yield Case(
            f"registry.oversized.{name}",
            "registry",
            "POST",
            create,
            _dumps(activity_doc(title=value)),
            JSON,
        )
    yield Case(
        "registry.oversized.description",
        "registry",
        "POST",
        create,
        _dumps(activity_doc(description={"en": "y" * 20_001})),
        JSON,
    )
    yield Case(
        "registry.oversized.body",
        "registry",
        "POST",
        create,
        _dumps(activity_doc(description={"en": "z" * 3_000_000})),
        JSON,
    )
    bad_values: list[Any] = [None, 1, -1, 1.5, True, [], {}, "x", [None], {"a": 1}]
    for fieldname in (
        "title",
        "category",
        "stage",
        "status",
        "beneficiaries",
        "dates",
        "sdg",
        "gender_marker",
        "da_recommendations",
        "lead_unit",
        "partners",
        "regional_communities",
        "modality",
        "monitoring",
        "external_refs",
    ):
        for i, value in enumerate(bad_values):
            doc = activity_doc(**{fieldname: value})
            yield Case(
                f"registry.type.{fieldname}.{i}",
                "registry",
                "POST",
                create,
                _dumps(doc),
                JSON,
                expect="any",
            )
    yield Case(
        "registry.unknown-field", "registry", "POST", create, _dumps(activity_doc(extra=1)), JSON
    )
    for name, raw in {
        "huge-int": b'{"gender_marker": ' + b"9" * 5000 + b"}",
        "huge-exponent": b'{"gender_marker": 1e999999}',
        "nan": b'{"gender_marker": NaN}',
        "infinity": b'{"gender_marker": Infinity}',
        "deep-array-100": nested(100),
        "deep-array-2000": nested(2000),
        "deep-array-100000": nested(100_000),
        "deep-object-1000": nested(1000, b'{"a":', b"}").replace(b"{}", b"1"),
        "truncated": _dumps(activity_doc())[:-7],
        "empty": b"",
        "binary": bytes(range(256)) * 4,
        "bom": b"\xef\xbb\xbf" + _dumps(activity_doc()),
        "utf16": json.dumps(activity_doc()).encode("utf-16"),
        "latin1": _dumps(activity_doc(title={"en": "Kenya"})).replace(b"Kenya", b"K\xe9nya"),
        "top-level-array": b"[]",
        "top-level-string": b'"x"',
        "nul": b"\x00" * 64,
    }.items():
        yield Case(f"registry.json.{name}", "registry", "POST", create, raw, JSON)
    dup = b'{"category": "infrastructure", ' + _dumps(activity_doc())[1:]
    yield Case("registry.json.duplicate-keys", "registry", "POST", create, dup, JSON)
    for ctype in ("text/plain", "application/xml", "multipart/form-data; boundary=x", ""):
        yield Case(
            f"registry.content-type.{ctype or 'none'}",
            "registry",
            "POST",
            create,
            _dumps(activity_doc()),
            {"Content-Type": ctype} if ctype else {},
        )
    for name, (raw, coding) in {
        "gzip-garbage": (b"garbage" * 50, "gzip"),
        "gzip-truncated": (gzip.compress(_dumps(activity_doc()))[:-10], "gzip"),
        "deflate-garbage": (b"garbage" * 50, "deflate"),
        "gzip-bomb": (gzip_bomb(64 * 1024 * 1024), "gzip"),
        "compress": (b"{}", "compress"),
        "x-gzip": (gzip.compress(b"{}"), "x-gzip"),
        "stacked": (b"{}", "gzip, deflate"),
        "br": (b"{}", "br"),
        "zstd": (b"{}", "zstd"),
    }.items():
        yield Case(
            f"registry.coding.{name}",
            "registry",
            "POST",
            create,
            raw,
            {**JSON, "Content-Encoding": coding},
        )


def _registry_items(item: str) -> Iterator[Case]:
    for version in (
        "9" * 40,
        "9" * 5000,
        str(2**63),
        "0",
        "-1",
        "abc",
        "%C2%B2",
        "%D9%A1",
        "1.0",
        "%00",
    ):
        yield Case(
            f"registry.version.{version[:12]}", "registry", "GET", f"{item}/versions/{version}"
        )
    for etag in ('"' + "9" * 5000 + '"', "9" * 40, '"-1"', '"abc"', "*", '"0"', 'W/"x"', '"'):
        yield Case(
            f"registry.if-match.{etag[:12]}",
            "registry",
            "PATCH",
            item,
            b'{"stage": "implementation"}',
            {**MERGE, "If-Match": etag},
        )
    for name, patch in {
        "deep": nested(1000, b'{"a":', b"}").replace(b"{}", b"1"),
        "control": _dumps({"title": {"en": "x\u0000"}}),
        "array": b"[]",
        "null-required": b'{"category": null}',
    }.items():
        yield Case(
            f"registry.patch.{name}", "registry", "PATCH", item, patch, {**MERGE, "If-Match": '"1"'}
        )
    for cp in (0x00, 0x07, 0x1B, 0xFFFF):
        yield Case(
            f"registry.withdraw.U+{cp:04X}",
            "registry",
            "POST",
            f"{item}/withdraw",
            _dumps({"reason": f"dup{chr(cp)}"}),
            JSON,
        )
    for query in (
        "limit=-1",
        "limit=" + "9" * 30,
        "cursor=%00%01",
        "cursor=" + "A" * 5000,
        "country=%00",
        "sdg=99",
        "limit=abc",
        "updated_since=not-a-date",
    ):
        yield Case(f"registry.query.{query[:16]}", "registry", "GET", f"/v1/activities?{query}")
    # Refused by aiohttp's parser, before any middleware: still typed problems.
    yield Case("registry.parser.long-url", "registry", "GET", "/v1/activities?q=" + "a" * 9000)
    yield Case(
        "registry.parser.long-header",
        "registry",
        "GET",
        "/v1/activities",
        None,
        {"X-Long": "a" * 9000},
    )


XML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
IATI_ROOT = b'<iati-activities version="2.03">'


def _iati(inner: bytes, prolog: bytes = b"") -> bytes:
    return XML_HEAD + prolog + IATI_ROOT + inner + b"</iati-activities>"


def _activity(identifier: bytes = b"XM-1", title: bytes = b"t") -> bytes:
    return (
        b"<iati-activity><iati-identifier>" + identifier + b"</iati-identifier>"
        b"<title><narrative>" + title + b"</narrative></title></iati-activity>"
    )


def feed_cases(clean_iati: bytes, canary_url: str) -> Iterator[Case]:
    def upload(name: str, body: bytes, fmt: str = "iati", **headers: str) -> Case:
        return Case(
            f"feed.{name}",
            "partner-feed",
            "POST",
            f"/v1/imports?partner=unctad&format={fmt}&wait=true",
            body,
            headers,
            expect="import",
        )

    laughs = (
        b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    xml: dict[str, bytes] = {
        "billion-laughs": _iati(_activity(b"&lol3;"), laughs),
        "quadratic": _iati(
            _activity(b"&a;" * 10_000), b'<!DOCTYPE x [<!ENTITY a "' + b"a" * 10_000 + b'">]>'
        ),
        "xxe-file": _iati(
            _activity(b"&x;"), b'<!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        ),
        "xxe-http": _iati(
            _activity(b"&x;"), b'<!DOCTYPE x [<!ENTITY x SYSTEM "' + canary_url.encode() + b'">]>'
        ),
        "parameter-entity": _iati(
            _activity(), b'<!DOCTYPE x [<!ENTITY % p SYSTEM "' + canary_url.encode() + b'"> %p;]>'
        ),
        "external-dtd": _iati(_activity(), b'<!DOCTYPE x SYSTEM "' + canary_url.encode() + b'">'),
        "xinclude": _iati(
            b'<iati-activity xmlns:xi="http://www.w3.org/2001/XInclude">'
            b'<xi:include href="file:///etc/passwd" parse="text"/></iati-activity>'
        ),
        "xslt-pi": XML_HEAD
        + b'<?xml-stylesheet href="'
        + canary_url.encode()
        + b'"?>'
        + IATI_ROOT
        + _activity()
        + b"</iati-activities>",
        "deep-elements": _iati(b"<a>" * 20_000 + b"</a>" * 20_000),
        "wrong-root": XML_HEAD + b"<html><body/></html>",
        "not-xml": b"this is not xml at all",
        "empty": b"",
        "bom-only": b"\xef\xbb\xbf",
        "nul-bytes": b"\x00" * 1000,
        "binary": bytes(range(256)) * 40,
        "invalid-utf8": _iati(_activity(title=b"\xff\xfe\xfd")),
        "declared-utf16": b'<?xml version="1.0" encoding="UTF-16"?>'
        + IATI_ROOT
        + b"</iati-activities>",
        "declared-unknown": b'<?xml version="1.0" encoding="x-nope"?>'
        + IATI_ROOT
        + b"</iati-activities>",
        "control-char": _iati(_activity(title=b"a\x01b")),
        "char-ref-nul": _iati(_activity(title=b"a&#0;b")),
        "char-ref-fffe": _iati(_activity(title=b"a&#xFFFE;b")),
        "huge-attribute": _iati(b'<iati-activity x="' + b"a" * 5_000_000 + b'"/>'),
        "huge-text": _iati(_activity(title=b"t" * 5_000_000)),
        "many-attributes": _iati(
            b"<iati-activity " + b" ".join(f'a{i}="1"'.encode() for i in range(20_000)) + b"/>"
        ),
        "cdata-script": _iati(_activity(title=b"<![CDATA[<script>alert(1)</script>]]>")),
        "gzip-bomb": gzip_bomb(400 * 1024 * 1024),
        "gzip-truncated": gzip.compress(clean_iati)[:-50],
        "gzip-garbage-magic": b"\x1f\x8b" + b"\x00" * 200,
        "double-gzip": gzip.compress(gzip.compress(clean_iati)),
    }
    for cut in (10, 50, 100, 500, 1000, 2000, 4000):
        if cut < len(clean_iati):
            xml[f"truncated-{cut}"] = clean_iati[:cut]
    for name, body in xml.items():
        yield upload(f"iati.{name}", body)
    yield upload("coding.gzip-garbage", b"garbage" * 100, **{"Content-Encoding": "gzip"})
    yield upload("coding.deflate-garbage", b"garbage" * 100, **{"Content-Encoding": "deflate"})
    yield upload("coding.br", clean_iati, **{"Content-Encoding": "zstd"})
    rows = "record_id,record_type,un_entity,title_en,status\n"
    csv_bodies = {
        "formula": rows + "R1,project,WIPO,=cmd|' /C calc'!A0,ongoing\n",
        "formula-plus": rows + 'R2,project,WIPO,+HYPERLINK("http://x"),ongoing\n',
        "formula-at": rows + "R3,project,WIPO,@SUM(1),ongoing\n",
        "huge-line": rows + "R4,project,WIPO," + "x" * 3_000_000 + ",ongoing\n",
        "many-columns": ",".join(f"c{i}" for i in range(50_000)) + "\n1\n",
        "unterminated-quote": rows + 'R5,project,WIPO,"never closed,ongoing\n',
        "nul": rows + "R6,project,WIPO,a\x00b,ongoing\n",
        "no-header": "",
        "binary": "\x00\x01\x02" * 100,
    }
    for name, text in csv_bodies.items():
        yield upload(f"csv.{name}", text.encode("utf-8"), fmt="tfm-csv")
    yield upload(
        "csv.latin1", (rows + "R7,project,WIPO,K\xe9nya,ongoing\n").encode("latin-1"), fmt="tfm-csv"
    )
    record = {
        "record_id": "R1",
        "record_type": "project",
        "un_entity": "WIPO",
        "titles": {"en": "t"},
        "status": "ongoing",
    }
    json_bodies: dict[str, bytes] = {
        "deep": nested(5000),
        "deep-objects": nested(5000, b'{"a":', b"}").replace(b"{}", b"1"),
        "huge-number": b'[{"record_id": ' + b"9" * 10_000 + b"}]",
        "duplicate-keys": b'[{"record_id": "a", "record_id": "b"}]',
        "control": json.dumps([{**record, "titles": {"en": "a\u0000b"}}]).encode(),
        "not-array": b'{"a": 1}',
        "truncated": json.dumps([record] * 10).encode()[:-20],
        "nan": b"[NaN]",
        "surrogate": b'[{"record_id": "\\ud800"}]',
        "huge-string": json.dumps([{**record, "titles": {"en": "x" * 5_000_000}}]).encode(),
    }
    for name, body in json_bodies.items():
        yield upload(f"json.{name}", body, fmt="tfm-json")
    yield Case(
        "feed.unknown-format",
        "partner-feed",
        "POST",
        "/v1/imports?partner=unctad&format=nope&wait=true",
        clean_iati,
    )
    yield Case("feed.no-partner", "partner-feed", "POST", "/v1/imports?wait=true", clean_iati)
    yield Case(
        "feed.unknown-partner",
        "partner-feed",
        "POST",
        "/v1/imports?partner=nobody&wait=true",
        clean_iati,
    )
    for query in (
        "since=-1",
        "since=" + "9" * 40,
        "since=abc",
        "country=%00",
        "sdg=999",
        "since=%F0%9F%92%A9",
        "limit=abc",
    ):
        for feed in ("iati.xml", "tfm.json", "tfm.csv"):
            yield Case(
                f"feed.query.{feed}.{query[:12]}",
                "partner-feed",
                "GET",
                f"/v1/feeds/{feed}?{query}",
                expect="any",
            )
    for import_id in ("%00", "9" * 5000, "../../etc/passwd", "x" * 300):
        yield Case(
            f"feed.import-id.{import_id[:10]}", "partner-feed", "GET", f"/v1/imports/{import_id}"
        )


def notifier_cases() -> Iterator[Case]:
    path = "/v1/subscriptions"
    good = {"url": "http://hooks.partner.example/hook", "event_types": ["*"]}
    bodies: dict[str, bytes] = {
        "deep-100000": nested(100_000),
        "deep-objects": nested(3000, b'{"url":', b"}").replace(b"{}", b"1"),
        "not-json": b"not json",
        "empty": b"",
        "array": b"[]",
        "huge-number": b'{"url": ' + b"9" * 10_000 + b"}",
        "description-control": json.dumps({**good, "description": "a\u0000b"}).encode(),
        "url-control": json.dumps({**good, "url": "http://a\u0000b.example/"}).encode(),
        "url-huge": json.dumps({**good, "url": "http://x.example/" + "a" * 100_000}).encode(),
        "types-wrong": json.dumps({**good, "event_types": "everything"}).encode(),
        "types-huge": json.dumps({**good, "event_types": ["x"] * 100_000}).encode(),
        "filters-wrong": json.dumps({**good, "filters": {"countries": [1, 2]}}).encode(),
        "filters-deep": json.dumps({**good, "filters": json.loads(nested(200).decode())}).encode(),
        "unknown-field": json.dumps({**good, "extra": True}).encode(),
        "surrogate": b'{"url": "http://x.example/\\ud800"}',
        "binary": bytes(range(256)),
    }
    for name, body in bodies.items():
        yield Case(f"notifier.create.{name}", "notifier", "POST", path, body, JSON)
    for ctype in ("text/plain", "application/x-www-form-urlencoded", ""):
        yield Case(
            f"notifier.content-type.{ctype or 'none'}",
            "notifier",
            "POST",
            path,
            json.dumps(good).encode(),
            {"Content-Type": ctype} if ctype else {},
        )
    yield Case(
        "notifier.coding.gzip-garbage",
        "notifier",
        "POST",
        path,
        b"garbage" * 30,
        {**JSON, "Content-Encoding": "gzip"},
    )
    yield Case(
        "notifier.coding.gzip-bomb",
        "notifier",
        "POST",
        path,
        gzip_bomb(64 * 1024**2),
        {**JSON, "Content-Encoding": "gzip"},
    )
    for sub_id in ("%00", "9" * 5000, "../x", "sub_" + "a" * 500):
        for method, suffix in (
            ("GET", ""),
            ("PATCH", ""),
            ("DELETE", ""),
            ("POST", "/secret/rotate"),
            ("GET", "/attempts"),
        ):
            yield Case(
                f"notifier.id.{method}{suffix}.{sub_id[:8]}",
                "notifier",
                method,
                f"{path}/{sub_id}{suffix}",
                b"{}",
                JSON,
            )
    for query in ("limit=0", "limit=" + "9" * 30, "limit=abc", "after=%00"):
        yield Case(
            f"notifier.query.{query[:10]}", "notifier", "GET", f"{path}?{query}", expect="any"
        )


def tagger_cases() -> Iterator[Case]:
    path = "/v1/tag"
    bodies: dict[str, tuple[bytes, Expect]] = {
        "deep": (nested(100_000), "refuse"),
        "not-json": (b"{", "refuse"),
        "text-missing": (b"{}", "refuse"),
        "text-number": (b'{"text": 1}', "refuse"),
        "text-huge": (json.dumps({"text": "ip " * 2_000_000}).encode(), "refuse"),
        "text-control": (json.dumps({"text": "a\u0000b\u0001"}).encode(), "any"),
        "targets-bad": (json.dumps({"text": "x", "curated_targets": ["99.99"]}).encode(), "refuse"),
        "goals-bad": (json.dumps({"text": "x", "curated_goals": [0, 18]}).encode(), "refuse"),
        "surrogate": (b'{"text": "\\udfff"}', "refuse"),
        "huge-number": (b'{"text": "x", "curated_goals": [' + b"9" * 5000 + b"]}", "refuse"),
    }
    for name, (body, expect) in bodies.items():
        yield Case(f"tagger.{name}", "sdg-tagger", "POST", path, body, JSON, expect=expect)
    yield Case(
        "tagger.coding.gzip-garbage",
        "sdg-tagger",
        "POST",
        path,
        b"garbage",
        {**JSON, "Content-Encoding": "gzip"},
    )

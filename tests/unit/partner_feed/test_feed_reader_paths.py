"""The IATI reader's two paths agree: the filtered one (root sniffed as <iati-activities>)
and the general one (any other prolog), on real files and on odd structure."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from services.partner_feed.formats import Limits, MalformedInput
from services.partner_feed.formats.iati_reader import (
    _refuse_declarations,
    _Sniff,
    _State,
    iter_activities,
)
from services.partner_feed.formats.safety import iter_chunks

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "iati"
FILES = sorted((DATA / "examples").glob("activity-*.xml")) + sorted(
    (DATA / "publishers").glob("*.xml")
)
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _read(body: bytes) -> list[tuple[int, str, str, int]]:
    return [
        (a.index, a.path, a.element.findtext("iati-identifier") or "", a.element.sourceline)
        for a in iter_activities(body)
    ]


def _general(body: bytes) -> bytes:
    """The same document behind a prolog comment longer than the first chunk: the sniff
    does not see the root start there, so the general path reads it."""
    at = body.index(b"<iati-activities")
    pad = b"<!--" + b"x" * (Limits().chunk_bytes + 10) + b"-->"
    return body[:at] + pad + body[at:]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_both_paths_yield_the_same_activities(path: Path) -> None:
    body = path.read_bytes()
    for variant, root in ((body, b"iati-activities"), (_general(body), None)):
        sniff = _Sniff()
        chunks = _refuse_declarations(iter_chunks(variant, Limits()), sniff)
        next(chunks)
        assert sniff.root == root  # which path each variant takes
    fast = _read(body)
    general = _read(_general(body))
    assert fast, path.name
    # Same order, ids and paths; lines shift by what the padding added (none: one line).
    assert [f[:3] for f in fast] == [g[:3] for g in general]
    assert [f[3] for f in fast] == [g[3] for g in general]


def test_activities_nested_in_other_root_children_are_not_activities() -> None:
    body = (
        HEAD + b'<iati-activities version="2.03"><other><iati-activity>'
        b"<iati-identifier>XM-1-nested</iati-identifier></iati-activity></other>"
        b"<iati-activity><iati-identifier>XM-1-top</iati-identifier></iati-activity>"
        b"</iati-activities>"
    )
    for variant in (body, _general(body)):
        assert [(i, p, ref) for i, p, ref, _ in _read(variant)] == [
            (1, "/iati-activities/iati-activity[1]", "XM-1-top")
        ]


def test_other_root_children_do_not_pile_up() -> None:
    # What iter_activities does per chunk, watched from outside: feed, drain, drop.
    state = _State(Limits(), filtered=True)
    parser = etree.XMLPullParser(events=("start", "end"), tag=("iati-activities", "iati-activity"))
    body = HEAD + b'<iati-activities version="2.03">' + b"<junk><deeper/></junk>" * 50_000
    held: list[int] = []
    for start in range(0, len(body), 4096):
        parser.feed(body[start : start + 4096])
        assert list(state.drain(parser)) == []
        state.drop_finished()
        held.append(len(state.root))
    assert len(held) > 100 and max(held) <= 1


def test_a_document_cut_inside_the_root_tag_is_malformed() -> None:
    with pytest.raises(MalformedInput):
        list(iter_activities(HEAD + b"<iati-activities "))

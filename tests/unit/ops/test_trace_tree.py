"""`ta-bridge trace`: spans written by the real exporter, read back and drawn as a tree."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.cli import main
from services.ops.spans import read_spans
from services.ops.trace_tree import build_tree, render_trace, traces_of_activity
from tests.unit.ops.spans_fixture import Services, write_batched_change, write_change


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    svc = Services(tmp_path)
    try:
        yield svc
    finally:
        svc.shutdown()


def _labels(text: str) -> list[str]:
    """Each tree line up to the duration column (tree prefix, service, span name)."""
    return [re.split(r"\s{2,}(?=[\d.]+ ms)", line)[0] for line in text.splitlines()[1:]]


def test_a_trace_is_drawn_across_services_in_call_order(services: Services, tmp_path: Path) -> None:
    trace_id = write_change(services, "TA-2026-000001", webhook_fails=True)
    read = read_spans(tmp_path)
    assert {p.name for p in read.files} == {"registry.jsonl", "sdg-tagger.jsonl", "notifier.jsonl"}
    spans = [s for s in read.spans if s.trace_id == trace_id]
    assert len(spans) == 6

    text = render_trace(trace_id, spans)

    head, *lines = text.splitlines()
    assert head.startswith(
        f"trace {trace_id}: 6 spans, 3 services (notifier, registry, sdg-tagger)"
    )
    assert _labels(text) == [
        "registry POST /v1/activities",
        "├─ notifier tabridge.activity.events process",
        "└─ sdg-tagger tabridge.activity.events process",
        "   └─ sdg-tagger tabridge.sdg.tags send",
        "      └─ notifier tabridge.sdg.tags process",
        "         └─ notifier POST",
    ]
    assert "route=" not in lines[0], "the name says the route already"
    assert "status=201" in lines[0]
    assert "activity=TA-2026-000001" in lines[0]
    assert "topic=" not in lines[1], "the name says the topic already"
    assert "group=notifier" in lines[1]
    assert "key=TA-2026-000001" in lines[1]
    assert "offset=7" in lines[1]
    assert "ERROR" in lines[5]
    assert "webhook=wh-1" in lines[5]
    assert all(" ms" in line for line in lines)


def test_a_span_whose_parent_was_not_recorded_is_a_marked_root(
    services: Services, tmp_path: Path
) -> None:
    trace_id = write_change(services, "TA-2026-000002")
    (tmp_path / "registry.jsonl").unlink()
    spans = [s for s in read_spans(tmp_path).spans if s.trace_id == trace_id]

    roots = build_tree(spans)

    assert [r.span.service for r in roots] == ["notifier", "sdg-tagger"]
    assert all(r.orphan for r in roots)
    assert "(parent not recorded)" in render_trace(trace_id, spans).splitlines()[1]


def test_activity_ids_find_their_traces_oldest_first(services: Services, tmp_path: Path) -> None:
    first = write_change(services, "TA-2026-000003")
    write_change(services, "TA-2026-000004")
    second = write_change(services, "TA-2026-000003")

    assert traces_of_activity(read_spans(tmp_path).spans, "TA-2026-000003") == [first, second]
    assert traces_of_activity(read_spans(tmp_path).spans, "TA-2026-999999") == []


def test_unreadable_lines_are_skipped_not_fatal(services: Services, tmp_path: Path) -> None:
    trace_id = write_change(services, "TA-2026-000005")
    with (tmp_path / "notifier.jsonl").open("a") as fh:
        fh.write('{"trace_id": "half a line\n["not", "a span"]\n\n')

    read = read_spans(tmp_path)

    assert read.skipped_lines == 2
    assert len([s for s in read.spans if s.trace_id == trace_id]) == 6


def test_the_command_prints_the_latest_trace_of_an_activity_or_all(
    services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TABRIDGE_TRACE_DIR", str(tmp_path))
    older = write_change(services, "TA-2026-000006")
    newer = write_change(services, "TA-2026-000006")

    assert main(["trace", "TA-2026-000006"]) == 0
    out = capsys.readouterr().out
    assert f"trace {newer}" in out
    assert older not in out

    assert main(["trace", "TA-2026-000006", "--all"]) == 0
    out = capsys.readouterr().out
    assert out.index(f"trace {older}") < out.index(f"trace {newer}")

    assert main(["trace", older.upper(), "--json"]) == 0
    [document] = json.loads(capsys.readouterr().out)
    assert document["trace_id"] == older
    [root] = document["roots"]
    assert root["service"] == "registry"
    assert [c["service"] for c in root["children"]] == ["notifier", "sdg-tagger"]

    assert main(["trace", "TA-2026-404404", "--dir", str(tmp_path)]) == 1
    assert "no trace 'TA-2026-404404'" in capsys.readouterr().err


def test_a_batch_span_linking_to_the_change_is_followed_into_its_trace(
    services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TABRIDGE_TRACE_DIR", str(tmp_path))
    trace_id = write_batched_change(services, "TA-2026-000007", batch_of=3)

    assert main(["trace", "TA-2026-000007"]) == 0
    text = capsys.readouterr().out
    head = text.splitlines()[0]
    assert head.startswith(f"trace {trace_id}: 4 spans, 2 services (notifier, registry)")
    assert _labels(text) == [
        "registry POST /v1/activities",
        "└─ registry tabridge.activity.events send",
        "   ├─ notifier tabridge.activity.events batch",
        "   └─ notifier POST",
    ]
    batch_line = text.splitlines()[3]
    assert batch_line.endswith("(linked)")
    assert "messages=3" in batch_line and "group=notifier" in batch_line

    assert main(["trace", trace_id, "--json"]) == 0
    [document] = json.loads(capsys.readouterr().out)
    [root] = document["roots"]
    [send] = root["children"]
    assert [(c["name"], c["linked"]) for c in send["children"]] == [
        ("tabridge.activity.events batch", True),
        ("POST", False),
    ]
    others = [s for s in read_spans(tmp_path).spans if s.trace_id != trace_id]
    [batch] = [s for s in others if s.name.endswith(" batch")]
    assert len(batch.links) == 3, "the links to the other records' traces are read too"

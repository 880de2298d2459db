"""Every topic the code produces to or consumes from has a definition (shared/events/topics.py).

A topic without one would be created by a broker's auto-create with broker defaults (or
not at all where auto-create is off, as it should be in production), so this test reads
the source of `shared/` and `services/` for topic names and checks each against
`tools.topics.profiles.desired_topics`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import shared.events
from shared import dlq_topic
from shared.events import ACTIVITY_SNAPSHOTS, ALL_EVENTS, PARTNER_LINKS
from tools.topics.profiles import desired_topics, profile

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ("shared", "services")
TOPIC_LIKE = re.compile(r"^tabridge(\.[a-z0-9_-]+)+$")
# Dotted strings that look like topic names but are not; say what each one is.
NOT_TOPICS = {
    "tabridge.activity.id": "a span attribute (the activity a span is about)",
}


def _defined() -> dict[str, bool]:
    """Defined topic name -> compacted."""
    return {s.name: s.compacted for s in desired_topics(profile("local"))}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _constant(node: ast.expr, where: str) -> str | None:
    """The topic a `namespaced(...)`/`dlq_topic(...)` argument names, None when dynamic."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id.isupper():
        value = getattr(shared.events, node.id, None)
        assert isinstance(value, str), f"{where}: {node.id} is not a topic of shared.events"
        return value
    return None  # a variable: the value is checked where it is built


References = tuple[set[str], set[str], list[str]]


@pytest.fixture(scope="module")
def references() -> References:
    """(every topic referenced, topics consumed, string literals that look like topics)."""
    referenced: set[str] = set()
    consumed: set[str] = set()
    literals: list[str] = []
    for path, module in _modules():
        where = str(path.relative_to(ROOT))
        for node in ast.walk(module):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and TOPIC_LIKE.match(text):
                literals.append(text)
            if not isinstance(node, ast.Call):
                continue
            if _call_name(node) in {"namespaced", "dlq_topic"} and node.args:
                name = _constant(node.args[0], where)
                if name is not None:
                    referenced.add(name if _call_name(node) == "namespaced" else dlq_topic(name))
            for keyword in node.keywords:
                if keyword.arg == "topics" and isinstance(keyword.value, ast.List):
                    for element in keyword.value.elts:
                        if isinstance(element, ast.Call) and element.args:
                            name = _constant(element.args[0], where)
                            if name is not None:
                                consumed.add(name)
    return referenced, consumed, literals


def test_the_source_scan_finds_the_topics_it_should(references: References) -> None:
    referenced, consumed, _ = references
    # Guards the scan itself: if these vanish, the scan has stopped seeing the code.
    assert {"tabridge.activity.events", "tabridge.sdg.tags"} <= consumed
    assert {"tabridge.activity.snapshots", "tabridge.webhooks.dlq"} <= referenced


def test_every_topic_referenced_in_the_code_is_defined(references: References) -> None:
    referenced, consumed, literals = references
    defined = _defined()
    missing = sorted((referenced | consumed) - set(defined))
    assert not missing, f"topics used without a definition: {missing}"
    unknown = sorted({s for s in literals if s not in defined and s not in NOT_TOPICS})
    assert not unknown, f"topic-like strings that are neither defined nor in NOT_TOPICS: {unknown}"


def test_every_consumed_topic_has_its_dead_letter_topic(references: References) -> None:
    _, consumed, _ = references
    defined = _defined()
    missing = sorted(dlq_topic(t) for t in consumed if dlq_topic(t) not in defined)
    assert not missing, f"consumers dead-letter to undefined topics: {missing}"


def test_every_event_type_has_its_topic_defined() -> None:
    defined = _defined()
    missing = sorted({e.TOPIC for e in ALL_EVENTS} - set(defined))
    assert not missing


def test_latest_state_topics_are_compacted_and_history_is_not() -> None:
    defined = _defined()
    assert defined[ACTIVITY_SNAPSHOTS]
    assert defined[PARTNER_LINKS]
    compacted = [name for name, is_compacted in defined.items() if is_compacted]
    assert sorted(compacted) == sorted([ACTIVITY_SNAPSHOTS, PARTNER_LINKS])

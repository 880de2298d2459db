"""The contract check: code and checked-in contracts agree; compatibility is enforced."""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from shared.events import ActivityUpdated
from tools import contracts
from tools.schema_compat import breaking_changes


def test_checked_in_contracts_agree_with_the_code() -> None:
    assert contracts.check() == 0


def test_asyncapi_lists_every_topic_message_key_and_header() -> None:
    document = yaml.safe_load(contracts.ASYNCAPI.read_text())
    assert document["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in document["channels"].values()}
    assert {
        "tabridge.activity.events",
        "tabridge.sdg.tags",
        "tabridge.activity.snapshots",
    } <= addresses
    message = document["components"]["messages"]["activity_updated_v1"]
    assert (
        message["payload"]["$ref"] == "./events/org.wipo.tabridge.activity.updated.v1.schema.json"
    )
    assert message["bindings"]["kafka"]["key"]["type"] == "string"
    headers = document["components"]["schemas"]["CloudEventHeaders"]
    assert {"ce_id", "ce_type", "ce_source", "traceparent"} <= set(headers["properties"])


def _schema() -> dict[str, Any]:
    return contracts.event_schema(ActivityUpdated)


def test_identical_and_additive_schemas_are_compatible() -> None:
    old = _schema()
    assert breaking_changes(old, copy.deepcopy(old)) == []
    new = copy.deepcopy(old)
    new["properties"]["note"] = {"type": "string", "default": ""}
    assert breaking_changes(old, new) == []


def test_removed_retyped_and_newly_required_fields_are_breaking() -> None:
    old = _schema()
    removed = copy.deepcopy(old)
    del removed["properties"]["actor"]
    assert any("actor: removed" in p for p in breaking_changes(old, removed))

    retyped = copy.deepcopy(old)
    retyped["properties"]["version"] = {"type": "string"}
    assert any("version: type changed" in p for p in breaking_changes(old, retyped))

    required = copy.deepcopy(old)
    required["properties"]["note"] = {"type": "string"}
    required["required"] = [*required["required"], "note"]
    assert any("note became required" in p for p in breaking_changes(old, required))


def test_breaking_changes_inside_nested_definitions_are_found() -> None:
    old = _schema()
    new = copy.deepcopy(old)
    enum_def = new["$defs"]["Category"]
    enum_def["enum"] = [*enum_def["enum"], "new_category"]
    problems = breaking_changes(old, new)
    assert any("enumeration changed" in p for p in problems)


def test_check_reports_a_breaking_edit_of_a_checked_in_schema(
    tmp_path: Any, monkeypatch: Any
) -> None:
    events_dir = tmp_path / "events"
    events_dir.mkdir()
    monkeypatch.setattr(contracts, "EVENTS_DIR", events_dir)
    monkeypatch.setattr(contracts, "ASYNCAPI", tmp_path / "asyncapi.yaml")
    monkeypatch.setattr(contracts, "ROOT", tmp_path)
    assert contracts.generate() == 0
    assert contracts.check() == 0
    path = contracts.schema_file(ActivityUpdated)
    stored = json.loads(path.read_text())
    stored["properties"]["legacy_field"] = {"type": "string"}  # the code dropped it
    path.write_text(json.dumps(stored))
    assert contracts.check() == 1

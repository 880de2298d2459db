"""Generate and check `contracts/`: event JSON Schemas and the AsyncAPI 3.0 document.

    python -m tools.contracts generate   # rewrite contracts/ from the code
    python -m tools.contracts check      # fail when code and contracts disagree, saying how

`check` fails when a checked-in schema differs from the code: as a breaking change when
the difference is not backward compatible within the major version (publish a `.v2`
instead), or as "out of date" when it is compatible (run `make contracts`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from shared import Event
from shared.events import ALL_EVENTS, topic_specs
from tools.schema_compat import breaking_changes

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
EVENTS_DIR = CONTRACTS / "events"
ASYNCAPI = CONTRACTS / "asyncapi.yaml"

PRODUCERS = {
    "org.wipo.tabridge.activity": "registry",
    "org.wipo.tabridge.sdg": "sdg-tagger",
    "org.wipo.tabridge.partner": "partner-feed",
    "org.wipo.tabridge.ops": "notifier",
}
CONSUMERS = {
    "tabridge.activity.events": ["sdg-tagger", "partner-feed", "notifier"],
    "tabridge.activity.snapshots": ["partner systems (new subscribers)"],
    "tabridge.sdg.tags": ["registry", "partner-feed", "notifier"],
    "tabridge.partner.records": ["partner systems", "operators"],
    "tabridge.partner.links": ["partner systems", "operators"],
    "tabridge.ops.events": ["operators"],
}


def schema_file(model: type[Event]) -> Path:
    return EVENTS_DIR / f"{model.ce_type()}.schema.json"


def event_schema(model: type[Event]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://ta-bridge.wipo.int/contracts/events/{model.ce_type()}.schema.json",
        "x-cloudevents-type": model.ce_type(),
        "x-topic": model.TOPIC,
        **schema,
    }


def _producer(model: type[Event]) -> str:
    for prefix, service in PRODUCERS.items():
        if model.TYPE.startswith(prefix):
            return service
    return "unknown"


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    specs = {spec.name: spec for spec in topic_specs()}
    for model in ALL_EVENTS:
        name = model.ce_type().removeprefix("org.wipo.tabridge.").replace(".", "_")
        messages[name] = {
            "name": model.ce_type(),
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else "",
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"./events/{model.ce_type()}.schema.json"},
            "bindings": {
                "kafka": {
                    "key": {
                        "type": "string",
                        "description": "The aggregate id (activity id or partner:record id).",
                    },
                    "bindingVersion": "0.5.0",
                }
            },
        }
        channel = channels.setdefault(
            model.TOPIC.replace(".", "_"),
            {
                "address": model.TOPIC,
                "messages": {},
                "bindings": {"kafka": _topic_binding(specs.get(model.TOPIC))},
            },
        )
        channel["messages"][name] = {"$ref": f"#/components/messages/{name}"}
    for channel_id, channel in channels.items():
        producer = sorted(
            {_producer(m) for m in ALL_EVENTS if m.TOPIC.replace(".", "_") == channel_id}
        )
        operations[f"publish_{channel_id}"] = {
            "action": "send",
            "summary": f"Published by {', '.join(producer)}.",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
        operations[f"consume_{channel_id}"] = {
            "action": "receive",
            "summary": "Consumed by "
            + ", ".join(CONSUMERS.get(channel["address"], ["partners"]))
            + ".",
            "channel": {"$ref": f"#/channels/{channel_id}"},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "ta-bridge events",
            "version": "1.0.0",
            "description": (
                "Events exchanged by ta-bridge over Kafka. CloudEvents 1.0 in Kafka binary mode: "
                "attributes in ce_* headers, JSON data in the value, keyed by aggregate id. "
                "The major version is part of the type (…v1); within it changes are additive. "
                "Poison messages go to <topic>.dlq with dlq.* headers."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:19092",
                "protocol": "kafka",
                "description": "deploy/kafka/kafka.sh",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"CloudEventHeaders": _headers_schema()}},
    }


def _topic_binding(spec: Any) -> dict[str, Any]:
    if spec is None:
        return {"bindingVersion": "0.5.0"}
    configs: dict[str, Any] = {"cleanup.policy": ["compact"] if spec.compacted else ["delete"]}
    if spec.retention_ms is not None:
        configs["retention.ms"] = spec.retention_ms
    return {"partitions": spec.partitions, "topicConfiguration": configs, "bindingVersion": "0.5.0"}


def _headers_schema() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
        "properties": {
            "ce_specversion": {"const": "1.0"},
            "ce_id": {
                **text,
                "description": "Unique, stable event id: consumers de-duplicate on it.",
            },
            "ce_source": {
                **text,
                "description": "The producing service, e.g. /ta-bridge/registry.",
            },
            "ce_type": {
                **text,
                "description": "<family>.v<major>, e.g. org.wipo.tabridge.activity.updated.v1",
            },
            "ce_time": {**text, "format": "date-time"},
            "ce_subject": {**text, "description": "The aggregate id."},
            "content-type": {"const": "application/json"},
            "traceparent": {**text, "description": "W3C trace context (also as ce_traceparent)."},
            "tracestate": text,
        },
    }


def _dump_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _dump_yaml(data: dict[str, Any]) -> str:
    header = "# Generated by `make contracts` from shared/events; do not edit by hand.\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def expected_files() -> dict[Path, str]:
    files = {schema_file(m): _dump_json(event_schema(m)) for m in ALL_EVENTS}
    files[ASYNCAPI] = _dump_yaml(asyncapi_document())
    return files


def generate() -> int:
    EVENTS_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in expected_files().items():
        path.write_text(text, encoding="utf-8")
    for stale in EVENTS_DIR.glob("*.schema.json"):
        if stale not in expected_files():
            print(f"note: {stale.relative_to(ROOT)} has no model any more; left in place")
    print(f"wrote {len(expected_files())} contract files")
    return 0


def check() -> int:
    failures: list[str] = []
    expected = expected_files()
    for path, text in expected.items():
        rel = path.relative_to(ROOT)
        if not path.exists():
            failures.append(f"{rel}: missing (run `make contracts` and commit it)")
            continue
        current = path.read_text(encoding="utf-8")
        if current == text:
            continue
        if path.suffix == ".json":
            problems = breaking_changes(json.loads(current), json.loads(text))
            if problems:
                failures.append(
                    f"{rel}: BREAKING change within a major version — publish a new major version "
                    "instead:\n    " + "\n    ".join(problems)
                )
                continue
        failures.append(f"{rel}: out of date with the code (compatible): run `make contracts`")
    for present in EVENTS_DIR.glob("*.schema.json"):
        if present not in expected:
            failures.append(
                f"{present.relative_to(ROOT)}: no model publishes this event any more; "
                "removing a published event is a breaking change"
            )
    if failures:
        print("contracts check FAILED:\n- " + "\n- ".join(failures))
        return 1
    print(f"contracts check: {len(expected)} files agree with the code")
    return 0


def main(argv: list[str]) -> int:
    commands = {"generate": generate, "check": check}
    if len(argv) != 2 or argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[argv[1]]()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""What `make run` prints: progress, one line per webhook, and where to look."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from services.devstack.receiver import Delivery

EVENT_PREFIX = "org.wipo.tabridge."


@dataclass(frozen=True, slots=True)
class Guide:
    """Everything the closing "where to look" section names."""

    urls: dict[str, str]
    registry_key: str
    partner_key: str
    trace_id: str | None
    trace_commands: list[str]
    status_command: str | None
    spans_dir: Path | None
    logs_dir: Path
    activity_id: str | None


class Console:
    """Writes to one stream, flushing each line (the output is watched live)."""

    def __init__(self, stream: TextIO) -> None:
        self._out = stream

    def line(self, text: str = "") -> None:
        self._out.write(text + "\n")
        self._out.flush()

    def step(self, text: str) -> None:
        self.line(f"==> {text}")

    def detail(self, text: str) -> None:
        self.line(f"    {text}")

    def delivery(self, delivery: Delivery) -> None:
        event = delivery.event
        kind = str(event.get("type", "?")).removeprefix(EVENT_PREFIX)
        data = event.get("data")
        state = data.get("state") if isinstance(data, dict) else None
        title = state.get("title", {}).get("en", "") if isinstance(state, dict) else ""
        mark = "verified" if delivery.verified else "SIGNATURE INVALID"
        if delivery.redelivery:
            mark += f" (redelivery {delivery.redelivery})"
        if delivery.duplicate:
            mark += ", already handled: ignored"
        self.line(
            f"    webhook {mark}: {kind} {event.get('subject', '?')}"
            + (f" {title!r}" if title else "")
            + f" (id {delivery.webhook_id}, trace {delivery.trace_id or '-'})"
        )

    def guide(self, guide: Guide) -> None:
        width = max(len(name) for name in guide.urls)
        self.line()
        self.line("ta-bridge is running. Where to look:")
        for name, url in guide.urls.items():
            self.line(f"  {name.ljust(width)}  {url}   ({url}/openapi.json, /readyz, /metrics)")
        self.line(
            f"  API keys: registry admin {guide.registry_key!r}; "
            f"partner-feed and notifier partners {guide.partner_key!r}"
        )
        self.line()
        self.line("Try:")
        for command in _examples(guide):
            self.line(f"  {command}")
        if guide.status_command:
            self.line(f"  {guide.status_command}")
        self.line()
        if guide.trace_id:
            self.line(f"The trace of the demo change ({guide.activity_id}): {guide.trace_id}")
            for command in guide.trace_commands:
                self.line(f"  {command}")
            if guide.spans_dir:
                self.line(f"  grep -h {guide.trace_id} {guide.spans_dir}/*.jsonl")
                self.line(f"  (spans as JSON lines, one file per service, in {guide.spans_dir}/)")
        self.line(f"Service logs: {guide.logs_dir}/<service>.log")
        self.line("Webhooks to the demo receiver are printed below as they arrive.")
        self.line("Press Ctrl-C to stop everything.")


def _examples(guide: Guide) -> Sequence[str]:
    registry, feed = guide.urls["registry"], guide.urls["partner-feed"]
    notifier, tagger = guide.urls["notifier"], guide.urls["sdg-tagger"]
    admin = shlex.quote(f"Authorization: Bearer {guide.registry_key}")
    partner = shlex.quote(f"Authorization: Bearer {guide.partner_key}")
    text = '{"text": "Patent information services for universities and SMEs"}'
    commands = [
        f"curl -s -H {admin} '{registry}/v1/activities?community=EAC&limit=5'",
    ]
    if guide.activity_id:
        commands.append(f"curl -s -H {admin} {registry}/v1/activities/{guide.activity_id}/history")
    commands += [
        f"curl -s '{feed}/v1/feeds/iati.xml' | head -40",
        f"curl -s '{feed}/v1/feeds/tfm.json'",
        f"curl -s -H {partner} {notifier}/v1/subscriptions",
        f"curl -s -X POST {tagger}/v1/tag -H 'Content-Type: application/json' "
        f"-d {shlex.quote(text)}",
    ]
    return commands

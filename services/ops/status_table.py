"""`ta-bridge status` as text: one table of the services, then what needs a closer look.

    SERVICE       STATE  LAG  DLQ  SUMMARY
    registry      ok       0    0  outbox: 0 unpublished
    partner-feed  ok       3    0  2 partners, last import 2026-12-01T19:00:00Z
    notifier      ok       0    1  1 subscription: 40 delivered, 1 failed, 0 pending
    sdg-tagger    down     -    -  Cannot connect to host 127.0.0.1:8084

followed by the partitions that lag, the partners' last imports, the subscriptions'
outcomes, every warning, and a one-line verdict. DLQ counts the dead letters retained in
the topics a service writes to; a topic several services write to (the activity topic's
DLQ) counts for each of them, and `ta-bridge dlq list` says which group wrote which.
Rendering reads only the documents; it tolerates missing fields (an older service) by
showing `-`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.ops.columns import columns
from services.ops.status_client import ServiceReport

__all__ = ["all_well", "render_status"]


def all_well(reports: Sequence[ServiceReport]) -> bool:
    """True when every service is up, `ok`, and reports no warning."""
    return all(report.well for report in reports)


def render_status(reports: Sequence[ServiceReport]) -> str:
    """The whole text of `ta-bridge status` (see the module docstring)."""
    rows = [
        [
            r.service,
            r.state,
            _lag_cell(r.document),
            _dlq_cell(r.document),
            _summary(r),
        ]
        for r in reports
    ]
    lines = columns(rows, header=["SERVICE", "STATE", "LAG", "DLQ", "SUMMARY"], right={2, 3})
    for title, section in (
        ("lagging partitions", _lagging(reports)),
        ("partners", _partners(reports)),
        ("subscriptions", _subscriptions(reports)),
        ("warnings", _warnings(reports)),
    ):
        if section:
            lines.extend(["", f"{title}:", *section])
    lines.extend(["", _verdict(reports)])
    return "\n".join(lines)


def _kafka(document: Mapping[str, Any] | None) -> Mapping[str, Any]:
    kafka = (document or {}).get("kafka")
    return kafka if isinstance(kafka, Mapping) else {}


def _lag_cell(document: Mapping[str, Any] | None) -> str:
    kafka = _kafka(document)
    if not kafka.get("reachable"):
        return "-"
    return str(sum(int(g.get("lag", 0)) for g in kafka.get("consumer_groups", [])))


def _dlq_cell(document: Mapping[str, Any] | None) -> str:
    kafka = _kafka(document)
    if not kafka.get("reachable"):
        return "-"
    return str(sum(int(d.get("depth", 0)) for d in kafka.get("dlq", [])))


def _summary(report: ServiceReport) -> str:
    document = report.document
    if document is None:
        return report.error or "no answer"
    parts = []
    failing = [name for name, ok in document.get("checks", {}).items() if not ok]
    if failing:
        parts.append("failing: " + ", ".join(failing))
    kafka = _kafka(document)
    if kafka and not kafka.get("reachable"):
        parts.append(f"kafka unreadable ({kafka.get('error')})")
    details = document.get("details", {})
    if "outbox" in details:
        outbox = details["outbox"]
        age = outbox.get("oldest_unpublished_age_seconds")
        aged = f", oldest {age:.0f}s" if isinstance(age, int | float) else ""
        parts.append(f"outbox: {outbox.get('backlog', '-')} unpublished{aged}")
    if "partners" in details:
        partners = details["partners"]
        times = [p["last_import"]["received_at"] for p in partners if p.get("last_import")]
        last = f", last import {max(times)}" if times else ", no imports yet"
        parts.append(f"{_plural(len(partners), 'partner')}{last}")
    if "subscriptions" in details:
        subs = details["subscriptions"]
        totals = {
            k: sum(int(s.get(k, 0)) for s in subs) for k in ("delivered", "failed", "pending")
        }
        parts.append(
            f"{_plural(len(subs), 'subscription')}: {totals['delivered']} delivered, "
            f"{totals['failed']} failed, {totals['pending']} pending"
        )
    if "model_id" in details:
        parts.append(f"model {details['model_id']}")
    return "; ".join(parts)


def _lagging(reports: Sequence[ServiceReport]) -> list[str]:
    rows = [
        [
            r.service,
            group.get("group", "-"),
            f"{p.get('topic')}[{p.get('partition')}]",
            f"committed {'-' if p.get('committed') is None else p['committed']}",
            f"end {p.get('end')}",
            f"lag {p.get('lag')}",
        ]
        for r in reports
        for group in _kafka(r.document).get("consumer_groups", [])
        for p in group.get("partitions", [])
        if p.get("lag")
    ]
    return columns(rows, indent="  ")


def _partners(reports: Sequence[ServiceReport]) -> list[str]:
    rows = []
    for r in reports:
        for p in (r.document or {}).get("details", {}).get("partners", []):
            last = p.get("last_import")
            if last is None:
                rows.append([p.get("partner", "-"), "no import yet", "", "", ""])
                continue
            counts = ", ".join(f"{k} {v}" for k, v in sorted(last.get("counts", {}).items()))
            rows.append(
                [
                    p.get("partner", "-"),
                    str(last.get("status", "-")),
                    str(last.get("received_at", "-")),
                    f"report {last.get('report_id', '-')}",
                    counts or "no records",
                ]
            )
    return columns(rows, indent="  ")


def _subscriptions(reports: Sequence[ServiceReport]) -> list[str]:
    rows = []
    for r in reports:
        for s in (r.document or {}).get("details", {}).get("subscriptions", []):
            last = s.get("last_attempt")
            if last is None:
                tail = "no attempt yet"
            else:
                code = last.get("status_code")
                tail = (
                    f"last {last.get('outcome')}"
                    f"{f' (HTTP {code})' if code is not None else ''} at {last.get('at')}"
                )
            rows.append(
                [
                    str(s.get("subscription", "-")),
                    f"{s.get('partner', '-')}/{s.get('status', '-')}",
                    f"delivered {s.get('delivered', 0)}",
                    f"failed {s.get('failed', 0)}",
                    f"pending {s.get('pending', 0)}",
                    tail,
                ]
            )
    return columns(rows, indent="  ")


def _warnings(reports: Sequence[ServiceReport]) -> list[str]:
    """Each warning once, naming every service that reported it (a DLQ topic that several
    services write to is reported by each of them)."""
    by_text: dict[str, list[str]] = {}
    for r in reports:
        for warning in r.warnings:
            by_text.setdefault(warning, []).append(r.service)
    return [f"  {', '.join(services)}: {text}" for text, services in by_text.items()]


def _verdict(reports: Sequence[ServiceReport]) -> str:
    down = [r.service for r in reports if not r.up]
    degraded = [r.service for r in reports if r.state == "degraded"]
    warned = [r.service for r in reports if r.up and r.warnings]
    if not (down or degraded or warned):
        return f"all {len(reports)} services ok"
    parts = []
    if down:
        parts.append("down: " + ", ".join(down))
    if degraded:
        parts.append("degraded: " + ", ".join(degraded))
    if warned:
        parts.append("warnings: " + ", ".join(warned))
    return "; ".join(parts)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"

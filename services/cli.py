"""`ta-bridge`: the operator's command.

    ta-bridge status [--json]                     the four services in one table
    ta-bridge trace <trace-id | activity-id> [--all] [--json]
    ta-bridge dlq list <topic.dlq> [--since TIME] [--limit N] [--json]
    ta-bridge dlq redrive <topic.dlq> [--since TIME] [--limit N] [--group G] [--dry-run] [--json]
    ta-bridge replay --group G --topic T --since TIME [--dry-run] [--json]
    ta-bridge webhooks redrive <subscription-id> [--since TIME] [--key KEY] [--json]
    ta-bridge imports upload <file> --partner P [--format F] [--key KEY] [--json]
    ta-bridge imports decide <import-id> {apply,discard} [--key OPERATOR_KEY] [--json]

Addresses come from `TABRIDGE_{REGISTRY,PARTNER_FEED,NOTIFIER,SDG_TAGGER}_URL` (default
http://127.0.0.1:8081 … 8084), Kafka from `KAFKA_BOOTSTRAP_SERVERS`, spans from
`TABRIDGE_TRACE_DIR` (default var/run/traces); flags override them. TIME is ISO 8601 or an
age (`15m`, `2h`, `3d`). Topic and group names are taken as given (include any namespace,
as `/v1/status` shows them: `staging.notifier`).

Exit codes: 0 all is well / done; 1 something needs attention, was not found or was
refused (the message says which); 2 the command line or the settings are wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from services.ops.columns import columns
from services.ops.dead_letter_table import render_dead_letters
from services.ops.dead_letters import read_dead_letters
from services.ops.imports import ImportRefused, decide_removals, upload_and_follow
from services.ops.moments import InvalidMoment, parse_moment
from services.ops.offset_reset import GroupActive, reset_offsets
from services.ops.progress_bar import ProgressBar
from services.ops.redrive import redrive
from services.ops.settings import OpsSettings
from services.ops.spans import read_spans
from services.ops.status_client import fetch_statuses
from services.ops.status_table import all_well, render_status
from services.ops.trace_tree import (
    render_trace,
    spans_of_trace,
    trace_json,
    traces_of_activity,
)
from services.ops.webhooks import RedriveRefused, redrive_webhooks
from shared import KafkaTransport, SettingsError, TaBridgeError, load_settings

__all__ = ["build_parser", "main"]

_TRACE_ID_LENGTH = 32


REPLAY_HINT = (
    "ta-bridge: the group's offsets can only move while none of its consumers runs. "
    "Under `make run`: see the moves first with --dry-run (allowed while it runs), stop "
    "make run (Ctrl-C), run this command again, then `make run`: the stores and the broker's "
    "data are kept, so {group} resumes from the moved offsets."
)


def _moment(text: str) -> datetime:
    try:
        return parse_moment(text)
    except InvalidMoment as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ta-bridge", description="Operate ta-bridge: status, traces, DLQs, replays."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    status = commands.add_parser("status", help="the status of the four services")
    for name in ("registry", "partner-feed", "notifier", "sdg-tagger"):
        status.add_argument(f"--{name}", metavar="URL", help=f"base URL of {name}")
    status.add_argument("--timeout", type=float, default=10.0, help="seconds per service")
    status.add_argument("--json", action="store_true", help="print the documents as JSON")

    trace = commands.add_parser("trace", help="a trace, as a tree across the services")
    trace.add_argument("id", help="a trace id (32 hex digits) or an activity id")
    trace.add_argument("--dir", help="the span directory (default: TABRIDGE_TRACE_DIR)")
    trace.add_argument("--all", action="store_true", help="every trace of the activity")
    trace.add_argument("--json", action="store_true")

    dlq = commands.add_parser("dlq", help="dead-letter topics").add_subparsers(
        dest="action", required=True
    )
    for action, text in (("list", "peek (commits nothing)"), ("redrive", "re-publish")):
        sub = dlq.add_parser(action, help=text)
        sub.add_argument("topic", help="the dead-letter topic, e.g. tabridge.sdg.tags.dlq")
        sub.add_argument("--since", type=_moment, help="only dead letters written since TIME")
        sub.add_argument("--limit", type=int, default=50 if action == "list" else None)
        sub.add_argument("--bootstrap", help="Kafka (default: KAFKA_BOOTSTRAP_SERVERS)")
        sub.add_argument("--json", action="store_true")
        if action == "redrive":
            sub.add_argument("--dry-run", action="store_true", help="say what, write nothing")
            sub.add_argument(
                "--group",
                help="only the dead letters of this consumer group (its id as /v1/status shows it)",
            )

    replay = commands.add_parser("replay", help="reset a stopped group's offsets to a time")
    replay.add_argument("--group", required=True)
    replay.add_argument("--topic", required=True)
    replay.add_argument("--since", type=_moment, required=True)
    replay.add_argument("--dry-run", action="store_true")
    replay.add_argument("--bootstrap")
    replay.add_argument("--json", action="store_true")

    hooks = commands.add_parser("webhooks", help="webhook deliveries").add_subparsers(
        dest="action", required=True
    )
    again = hooks.add_parser("redrive", help="queue a subscription's failed deliveries again")
    again.add_argument("subscription")
    again.add_argument("--since", type=_moment, help="every delivery accepted since TIME")
    again.add_argument("--key", help="the partner's API key (default: TABRIDGE_NOTIFIER_API_KEY)")
    again.add_argument("--notifier", metavar="URL")
    again.add_argument("--json", action="store_true")

    imports = commands.add_parser("imports", help="partner-feed imports").add_subparsers(
        dest="action", required=True
    )
    up = imports.add_parser("upload", help="upload a partner export, with a progress bar")
    up.add_argument("file", type=Path)
    up.add_argument("--partner", required=True, help="the partner id")
    up.add_argument("--format", help="iati, tfm-json, tfm-csv, ... (default: the partner's)")
    up.add_argument("--key", help="the partner's key (default: TABRIDGE_PARTNER_FEED_API_KEY)")
    up.add_argument("--partner-feed", metavar="URL")
    up.add_argument("--json", action="store_true", help="print the final report as JSON")
    decide = imports.add_parser("decide", help="apply or discard an import's held removals")
    decide.add_argument("import_id")
    decide.add_argument("decision", choices=["apply", "discard"])
    decide.add_argument("--key", help="operator key (default: TABRIDGE_OPERATOR_KEY)")
    decide.add_argument("--partner-feed", metavar="URL")
    decide.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(OpsSettings)
    except SettingsError as exc:
        print(f"ta-bridge: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args, settings))
    except (TaBridgeError, RedriveRefused, ImportRefused) as exc:
        print(f"ta-bridge: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _run(args: argparse.Namespace, settings: OpsSettings) -> int:
    if args.command == "status":
        return await _status(args, settings)
    if args.command == "trace":
        return _trace(args, settings)
    if args.command == "dlq":
        return await _dlq(args, settings)
    if args.command == "replay":
        return await _replay(args, settings)
    if args.command == "imports":
        return await _imports(args, settings)
    return await _webhooks(args, settings)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


async def _status(args: argparse.Namespace, settings: OpsSettings) -> int:
    urls = {
        name: getattr(args, name.replace("-", "_")) or url
        for name, url in settings.service_urls().items()
    }
    reports = await fetch_statuses(urls, seconds=args.timeout, operator_key=settings.operator_key)
    if args.json:
        _print_json({"well": all_well(reports), "services": [r.as_json() for r in reports]})
    else:
        print(render_status(reports))
    return 0 if all_well(reports) else 1


def _trace(args: argparse.Namespace, settings: OpsSettings) -> int:
    directory = Path(args.dir or settings.trace_dir or "var/run/traces")
    read = read_spans(directory)
    wanted = args.id.strip().lower()
    is_trace_id = len(wanted) == _TRACE_ID_LENGTH and all(c in "0123456789abcdef" for c in wanted)
    if is_trace_id and any(s.trace_id == wanted for s in read.spans):
        trace_ids = [wanted]
    else:
        trace_ids = traces_of_activity(read.spans, args.id.strip())
        trace_ids = trace_ids if args.all else trace_ids[-1:]
    if not trace_ids:
        where = ", ".join(p.name for p in read.files) or "no *.jsonl files"
        print(f"ta-bridge: no trace {args.id!r} in {directory} ({where})", file=sys.stderr)
        return 1
    by_trace = {t: spans_of_trace(read.spans, t) for t in trace_ids}
    if args.json:
        _print_json([trace_json(t, spans) for t, spans in by_trace.items()])
    else:
        print("\n\n".join(render_trace(t, spans) for t, spans in by_trace.items()))
    if read.skipped_lines:
        print(f"({read.skipped_lines} unreadable line(s) skipped)", file=sys.stderr)
    return 0


async def _dlq(args: argparse.Namespace, settings: OpsSettings) -> int:
    bootstrap = args.bootstrap or settings.kafka_bootstrap_servers
    letters = await read_dead_letters(bootstrap, args.topic, since=args.since, limit=args.limit)
    if args.action == "list":
        if args.json:
            _print_json([d.as_json() for d in letters])
        else:
            print(render_dead_letters(args.topic, letters))
        return 0
    if args.group:
        letters = [d for d in letters if d.header("dlq.consumer.group") == args.group]
    kafka = KafkaTransport(bootstrap)
    producer = kafka.producer(client_id="ta-bridge-redrive")
    await producer.start()
    try:
        report = await redrive(letters, producer, cluster=kafka, dry_run=args.dry_run)
    finally:
        await producer.stop()
    if args.json:
        _print_json({"dry_run": args.dry_run, **report.as_json()})
    else:
        verb = "would redrive" if args.dry_run else "redrove"
        targets = sorted({t for _, t in report.redriven})
        print(f"{verb} {len(report.redriven)} of {len(letters)} dead letter(s) of {args.topic}")
        for target in targets:
            n = sum(1 for _, t in report.redriven if t == target)
            print(f"  {n} to {target}")
        if report.merged:
            print(f"  {len(report.merged)} merged: a group's copies of one record, redriven once")
        for letter, reason in report.skipped:
            print(f"  skipped {letter.partition}@{letter.offset}: {reason}")
    return 0 if not report.skipped else 1


async def _replay(args: argparse.Namespace, settings: OpsSettings) -> int:
    bootstrap = args.bootstrap or settings.kafka_bootstrap_servers
    try:
        moves = await reset_offsets(
            bootstrap, args.group, args.topic, args.since, dry_run=args.dry_run
        )
    except GroupActive as exc:
        print(f"ta-bridge: {exc}", file=sys.stderr)
        print(REPLAY_HINT.format(group=args.group), file=sys.stderr)
        return 1

    if args.json:
        _print_json(
            {
                "group": args.group,
                "topic": args.topic,
                "since": args.since.isoformat(),
                "dry_run": args.dry_run,
                "partitions": [m.as_json() for m in moves],
            }
        )
        return 0
    verb = "would move" if args.dry_run else "moved"
    print(f"{verb} {args.group} on {args.topic} to {args.since.isoformat()}:")
    rows = [
        [
            f"[{m.partition}]",
            "-" if m.before is None else str(m.before),
            "->",
            str(m.after),
            f"({m.end - m.after} to read)",
        ]
        for m in moves
    ]
    print("\n".join(columns(rows, indent="  ", right={1, 3})))
    return 0


async def _webhooks(args: argparse.Namespace, settings: OpsSettings) -> int:
    key = args.key or settings.notifier_api_key
    if not key:
        print("ta-bridge: give --key or set TABRIDGE_NOTIFIER_API_KEY", file=sys.stderr)
        return 2
    result = await redrive_webhooks(
        args.notifier or settings.notifier_url, args.subscription, api_key=key, since=args.since
    )
    if args.json:
        _print_json(result.as_json())
    else:
        print(f"queued {result.redriven} delivery(ies) of {result.subscription} again")
        for webhook_id in result.webhook_ids:
            print(f"  {webhook_id}")
    return 0


def _summary_line(report: dict[str, Any]) -> str:
    counts = report.get("counts", {})
    parts = ", ".join(
        f"{counts.get(k, 0)} {k}"
        for k in ("new", "changed", "unchanged", "quarantined", "duplicates", "removed")
    )
    status, records = report.get("status"), counts.get("records", 0)
    return f"import {report.get('id')}: {status}, {records} records ({parts})"


async def _imports(args: argparse.Namespace, settings: OpsSettings) -> int:
    url = args.partner_feed or settings.partner_feed_url
    if args.action == "decide":
        key = args.key or settings.operator_key
        if not key:
            print("ta-bridge: give --key or set TABRIDGE_OPERATOR_KEY", file=sys.stderr)
            return 2
        report = await decide_removals(url, args.import_id, args.decision, key=key)
        if args.json:
            _print_json(report)
        else:
            print(_summary_line(report))
        return 0
    key = args.key or settings.partner_feed_api_key
    if not key:
        print("ta-bridge: give --key or set TABRIDGE_PARTNER_FEED_API_KEY", file=sys.stderr)
        return 2
    if not args.file.is_file():
        print(f"ta-bridge: no file {args.file}", file=sys.stderr)
        return 2
    size = args.file.stat().st_size
    sending = ProgressBar(sys.stderr, label="upload")
    importing = ProgressBar(sys.stderr, label="import")

    def progress(report: dict[str, Any]) -> None:
        p = report.get("progress") or {}
        total = float(p.get("bytes_total") or size)
        phase = p.get("phase", "queued")
        detail = f"{p.get('records', 0)} records, {p.get('published', 0)} events ({phase})"
        if report.get("status") == "running":
            importing.update(float(p.get("bytes", 0)), total, detail)
        else:
            importing.finish(float(p.get("bytes", total)), total, detail)

    report = await upload_and_follow(
        url,
        args.file,
        partner=args.partner,
        key=key,
        source_format=args.format,
        on_sent=lambda n: sending.finish(n, size) if n >= size else sending.update(n, size),
        on_progress=progress,
    )
    if args.json:
        _print_json(report)
    else:
        print(_summary_line(report))
        if report.get("fatal"):
            print(f"  fatal: {report['fatal'].get('code')}: {report['fatal'].get('message')}")
        held = report.get("held_removals")
        if report.get("status") == "held" and held:
            print(
                f"  held: {held['records']} of the partner's {held['existing']} records would be "
                f"removed (more than {held['share']:.0%}); an operator decides with "
                f"`ta-bridge imports decide {report.get('id')} apply|discard`"
            )
    return 0 if report.get("status") == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())

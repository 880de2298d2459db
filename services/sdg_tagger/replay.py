"""Re-tag every activity after a model change: replay the activity topic from the start.

    python -m services.sdg_tagger.replay [--group NAME] [--timeout SECONDS] [--var DIR]

Runs the service's own consumer (same handlers, same store, same topics)
in a fresh consumer group, `sdg-tagger-replay-<UTC time>` unless `--group` names one,
which reads the activity topic from its first offset. It stops once it has handled every
record that was on the topic when it started, and prints a JSON summary.

The store is the one of the stack `make run` keeps (`var/run/sdg-tagger.db`), unless
`TAGGER_DB_PATH` or `--var DIR` names another, or `DATABASE_URL` selects PostgreSQL (it is
named on stderr): with an empty store
every result would count as changed. It emits a tags event only where the new model's
result differs from the last one emitted for the activity's current version (see
`emission`); older versions and withdrawn activities emit nothing. It may run while the
service runs (under `make run` too): both share the store, and the service's own group
offsets are left untouched.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from aiohttp import web

from services.sdg_tagger.app import create_app
from services.sdg_tagger.settings import TaggerSettings
from services.sdg_tagger.state import METRICS
from services.sdg_tagger.tagger import SdgTagger
from shared import (
    READINESS,
    KafkaTransport,
    Observability,
    Transport,
    build_observability,
    load_settings,
)
from shared._state_dir import store_path
from shared.events import ACTIVITY_EVENTS, SDG_TAGS, namespaced

__all__ = ["ReplayIncomplete", "ReplaySummary", "main", "replay"]


class ReplayIncomplete(Exception):
    """The replay stopped before it caught up (deadline passed, or the consumer halted)."""


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    group: str
    records: int
    emitted: int
    unchanged: int
    stale: int
    withdrawn: int
    tags_topic: str


def fresh_group(base: str) -> str:
    return f"{base}-replay-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"


async def replay(
    settings: TaggerSettings,
    *,
    transport: Transport | None = None,
    observability: Observability | None = None,
    tagger: SdgTagger | None = None,
    group_id: str | None = None,
    within: float = 3600.0,
    poll_interval: float = 0.2,
) -> ReplaySummary:
    """Replay the activity topic in a fresh group until caught up; see the module docstring.

    Raises:
        ReplayIncomplete: the deadline passed or the consumer stopped first (what was
            handled until then stays handled; running the replay again is safe).
    """
    group = settings.namespaced_group(group_id or fresh_group(settings.group_id))
    obs = observability or build_observability("sdg-tagger-replay", settings)
    kafka = transport or KafkaTransport(settings.kafka_bootstrap_servers)
    app = create_app(settings, transport=kafka, observability=obs, tagger=tagger, group_id=group)
    topic = namespaced(ACTIVITY_EVENTS, settings.topic_namespace)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        ends = {tp: end for tp, end in (await kafka.end_offsets([topic])).items() if end > 0}
        consumer_running = app[READINESS][f"consumer:{group}"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            committed = await kafka.group_offsets(group)
            if all(committed.get(tp, 0) >= end for tp, end in ends.items()):
                break
            if not await consumer_running():
                raise ReplayIncomplete(f"the replay consumer of {group} stopped early")
            if loop.time() >= deadline:
                raise ReplayIncomplete(f"{group} did not catch up within {within}s")
            await asyncio.sleep(poll_interval)
    finally:
        await runner.cleanup()
    metrics = app[METRICS]
    return ReplaySummary(
        group=group,
        records=sum(ends.values()),
        emitted=int(metrics.count("emitted")),
        unchanged=int(metrics.count("unchanged")),
        stale=int(metrics.count("stale")),
        withdrawn=int(metrics.count("withdrawn")),
        tags_topic=namespaced(SDG_TAGS, settings.topic_namespace),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.sdg_tagger.replay",
        description="Re-tag every activity (after a model change) by replaying the activity "
        "topic from the start in a fresh consumer group; emits only changed results.",
    )
    parser.add_argument("--group", help="consumer group to use (default: a fresh one)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds (default 3600)")
    parser.add_argument(
        "--var",
        metavar="DIR",
        help="state directory of the stack (default: var/run, where make run keeps it)",
    )
    args = parser.parse_args(argv)
    settings = load_settings(TaggerSettings)
    path = store_path("sdg-tagger.db", variable="TAGGER_DB_PATH", var=args.var)
    settings = settings.model_copy(update={"db_path": path})
    where = "PostgreSQL (DATABASE_URL)" if settings.database_url else path
    print(f"# store: {where}", file=sys.stderr)

    try:
        summary = asyncio.run(replay(settings, group_id=args.group, within=args.timeout))
    except ReplayIncomplete as exc:
        print(json.dumps({"status": "incomplete", "reason": str(exc)}), file=sys.stderr)
        return 1
    print(json.dumps({"status": "done", **asdict(summary)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

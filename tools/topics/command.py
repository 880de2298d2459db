"""The `python -m tools.topics plan|apply|wait` command: topics brought to the definitions.

    python -m tools.topics plan  --profile local          # print the diff, change nothing
    python -m tools.topics apply --profile production     # create / reconfigure, idempotent
    python -m tools.topics wait  --timeout 300            # block until every topic exists

The cluster is `KAFKA_BOOTSTRAP_SERVERS` (or `--bootstrap-servers`), the namespace
`TABRIDGE_TOPIC_NAMESPACE` (or `--namespace`). The profile defaults to `production`
(RF 3, min ISR 2), so on a single broker a forgotten `--profile local` fails loudly
instead of quietly creating unreplicated production topics. Each consumer group has a
retry topic, `<namespace>.tabridge.retry.<group>`, where `ta-bridge dlq redrive` writes its dead
letters; `--group` names the groups (default: the services' default group names).

Exit codes: 0 done / in sync; 1 the cluster refused or could not be reached, or topics
still differed after a few apply rounds; 2 (`plan`) apply would change something; 3
(`apply`) a change was blocked (partition increase without `--allow-partition-increase`);
4 (`wait`) topics still missing at the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TextIO

from aiokafka.errors import KafkaError

from shared import CommonSettings, SettingsError, load_settings
from shared.events import SERVICE_GROUPS
from tools.topics.cluster import ClusterRefused, connect
from tools.topics.plan import make_plan
from tools.topics.profiles import PROFILE_NAMES, desired_topics, profile

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CHANGES_PENDING = 2
EXIT_BLOCKED = 3
EXIT_STILL_MISSING = 4
# Apply, re-read, apply what raced in: a few rounds, then give up and say what differs.
_APPLY_ROUNDS = 3


def parser() -> argparse.ArgumentParser:
    """The command line: `command` plus the options of the module docstring."""
    cli = argparse.ArgumentParser(prog="python -m tools.topics", description=__doc__)
    cli.add_argument("command", choices=("plan", "apply", "wait"))
    cli.add_argument("--profile", choices=PROFILE_NAMES, default="production")
    cli.add_argument("--replication-factor", type=int, default=None)
    cli.add_argument("--min-insync-replicas", type=int, default=None)
    cli.add_argument("--namespace", default=None, help="default: TABRIDGE_TOPIC_NAMESPACE")
    cli.add_argument("--bootstrap-servers", default=None, help="default: KAFKA_BOOTSTRAP_SERVERS")
    cli.add_argument(
        "--group",
        action="append",
        default=None,
        metavar="NAME",
        help="a consumer group (within the namespace) whose retry topic to manage; repeat for "
        f"more (default: the services' own, {', '.join(SERVICE_GROUPS)})",
    )
    cli.add_argument(
        "--allow-partition-increase",
        action="store_true",
        help="apply: also add partitions (moves keys; see the README before using)",
    )
    cli.add_argument("--timeout", type=float, default=30.0, help="seconds (wait: overall)")
    return cli


async def run(args: argparse.Namespace, settings: CommonSettings, out: TextIO) -> int:
    """Carry out one parsed command against the cluster; returns the exit code."""
    chosen = profile(
        args.profile,
        replication_factor=args.replication_factor,
        min_insync_replicas=args.min_insync_replicas,
    )
    namespace = settings.topic_namespace if args.namespace is None else args.namespace
    bootstrap = args.bootstrap_servers or settings.kafka_bootstrap_servers
    desired = desired_topics(chosen, namespace, args.group or SERVICE_GROUPS)
    async with connect(bootstrap, request_timeout=min(args.timeout, 30.0)) as admin:
        if args.command == "wait":
            missing = await admin.wait_for([s.name for s in desired], within=args.timeout)
            for name in sorted(missing):
                print(f"missing {name}", file=out)
            return EXIT_STILL_MISSING if missing else EXIT_OK
        plan = make_plan(desired, await admin.observe([s.name for s in desired]))
        print(
            f"# {len(desired)} topics, profile {chosen.name} (replication "
            f"{chosen.replication_factor}, min ISR {chosen.min_insync_replicas}), "
            f"namespace {namespace or '(none)'}, cluster {bootstrap}",
            file=out,
        )
        for line in plan.lines():
            print(line, file=out)
        if args.command == "plan":
            print("# in sync" if plan.in_sync else "# apply would change the above", file=out)
            return EXIT_OK if plan.in_sync else EXIT_CHANGES_PENDING
        allow = args.allow_partition_increase
        for _ in range(_APPLY_ROUNDS):
            if plan.in_sync or (not plan.creates and not plan.alters and not allow):
                break
            await admin.apply(plan, allow_partition_increase=allow)
            # Re-read: a topic someone else created meanwhile (a service starting) was
            # skipped by the create, and its configs still need the next round.
            plan = make_plan(desired, await admin.observe([s.name for s in desired]))
        if plan.creates or plan.alters or (plan.partitions and allow):
            for line in plan.lines():
                print(f"# still different: {line}", file=out)
            return EXIT_FAILED
        if plan.partitions:
            print("# applied; partition increases blocked (see > lines)", file=out)
            return EXIT_BLOCKED
        print("# in sync", file=out)
        return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the command, report errors on stderr; returns the exit code."""
    args = parser().parse_args(argv)
    try:
        settings = load_settings(CommonSettings)
        return asyncio.run(run(args, settings, sys.stdout))
    except (ClusterRefused, SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except (TimeoutError, OSError, KafkaError) as exc:
        print(f"error: Kafka not reachable or failing: {exc!r}", file=sys.stderr)
    return EXIT_FAILED

"""`python -m services.run` (`make run`): the whole system on one machine, with demo data.

In order: a Kafka broker (the configured one if it answers, else the local one from
deploy/kafka, which is then stopped on exit); the four services as child processes, state
under `var/run/` (SQLite files, `logs/<service>.log`, `traces/<service>.jsonl`), each
waited on until `/readyz` answers 200 (the services create their topics at start-up); then
the demo: a registry admin key, a webhook receiver on a free loopback port subscribed to
the EAC at the notifier, the demo activities, a partner import of the shipped files, and one
traced change. Then it prints where to look, and one line per verified webhook.

A service that crashes is started again after a backoff (0.5 s doubling to 30 s, reset
after 10 s of stable running; `TABRIDGE_RESTART_*`), and each restart is printed.
SIGINT, SIGTERM or SIGHUP stops everything in reverse order within
`TABRIDGE_STOP_DEADLINE` seconds, and so does a parent that is stopping (`make` sent a
signal on its own, the terminal closed): see `services.devstack.parent`. State persists
between runs (see `services.devstack.state`); `make reset` clears it. The exit status is 0
when every child stopped cleanly, 1 otherwise or when start-up failed (the message says
why), 2 for invalid settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

import aiohttp

from services.devstack import (
    Broker,
    Stack,
    StackConfig,
    StackError,
    WebhookReceiver,
    apply_topics,
    build_env,
    ensure_broker,
)
from services.devstack.demo.console import Console, Guide
from services.devstack.demo.keys import DemoKeys, ensure_registry_key
from services.devstack.demo.operator import status_command, trace_commands
from services.devstack.demo.walkthrough import demo
from services.devstack.parent import ParentWatch, request_death_signal
from services.devstack.settings import RunSettings
from services.devstack.source import DemoSource, partners_with_sources
from services.devstack.state import (
    broker_has_data,
    local_broker_env,
    set_aside_stores,
)
from shared import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "deploy" / "demo-data"


def _shown(path: Path) -> Path:
    """`path` relative to the checkout when it lies inside it (shorter to read and paste)."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


#: The demo partner whose export is pulled from the local `DemoSource` (its file).
PULLED = {"tfm": "tfm-export.json"}
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def state_dir(settings: RunSettings) -> Path:
    return ROOT / settings.state_dir  # an absolute setting stays as it is


def stack_config(
    settings: RunSettings,
    *,
    broker: Broker,
    receiver: WebhookReceiver,
    env: Mapping[str, str],
    partners: Path,
) -> StackConfig:
    state = state_dir(settings)
    trace_dir: Path | None = None
    if not settings.otel_exporter_otlp_endpoint:
        trace_dir = ROOT / settings.trace_dir if settings.trace_dir else state / "traces"
    return StackConfig(
        root=ROOT,
        state_dir=state,
        bootstrap_servers=broker.bootstrap_servers,
        trace_dir=trace_dir,
        namespace=settings.topic_namespace,
        log_level=settings.log_level,
        ports=settings.ports(),
        overrides={
            "partner-feed": {"FEED_PARTNERS": str(partners)},
            "notifier": {
                "NOTIFIER_PARTNER_KEYS": str(DEMO / "notifier-partners.json"),
                "NOTIFIER_ALLOWLIST": ",".join(
                    [f"{receiver.host}:{receiver.port}", *settings.dev_allowlist()]
                ),
            },
        },
        # The demo's operator key (TABRIDGE_OPERATOR_KEYS), unless the operator set theirs.
        base_env={"TABRIDGE_OPERATOR_KEYS": DemoKeys().operator, **env},
    )


async def session(
    settings: RunSettings,
    env: Mapping[str, str],
    console: Console,
    exits: contextlib.AsyncExitStack,
) -> None:
    """Bring everything up and run the demo; return only if a service exits on its own.

    Every resource is registered on `exits` as it is acquired, so unwinding it (after a
    signal, or an error) stops what was started, in reverse order.
    """
    keys = DemoKeys()
    receiver = WebhookReceiver(on_delivery=console.delivery)
    await receiver.start()
    exits.push_async_callback(receiver.stop)

    source = DemoSource(DEMO / "partners")
    await source.start()
    exits.push_async_callback(source.stop)

    state = state_dir(settings)
    console.step(f"Kafka at {settings.kafka_bootstrap_servers}")
    broker_env = local_broker_env(state, env)
    kept = broker_has_data(broker_env)
    broker = await ensure_broker(
        settings.kafka_bootstrap_servers, script=ROOT / "deploy/kafka/kafka.sh", env=broker_env
    )
    if broker.started:
        console.detail(
            f"nothing answered: started the local broker, data in {_shown(state / 'kafka')} "
            f"({'kept from the last run' if kept else 'new'}; stopped again on exit)"
        )
        exits.push_async_callback(_stop_broker, broker, console)
        if not kept and (aside := set_aside_stores(state)) is not None:
            console.detail(
                f"the broker's data was gone: the last run's stores moved to {_shown(aside)}"
            )
    else:
        console.detail("a broker answers: using it")

    partners = partners_with_sources(
        DEMO / "partners" / "partners.json",
        {partner: source.url(name) for partner, name in PULLED.items()},
        state / "feed-partners.json",
    )
    config = stack_config(settings, broker=broker, receiver=receiver, env=env, partners=partners)
    stack = Stack(
        config,
        restart=settings.restart_policy(),
        on_restart=lambda restart: console.detail(f"restarted: {restart.describe()}"),
    )
    registry_env = build_env(config, stack.spec("registry"))
    applying = asyncio.create_task(apply_topics(config), name="topics")  # meanwhile: the key
    try:
        key_created = await ensure_registry_key(
            keys, python=config.python, cwd=ROOT, env=registry_env
        )
        topics = await applying
    except BaseException:
        applying.cancel()
        await asyncio.gather(applying, return_exceptions=True)
        raise
    console.detail(f"topics: {topics.summary}")
    if key_created:
        console.step(f"registry API key {keys.registry_name!r} created (scopes read,write,admin)")
    console.step(
        f"starting {', '.join(s.name for s in stack.specs)} (state in {_shown(config.state_dir)})"
    )
    exits.push_async_callback(_stop_stack, stack, console, settings.stop_deadline_seconds)
    await stack.start(ready_timeout=settings.ready_timeout_seconds)
    for spec in stack.specs:
        console.detail(f"{spec.name.ljust(12)} ready at {config.url(spec)}")

    http = await exits.enter_async_context(aiohttp.ClientSession())
    change = await demo(stack, receiver, keys, data=DEMO, http=http, console=console, exits=exits)
    spans_dir = config.trace_dir
    console.guide(
        Guide(
            urls={spec.name: config.url(spec) for spec in stack.specs},
            registry_key=keys.registry,
            partner_key=keys.partner,
            trace_id=change.trace_id,
            trace_commands=trace_commands(
                [change.trace_id, change.activity_id], spans_dir, root=ROOT
            ),
            status_command=status_command(stack),
            spans_dir=_shown(spans_dir) if spans_dir else None,
            logs_dir=_shown(config.state_dir / "logs"),
            activity_id=change.activity_id,
        )
    )
    name = await stack.watch()
    raise StackError(
        f"{name} exited on its own and could not be restarted; "
        f"see {_shown(config.log_path(stack.spec(name)))}"
    )


async def _stop_stack(stack: Stack, console: Console, deadline: float) -> None:
    console.step("stopping the services (notifier first, registry last)")
    statuses = await stack.stop(deadline=deadline)
    for name, status in statuses.items():
        console.detail(f"{name} exited with status {status}")
    unclean = [name for name, status in statuses.items() if status != 0]
    if unclean:
        raise StackError(f"{', '.join(unclean)} did not stop cleanly; see their logs")


async def _stop_broker(broker: Broker, console: Console) -> None:
    console.step("stopping the local Kafka broker we started")
    await broker.stop()


async def run(settings: RunSettings, *, env: Mapping[str, str], console: Console) -> int:
    """Run until SIGINT/SIGTERM (or a failure); the process exit status."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stopping.set)
    request_death_signal()
    watch = asyncio.create_task(ParentWatch(stopping).run(), name="parent-watch")
    try:
        async with contextlib.AsyncExitStack() as exits:
            work = asyncio.create_task(session(settings, env, console, exits), name="session")
            stop = asyncio.create_task(stopping.wait(), name="stop-signal")
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            await asyncio.gather(stop, return_exceptions=True)
            if not work.done():
                why = watch.result() if watch.done() else None
                console.step(f"stopping: {why}" if why else "signal received")
                work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
    except StackError as exc:
        console.line(f"error: {exc}")
        return 1
    except aiohttp.ClientError as exc:
        console.line(f"error: a service stopped answering ({exc}); see its log in var/run/logs/")
        return 1
    finally:
        watch.cancel()
        await asyncio.gather(watch, return_exceptions=True)
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    console.step("stopped")
    return 0


def main() -> None:
    console = Console(sys.stdout)
    try:
        settings = load_settings(RunSettings)
    except SettingsError as exc:
        console.line(f"error: {exc}")
        sys.exit(2)
    sys.exit(asyncio.run(run(settings, env=dict(os.environ), console=console)))


if __name__ == "__main__":
    main()

"""Process lifecycle on aiohttp's runner: resources as cleanup contexts, one signal handler.

`serve()` runs an application until SIGINT or SIGTERM. aiohttp then stops accepting
requests and unwinds the cleanup contexts in reverse order: consumer runners stop fetching,
drain and commit; then publishers flush; then stores close.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from aiohttp import web

from shared._consumer import ConsumerRunner
from shared._errors import DlqLimitExceeded
from shared._http import LOGGER, READINESS
from shared._parser_errors import ProblemAppRunner
from shared._producer import EventPublisher
from shared._transport import TopicSpec, Transport

__all__ = ["CleanupContext", "consumer_context", "publisher_context", "serve", "topics_context"]

CleanupContext = Callable[[web.Application], AsyncIterator[None]]


def topics_context(
    kafka: Transport, specs: Sequence[TopicSpec], *, create: bool = True, timeout: float = 30.0
) -> CleanupContext:
    """Report the broker in readiness and, with `create`, make the missing topics before
    the app serves.

    Never fails start-up: when the broker is down the warning is logged, readiness says
    `kafka` is down, and consumers and publishers connect once it is back. In production
    the topics are applied beforehand (`python -m tools.topics apply`, with replication)
    and `create` is off (`TABRIDGE_CREATE_TOPICS=false`).
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        app[READINESS]["kafka"] = kafka.ping
        if not create:
            yield
            return
        try:
            await asyncio.wait_for(kafka.ensure_topics(specs), timeout)
        except Exception as exc:
            app[LOGGER].warning("could not ensure topics at start", error=str(exc))
        yield

    return context


def publisher_context(
    key: web.AppKey[EventPublisher],
    build: Callable[[web.Application], EventPublisher],
    *,
    close_timeout: float = 10.0,
) -> CleanupContext:
    """Start a publisher before the app serves; flush and stop it after, within
    `close_timeout` seconds (whatever the broker does)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        publisher = build(app)
        await publisher.start()
        app[key] = publisher
        yield
        try:
            await asyncio.wait_for(publisher.close(), close_timeout)
        except TimeoutError:
            # Unacknowledged sends stay unacknowledged: their sources (the outbox, the
            # uncommitted consumer offsets) send them again on the next start.
            app[LOGGER].error("publisher did not flush in time; closing abandoned")

    return context


def consumer_context(
    key: web.AppKey[ConsumerRunner],
    build: Callable[[web.Application], ConsumerRunner],
    *,
    drain_timeout: float = 15.0,
) -> CleanupContext:
    """Run a consumer runner as a stored background task; stop, drain and await it on exit.

    Readiness reports the runner ready once it holds partitions and while it is running.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        runner = build(app)
        app[key] = runner
        log = app[LOGGER]
        task = asyncio.create_task(runner.run(), name=f"consumer:{runner.group_id}")

        async def ready() -> bool:
            return not task.done()

        app[READINESS][f"consumer:{runner.group_id}"] = ready
        yield
        runner.stop()
        done, _ = await asyncio.wait({task}, timeout=drain_timeout)
        if not done:
            log.error("consumer did not stop in time; cancelling", group=runner.group_id)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=5.0)
            if not done:
                log.error("consumer ignored its cancellation; left behind", group=runner.group_id)
                return
        with contextlib.suppress(asyncio.CancelledError, DlqLimitExceeded):
            await task

    return context


def settle_heap(gen0_threshold: int = 20_000) -> None:
    """Tune the cyclic garbage collector for an event service, once start-up is done.

    What start-up built (modules, models, the app) is frozen out of the collector's way, and
    the young generation is collected every `gen0_threshold` allocations instead of 700: an
    event path allocates many short-lived containers per record (headers, envelopes,
    contexts, futures), and with the default threshold the collector ran every few records
    and cost ~15 % of the shared runner's CPU (`make bench-transport`, see runner-note.md).
    Cycles are still collected; only less often.
    """
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0_threshold, 1), gen1, gen2)


async def _settle_heap(app: web.Application) -> None:
    settle_heap()


def serve(
    app: web.Application | Awaitable[web.Application],
    *,
    host: str,
    port: int,
    shutdown_timeout: float = 20.0,
    header_timeout: float = 15.0,
) -> None:
    """Serve until SIGINT/SIGTERM, then shut down in order (see the module docstring).

    Once every cleanup context has started, the heap is settled (`settle_heap`).

    A connection that has not sent a complete request head within `header_timeout`
    seconds of opening (or of its last response) is closed: slow-header clients cannot
    hold connections.

    The process umask becomes 0o077 first, so every file the service creates from here on
    (SQLite stores and their WAL, spools, span files) is readable by its user only.
    """
    os.umask(0o077)
    if isinstance(app, web.Application):
        app.on_startup.append(_settle_heap)
    # What `web.run_app` does, on a runner whose parser-level refusals are problems
    # (`ProblemAppRunner`): SIGINT/SIGTERM raise GracefulExit out of the loop, the main
    # task is cancelled, and its `finally` runs the runner's cleanup (the contexts). Not
    # `asyncio.run`: it would also wait, without a bound, for the default executor's
    # threads (a DNS look-up that hangs), and shutdown must meet its deadline.
    loop = asyncio.new_event_loop()
    main = loop.create_task(
        _serve(
            app,
            host=host,
            port=port,
            shutdown_timeout=shutdown_timeout,
            keepalive_timeout=header_timeout,
        )
    )
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            asyncio.set_event_loop(None)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {"message": "unhandled exception at shutdown", "exception": task.exception()}
            )


async def _serve(
    app: web.Application | Awaitable[web.Application],
    *,
    host: str,
    port: int,
    shutdown_timeout: float,
    keepalive_timeout: float,
) -> None:
    application = app if isinstance(app, web.Application) else await app
    runner = ProblemAppRunner(
        application,
        handle_signals=True,
        shutdown_timeout=shutdown_timeout,
        keepalive_timeout=keepalive_timeout,
        access_log=None,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()

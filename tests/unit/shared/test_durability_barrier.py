"""The runner's durability barrier: no offset is committed before the barrier returns.

A handler whose effect is made durable later (the notifier's write-behind) gives the runner
a barrier; every commit, periodic or at shutdown, awaits it first, and a barrier that fails
leaves the offsets for the next commit. On the in-memory transport.
"""

from __future__ import annotations

import asyncio

from shared import CommitPolicy, ConsumerRunner, Event, MemoryBroker, MemoryTransport, Router
from shared import MessageContext as Ctx
from tests.support.harness import Harness, Thing, stop_runner
from tests.support.waiting import eventually

TOPIC = "barrier"


class Gate:
    """A barrier that fails while `failing`, and otherwise waits for `open`."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.failing = False
        self.calls = 0
        self.failures = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.failing:
            self.failures += 1
            raise OSError("disk I/O error")
        await self.open.wait()


def _runner(harness: Harness, group: str, router: Router, barrier: Gate) -> ConsumerRunner:
    assert harness.publisher is not None
    return ConsumerRunner(
        transport=harness.transport,
        group_id=group,
        topics=[TOPIC],
        router=router,
        catalog=harness.catalog,
        publisher=harness.publisher,
        logger=harness.logger,
        metrics=harness.metrics,
        tracer=harness.tracer,
        commit_policy=CommitPolicy(every_messages=1, every_seconds=0.05),
        poll_timeout_ms=20,
        durability_barrier=barrier,
    )


async def test_offsets_wait_for_the_barrier_and_a_failing_barrier_commits_nothing() -> None:
    harness = Harness(MemoryTransport(MemoryBroker(default_partitions=1)), TOPIC)
    await harness.start(partitions=1)
    handled: list[int] = []

    async def handle(event: Event, ctx: Ctx) -> None:
        assert isinstance(event, Thing)
        handled.append(event.n)

    router = Router()
    router.route(Thing, handle)
    gate = Gate()
    gate.failing = True
    runner = _runner(harness, "g", router, gate)
    task = asyncio.create_task(runner.run())
    try:
        await harness.publish([Thing(thing_id="a", n=n) for n in range(3)])
        await eventually(lambda: len(handled) == 3, message="handled")
        # The barrier raised: the commits it guarded were skipped, and the runner goes on.
        await eventually(lambda: gate.failures >= 2, message="barrier retried")
        assert await harness.committed_total("g") == 0
        assert not task.done()

        gate.failing = False
        calls = gate.calls
        await eventually(lambda: gate.calls > calls, message="barrier awaited again")
        # Held by the barrier: still nothing committed although every handler returned.
        assert await harness.committed_total("g") == 0

        gate.open.set()

        async def committed() -> bool:
            return await harness.committed_total("g") == 3

        await eventually(committed, message="committed once the barrier returned")

        # The shutdown commit passes the barrier too.
        gate.open.clear()
        await harness.publish([Thing(thing_id="a", n=3)])
        await eventually(lambda: len(handled) == 4, message="fourth handled")
        calls = gate.calls
        await eventually(lambda: gate.calls > calls, message="barrier awaited")
        assert await harness.committed_total("g") == 3
        gate.open.set()
        await stop_runner(runner, task)
        assert await harness.committed_total("g") == 4
        assert handled == [0, 1, 2, 3]
    finally:
        if not task.done():
            await stop_runner(runner, task)
        await harness.close()

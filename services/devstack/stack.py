"""The four services as one unit: start them, wait until each is ready, stop in reverse."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import aiohttp

from services.devstack.config import HOST, StackConfig, build_env
from services.devstack.errors import StackError
from services.devstack.ports import answers
from services.devstack.process import ChildProcess
from services.devstack.readiness import wait_ready
from services.devstack.restart import OnRestart, RestartPolicy, Supervisor
from services.devstack.specs import SERVICES, ServiceSpec


class Stack:
    """Supervises one child process per service.

    `start()` refuses ports something already answers on (a stranger's `/readyz` must not
    pass for ours), spawns every child (in `specs` order), then waits until each `/readyz`
    answers 200; if any fails, the ones started are stopped before StackError propagates.
    `stop()` stops them one by one in reverse order, sharing one deadline. Used as an async
    context manager, the stack is started on entry and stopped on exit.

    With a `restart` policy, a child that exits on its own once the stack is up is started
    again after a backoff (`services.devstack.restart`); `on_restart` hears of each restart,
    and `supervisor(name)` counts them. `stop()` ends the supervision before it stops the
    children, so a stopped child is never restarted.
    """

    def __init__(
        self,
        config: StackConfig,
        specs: Sequence[ServiceSpec] = SERVICES,
        *,
        restart: RestartPolicy | None = None,
        on_restart: OnRestart | None = None,
    ) -> None:
        self.config = config
        self.specs = tuple(specs)
        self._children: dict[str, ChildProcess] = {}
        self._restart = restart
        self._on_restart = on_restart
        self._supervisors: dict[str, tuple[Supervisor, asyncio.Task[None]]] = {}

    def spec(self, name: str) -> ServiceSpec:
        for spec in self.specs:
            if spec.name == name:
                return spec
        raise KeyError(f"no service {name!r} in this stack")

    def url(self, name: str) -> str:
        """The base URL of service `name`, e.g. `http://127.0.0.1:8081`."""
        return self.config.url(self.spec(name))

    def child(self, name: str) -> ChildProcess:
        return self._children[name]

    def supervisor(self, name: str) -> Supervisor:
        """The supervisor restarting `name` (KeyError without a restart policy)."""
        return self._supervisors[name][0]

    async def start(self, *, ready_timeout: float = 120.0) -> None:
        """Spawn every service and wait until all are ready (StackError otherwise)."""
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.specs:
            if await answers(HOST, self.config.port(spec)):
                raise StackError(
                    f"{spec.name}: something already listens on {HOST}:{self.config.port(spec)}; "
                    f"stop it or choose another port with {spec.variable('PORT')}"
                )
        try:
            for spec in self.specs:
                child = ChildProcess(
                    spec.name,
                    [self.config.python, "-m", spec.module],
                    env=build_env(self.config, spec),
                    cwd=self.config.root,
                    log_path=self.config.log_path(spec),
                )
                self._children[spec.name] = child
                await child.start()
            async with aiohttp.ClientSession() as http:
                waits = [
                    asyncio.create_task(
                        wait_ready(
                            http,
                            self.config.url(spec),
                            self._children[spec.name],
                            within=ready_timeout,
                        )
                    )
                    for spec in self.specs
                ]
                try:
                    await asyncio.gather(*waits)
                finally:
                    # When one service fails to come up, the other waits end here, before
                    # the session closes, instead of polling on through the shutdown.
                    for wait in waits:
                        wait.cancel()
                    await asyncio.gather(*waits, return_exceptions=True)
        except BaseException:
            await self.stop()
            raise
        if self._restart is not None:
            for name, child in self._children.items():
                supervisor = Supervisor(child, self._restart, on_restart=self._on_restart)
                task = asyncio.create_task(supervisor.run(), name=f"supervise:{name}")
                self._supervisors[name] = (supervisor, task)

    async def stop(self, *, deadline: float = 60.0) -> dict[str, int | None]:
        """Stop every child, last started first, within `deadline` seconds in all.

        Each child gets SIGTERM and whatever is left of the deadline (at least 2 s) to
        exit before SIGKILL. Returns each child's exit status (0 is a clean stop).
        """
        ends = time.monotonic() + deadline
        supervising = [task for _, task in self._supervisors.values()]
        self._supervisors.clear()
        for task in supervising:
            task.cancel()
        await asyncio.gather(*supervising, return_exceptions=True)
        statuses: dict[str, int | None] = {}
        for spec in reversed(self.specs):
            child = self._children.pop(spec.name, None)
            if child is None:
                continue
            statuses[spec.name] = await child.stop(max(2.0, ends - time.monotonic()))
        return statuses

    async def watch(self) -> str:
        """Block until a running child exits on its own; the name of the first to do so.

        Under a restart policy, until a child can no longer be started again.
        """
        waits: dict[asyncio.Future[Any], str]
        if self._supervisors:
            waits = {
                asyncio.ensure_future(asyncio.shield(task)): name
                for name, (_, task) in self._supervisors.items()
            }
        else:
            waits = {
                asyncio.ensure_future(child.wait()): name for name, child in self._children.items()
            }
        if not waits:
            raise StackError("the stack is not running")
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            await asyncio.gather(*waits, return_exceptions=True)
        return waits[next(iter(done))]

    async def __aenter__(self) -> Stack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

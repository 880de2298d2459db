"""Restart-on-crash with real processes: a supervised child SIGKILLed is started again,
after a backoff that doubles, and a stopped stack restarts nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from services.devstack import RestartPolicy
from services.devstack.process import ChildProcess
from services.devstack.restart import Restart, Supervisor
from tests.support.waiting import eventually

#: Prints its pid, then waits for a signal.
SCRIPT = "import os, signal\nprint('up', os.getpid(), flush=True)\nsignal.pause()\n"


def _child(tmp_path: Path) -> ChildProcess:
    return ChildProcess(
        "sleeper", [sys.executable, "-c", SCRIPT], env={}, cwd=tmp_path, log_path=tmp_path / "s.log"
    )


def _started(child: ChildProcess, pid: int | None) -> bool:
    return pid is not None and f"up {pid}" in child.log_tail()


async def test_a_killed_child_is_restarted_with_a_doubling_backoff(tmp_path: Path) -> None:
    child = _child(tmp_path)
    await child.start()
    heard: list[Restart] = []
    policy = RestartPolicy(initial=0.05, factor=2, cap=1, reset_after=60)
    supervisor = Supervisor(child, policy, on_restart=heard.append)
    task = asyncio.create_task(supervisor.run())
    try:
        pids = [child.pid]
        for round_ in (1, 2):
            await eventually(lambda: _started(child, child.pid), message="child up")
            assert child.pid is not None
            os.kill(child.pid, signal.SIGKILL)
            restart = await asyncio.wait_for(supervisor.wait_restarts(round_), 30)
            assert restart.status == -signal.SIGKILL
            pids.append(child.pid)
        await eventually(lambda: _started(child, child.pid), message="restarted child up")
        assert len(set(pids)) == 3  # a new process each time
        assert [r.delay for r in heard] == [0.05, 0.1]
        assert [r.count for r in heard] == [1, 2]
        assert child.returncode is None
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert await child.stop(5) == -signal.SIGTERM
    assert len(supervisor.restarts) == 2  # stopped, and nothing restarted it

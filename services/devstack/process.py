"""One supervised child process: started in its own session, logs to a file, stopped by
SIGTERM within a deadline (SIGKILL past it)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

from services.devstack.errors import StackError


class ChildProcess:
    """A child whose stdout and stderr are appended to `log_path`.

    The child gets a session of its own, so a Ctrl-C in the terminal reaches only the
    launcher, which then stops the children itself, in order.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._argv = list(argv)
        self._env = dict(env)
        self._cwd = cwd
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def returncode(self) -> int | None:
        """None while running (or before start); the exit status once it has exited."""
        return self._process.returncode if self._process else None

    async def start(self) -> None:
        """Spawn the child. Raises StackError if it cannot be executed."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                self._process = await asyncio.create_subprocess_exec(
                    *self._argv,
                    env=self._env,
                    cwd=self._cwd,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise StackError(f"{self.name}: cannot start {self._argv[0]}: {exc}") from exc

    async def wait(self) -> int:
        """Block until the child exits; its exit status."""
        assert self._process is not None, "start() first"
        return await self._process.wait()

    async def stop(self, grace: float) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within `grace` seconds.

        Returns the exit status (negative: the signal that ended it), None if never started.
        Never raises for a child that has already gone.
        """
        process = self._process
        if process is None:
            return None
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        return process.returncode

    def log_tail(self, lines: int = 15) -> str:
        """The last `lines` lines of the child's log (empty if there is none)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

"""Running a short-lived command to completion (a CLI, a script), killed if we are cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_TERM_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Finished:
    status: int
    output: str


async def run_command(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
) -> Finished:
    """Run `argv` with stdout and stderr captured together; wait for it to exit.

    The command gets a session of its own (a terminal's Ctrl-C reaches only us). If the
    caller is cancelled, the command's whole process group is sent SIGTERM and reaped
    before the cancellation propagates, so nothing is left running unseen.
    """
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), _TERM_GRACE_SECONDS)
        except TimeoutError:
            # It ignored SIGTERM: a cancelled caller must not wait for it forever.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        raise
    status = process.returncode if process.returncode is not None else -1
    return Finished(status, output.decode("utf-8", "replace"))

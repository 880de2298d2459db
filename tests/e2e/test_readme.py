"""The README, executed: `make run` as a reader starts it, then every example in order.

The stack is started through the real Makefile target (`make run`: the launcher, the four
services, the demo), on free ports, a topic namespace of its own and a temporary state
directory, on the suite's broker. Then:

1. every runnable shell example of README.md runs in order in bash (`set -eo pipefail`,
   shell variables carried from step to step, as in one terminal), must exit 0 and show the
   output the README states (`tests/e2e/readme.py`);
2. the redrive the README makes reaches the demo receiver as marked redeliveries, which it
   recognises as already handled;
3. SIGINT to `make` alone (not its process group) stops the launcher and every service;
4. the examples the README runs with `make run` stopped (the replay) run, and a second
   `make run` on the same state starts cleanly and seeds nothing again;
5. every line the services logged is one JSON object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from services.devstack import caller_env, free_port
from services.devstack.ports import answers

from .readme import Block, Step, assigned, blocks, localise

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
READY = "Press Ctrl-C to stop everything."
#: Variables of the developer's shell that would point the stack or the examples elsewhere.
STEP_SECONDS = 120.0


@dataclass
class Launcher:
    """`make run` as a child process, its output collected line by line."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, env: dict[str, str]) -> Launcher:
        process = await asyncio.create_subprocess_exec(
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",  # the venv is the one running this test: never reinstall
            "run",
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            # A terminal's make catches SIGINT; a test runner started in the background
            # may have it ignored, which make would inherit.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        launcher = cls(process)
        launcher._reader = asyncio.create_task(launcher._read())
        return launcher

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            async with self._changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for(self, text: str, *, within: float, after: int = 0) -> str:
        """The first output line (from line `after` on) containing `text`."""
        async with asyncio.timeout(within), self._changed:
            while True:
                for line in self.lines[after:]:
                    if text in line:
                        return line
                if self.process.returncode is not None and self._reader and self._reader.done():
                    raise AssertionError(f"make run exited before {text!r}:\n{self.output}")
                await self._changed.wait()

    async def finish(self, within: float = 90.0) -> int:
        async with asyncio.timeout(within):
            status = await self.process.wait()
            if self._reader is not None:
                await self._reader
        return status

    async def kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await self.finish(60)


@dataclass
class Shell:
    """Runs steps as a reader would in one terminal: variables carry over."""

    cwd: Path
    env: dict[str, str]
    workdir: Path
    count: int = 0

    @property
    def vars_file(self) -> Path:
        return self.workdir / "vars.sh"

    async def run(self, step: Step, script: str) -> tuple[int, str]:
        self.count += 1
        names = assigned(script)
        keep = f'declare -p {" ".join(names)} >> "{self.vars_file}"' if names else ":"
        path = self.workdir / f"step-{self.count:03d}.sh"
        path.write_text(
            "set -eo pipefail\n"
            f'[ -f "{self.vars_file}" ] && source "{self.vars_file}"\n'
            f"{script}\n{keep}\n",
            encoding="utf-8",
        )
        process = await asyncio.create_subprocess_exec(
            "bash",
            "--noprofile",
            "--norc",
            str(path),
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with asyncio.timeout(STEP_SECONDS):
                out, _ = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(
                f"README line {step.line}: still running after {STEP_SECONDS}s"
            ) from None
        return int(process.returncode or 0), out.decode("utf-8", "replace")


@dataclass
class Setting:
    env: dict[str, str]
    ports: dict[str, int]
    namespace: str
    receiver_port: int
    state: Path

    def localise(self, text: str) -> str:
        return localise(
            text, ports=self.ports, namespace=self.namespace, receiver_port=self.receiver_port
        )


@pytest.fixture
def setting(kafka_bootstrap: str, unique: str, tmp_path: Path) -> Setting:
    ports = {name: free_port() for name in ("registry", "partner-feed", "notifier", "sdg-tagger")}
    namespace = f"readme{unique}"
    state = tmp_path / "state"
    receiver_port = free_port()
    env = caller_env("TABRIDGE_")
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "TABRIDGE_TOPIC_NAMESPACE": namespace,
            "TABRIDGE_RUN_DIR": str(state),
            "TABRIDGE_TRACE_DIR": str(state / "traces"),
            "TABRIDGE_DEV_WEBHOOK_ALLOWLIST": f"127.0.0.1:{receiver_port}",
            "TABRIDGE_READY_TIMEOUT": "120",
            "REGISTRY_PORT": str(ports["registry"]),
            "FEED_PORT": str(ports["partner-feed"]),
            "NOTIFIER_PORT": str(ports["notifier"]),
            "TAGGER_PORT": str(ports["sdg-tagger"]),
            # what `ta-bridge` reads, as a reader of a moved stack would set it
            "TABRIDGE_REGISTRY_URL": f"http://127.0.0.1:{ports['registry']}",
            "TABRIDGE_PARTNER_FEED_URL": f"http://127.0.0.1:{ports['partner-feed']}",
            "TABRIDGE_NOTIFIER_URL": f"http://127.0.0.1:{ports['notifier']}",
            "TABRIDGE_SDG_TAGGER_URL": f"http://127.0.0.1:{ports['sdg-tagger']}",
        }
    )
    return Setting(env, ports, namespace, receiver_port, state)


@pytest.fixture
async def launchers() -> AsyncIterator[list[Launcher]]:
    started: list[Launcher] = []
    try:
        yield started
    finally:
        for launcher in started:
            await launcher.kill()


def readme_blocks() -> list[Block]:
    found = blocks(README)
    assert found, "README.md has no shell examples"
    return found


def test_every_example_is_run_or_says_why_not() -> None:
    found = readme_blocks()
    for block in found:
        if block.mode != "run":
            assert block.reason.strip(), f"README line {block.line}: a marker needs a reason"
    runnable = [b for b in found if b.mode != "skip"]
    steps = [s for b in runnable for s in b.steps]
    assert len(runnable) >= 8 and sum(1 for s in steps if s.expected) >= 20


async def run_blocks(shell: Shell, setting: Setting, chosen: list[Block]) -> int:
    ran = 0
    for block in chosen:
        for step in block.steps:
            script = setting.localise(step.script)
            status, output = await shell.run(step, script)
            assert status == 0, f"README line {step.line} exited {status}:\n{script}\n---\n{output}"
            localised = Step(step.line, script, [setting.localise(t) for t in step.expected])
            missing = localised.missing(output)
            assert not missing, (
                f"README line {step.line}: output lacks {missing}:\n{script}\n---\n{output}"
            )
            ran += 1
    return ran


async def test_the_readme_runs_as_written_against_make_run(
    setting: Setting, launchers: list[Launcher], tmp_path: Path
) -> None:
    found = readme_blocks()
    shell = Shell(ROOT, setting.env, tmp_path)

    first = await Launcher.start(setting.env)
    launchers.append(first)
    await first.wait_for(READY, within=240)
    assert "(13 new, 0 already registered)" in first.output, first.output
    assert "tfm    pulled from its source URL" in first.output, first.output

    ran = await run_blocks(shell, setting, [b for b in found if b.mode == "run"])
    assert ran > 0

    # The README's redrive: the demo receiver sees each as a marked redelivery it already had.
    line = await first.wait_for("(redelivery 1), already handled: ignored", within=60)
    assert "webhook verified" in line

    # Ctrl-C to make alone: make waits for its child, which notices and stops everything.
    os.kill(first.process.pid, signal.SIGINT)
    await first.finish()
    assert first.lines[-1] == "==> stopped", first.output
    assert "stopping: the parent process is stopping (SIGINT)" in first.output
    for name, port in setting.ports.items():
        assert not await answers("127.0.0.1", port), f"{name} still answers on {port}"

    await run_blocks(shell, setting, [b for b in found if b.mode == "stopped"])

    # A second make run on the state the first (and the README) left behind.
    second = await Launcher.start(setting.env)
    launchers.append(second)
    await second.wait_for(READY, within=240)
    assert "(0 new, 13 already registered)" in second.output, second.output
    os.kill(second.process.pid, signal.SIGTERM)  # make passes SIGTERM on to the launcher
    await second.finish()
    assert second.lines[-1] == "==> stopped", second.output

    logs = sorted((setting.state / "logs").glob("*.log"))
    assert len(logs) == 4
    for log in logs:
        for number, text in enumerate(log.read_text(encoding="utf-8").splitlines(), 1):
            try:
                record = json.loads(text)
            except ValueError:
                pytest.fail(f"{log.name}:{number} is not JSON: {text[:200]}")
            assert isinstance(record, dict) and "event" in record and "level" in record, text

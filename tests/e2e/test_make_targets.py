"""The Makefile's set-up and reset targets, run for real on a copy of the checkout's files.

`make venv` must say what it does while it installs (a newcomer otherwise waits 30 s on a
silent terminal), and `make reset` must forget what `make run` kept (`var/run/`) while
keeping `.venv` (which `make clean` deletes too). Both recipes run unchanged; only the
Python that creates the venv and its pip are stand-ins that record how they were called,
so the test needs neither the network nor a minute of installing.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed")

_FAKE_PIP = """#!/bin/sh
echo "$@" >> "{log}"
"""

_FAKE_PYTHON = """#!/bin/sh
# `python -m venv DIR`: lay out DIR/bin/python and DIR/bin/pip as a venv would.
[ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 2
mkdir -p "$3/bin"
cp "{pip}" "$3/bin/pip"
printf '#!/bin/sh\\nexit 0\\n' > "$3/bin/python"
chmod +x "$3/bin/pip" "$3/bin/python"
"""


def _executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _checkout(tmp_path: Path) -> Path:
    """The files the two targets read: the Makefile, the lock, pyproject, kafka.sh."""
    tree = tmp_path / "checkout"
    (tree / "deploy" / "kafka").mkdir(parents=True)
    for name in ("Makefile", "requirements.lock", "pyproject.toml", "deploy/kafka/kafka.sh"):
        shutil.copy2(ROOT / name, tree / name)
    return tree


def _make(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "KAFKA_"))}
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_make_venv_says_what_it_does_and_installs_the_lock_then_the_project(
    tmp_path: Path,
) -> None:
    tree = _checkout(tmp_path)
    log = tmp_path / "pip.log"
    pip = _executable(tmp_path / "pip", _FAKE_PIP.format(log=log))
    python = _executable(tmp_path / "python3", _FAKE_PYTHON.format(pip=pip))

    first = _make(tree, "venv", f"PYTHON={python}")
    assert first.returncode == 0, first.stderr
    lines = [line for line in first.stdout.splitlines() if line.startswith("==>")]
    assert lines == [
        f"==> creating .venv with {python}",
        "==> installing the pinned requirements (requirements.lock) into .venv; "
        "~30 s the first time",
        "==> installing ta-bridge itself (editable)",
        "==> .venv is ready",
    ]
    calls = log.read_text(encoding="utf-8").splitlines()
    assert len(calls) == 2
    assert "-r requirements.lock" in calls[0]
    assert calls[1].endswith("--no-deps -e .")

    # Up to date: nothing installed again, nothing printed but make's own word.
    again = _make(tree, "venv", f"PYTHON={python}")
    assert again.returncode == 0, again.stderr
    assert "==>" not in again.stdout
    assert len(log.read_text(encoding="utf-8").splitlines()) == 2


def test_make_reset_forgets_what_make_run_kept_and_keeps_the_venv(tmp_path: Path) -> None:
    tree = _checkout(tmp_path)
    kept = tree / "var" / "run"
    for name in ("registry.db", "logs/registry.log", "kafka/data/meta.properties"):
        (kept / name).parent.mkdir(parents=True, exist_ok=True)
        (kept / name).write_text("state", encoding="utf-8")
    (tree / ".venv" / "bin").mkdir(parents=True)
    (tree / ".venv" / "bin" / "python").write_text("", encoding="utf-8")
    (tree / "var" / "elsewhere.txt").write_text("not make run's", encoding="utf-8")

    reset = _make(tree, "reset")
    assert reset.returncode == 0, reset.stderr
    assert "==> var/run removed" in reset.stdout
    assert not kept.exists()
    assert (tree / ".venv" / "bin" / "python").exists()
    assert (tree / "var" / "elsewhere.txt").exists()

    # Idempotent: a second reset on nothing is not an error.
    assert _make(tree, "reset").returncode == 0

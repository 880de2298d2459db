"""The short version of `make chaos` inside `make test`: one round of each quick scenario
(hostile inputs, SSRF, auth matrix) against the real stack, through the real CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


def test_quick_chaos_loses_nothing_and_answers_no_5xx(kafka_bootstrap: str) -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    finished = subprocess.run(
        [sys.executable, "-m", "tools.chaos", "--quick", "hostile", "ssrf", "auth"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("CHAOS ")]
    scenarios = {line.split()[1] for line in lines}
    assert scenarios == {"hostile", "ssrf", "auth", "total"}, finished.stdout + finished.stderr
    figures = {line.split()[1]: dict(re.findall(r"(\w+)=(\d+)", line)) for line in lines}
    assert int(figures["hostile"]["cases"]) >= 150
    assert int(figures["ssrf"]["cases"]) >= 40
    assert int(figures["auth"]["cases"]) >= 150
    assert figures["total"] == {
        "lost": "0",
        "duplicated": "0",
        "allowed": "0",
        "server_errors": "0",
    }, finished.stderr[-4000:]
    assert finished.returncode == 0

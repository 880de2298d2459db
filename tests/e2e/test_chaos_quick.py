"""The short version of `make chaos` inside `make test`: one round of each quick scenario
(hostile inputs, SSRF, a receiver outage, one SIGKILL of each service and one of the broker,
the auth matrix) against the real stack, through the real CLI.

The broker kill needs a broker of the suite's own: `python -m tools.chaos` starts one on
free ports (it never touches the session's broker), and the whole run uses it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]


SCENARIOS = ("hostile", "ssrf", "receiver-outage", "service-kills", "broker-kills", "auth")


def test_quick_chaos_loses_nothing_and_answers_no_5xx(kafka_bootstrap: str) -> None:
    # CHAOS_* settings (sizes, the own broker's port and data) are the suite's defaults here;
    # the session's broker (`kafka_bootstrap`) is not used, since broker-kills needs its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAOS_")}
    env["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap
    finished = subprocess.run(
        [sys.executable, "-m", "tools.chaos", "--quick", *SCENARIOS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    lines = [line for line in finished.stdout.splitlines() if line.startswith("CHAOS ")]
    scenarios = {line.split()[1] for line in lines}
    assert scenarios == {*SCENARIOS, "total"}, finished.stdout + finished.stderr
    figures = {line.split()[1]: dict(re.findall(r"(\w+)=([\d.]+)", line)) for line in lines}
    assert int(figures["hostile"]["cases"]) >= 150
    assert int(figures["ssrf"]["cases"]) >= 40
    assert int(figures["auth"]["cases"]) >= 150
    kills = figures["service-kills"]
    assert int(kills["kills"]) == int(kills["restarts"]) == 4  # each service once, restarted
    assert int(figures["broker-kills"]["kills"]) == int(figures["broker-kills"]["restarts"]) == 1
    for name in ("receiver-outage", "service-kills", "broker-kills"):
        flow = figures[name]
        assert int(flow["acknowledged"]) >= 150, (name, flow)
        assert flow["delivered"] == flow["on_topic"] == flow["acknowledged"], (name, flow)
        assert flow["order_violations"] == flow["unverified"] == "0", (name, flow)
    assert figures["receiver-outage"]["delivered_pct"] == "100"
    assert figures["total"] == {
        "lost": "0",
        "duplicated": "0",
        "allowed": "0",
        "server_errors": "0",
    }, finished.stderr[-4000:]
    assert finished.returncode == 0

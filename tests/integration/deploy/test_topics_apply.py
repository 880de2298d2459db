"""`python -m tools.topics` against the real broker, each test in its own topic namespace.

The broker is shared (other suites, other engineers): every test works under a unique
`TABRIDGE_TOPIC_NAMESPACE`-style prefix and deletes its topics afterwards.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared import CommonSettings, load_settings
from shared.events import ACTIVITY_EVENTS, ACTIVITY_SNAPSHOTS, OPS_EVENTS, namespaced
from tests.support.kafka import ROOT
from tests.support.waiting import eventually
from tools.topics.command import (
    EXIT_BLOCKED,
    EXIT_CHANGES_PENDING,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_STILL_MISSING,
    parser,
    run,
)
from tools.topics.profiles import desired_topics, profile

pytestmark = pytest.mark.kafka

_WEEK_MS = 7 * 24 * 3600 * 1000
TopicState = dict[str, tuple[int, int, dict[str, str]]]


@pytest.fixture
async def admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await client.start()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def namespace(admin: AIOKafkaAdminClient, unique: str) -> AsyncIterator[str]:
    name = f"it-topics-{unique}"
    try:
        yield name
    finally:
        ours = [t for t in await admin.list_topics() if t.startswith(f"{name}.")]
        if ours:
            await admin.delete_topics(ours)


async def _topics(kafka_bootstrap: str, namespace: str, *argv: str) -> tuple[int, list[str]]:
    """Run the command in-process; (exit code, output lines)."""
    settings = load_settings(CommonSettings, env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap})
    out = io.StringIO()
    args = parser().parse_args([*argv, "--namespace", namespace])
    code = await run(args, settings, out)
    return code, out.getvalue().splitlines()


def _changes(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("#")]


async def _ours(admin: AIOKafkaAdminClient, namespace: str) -> list[str]:
    return sorted(t for t in await admin.list_topics() if t.startswith(f"{namespace}."))


async def _state(admin: AIOKafkaAdminClient, names: list[str]) -> TopicState:
    """name -> (partitions, replicas of partition 0, topic-level overrides)."""
    layout = {
        t["topic"]: (len(t["partitions"]), len(t["partitions"][0]["replicas"]))
        for t in await admin.describe_topics(names)
    }
    state: TopicState = {}
    for response in await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    ):
        for resource in response.to_object()["resources"]:
            overrides = {
                e["config_names"]: e["config_value"]
                for e in resource["config_entries"]
                if e["config_source"] == 1  # DYNAMIC_TOPIC_CONFIG
            }
            name = resource["resource_name"]
            state[name] = (*layout[name], overrides)
    return state


async def _set_overrides(admin: AIOKafkaAdminClient, topic: str, configs: dict[str, str]) -> None:
    responses: list[Any] = await admin.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic, configs)]
    )
    for response in responses:
        for resource in response.to_object()["resources"]:
            assert resource["error_code"] == 0, resource


async def test_apply_creates_every_topic_as_defined_and_a_second_apply_changes_nothing(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, namespace: str
) -> None:
    specs = desired_topics(profile("local"), namespace)

    code, lines = await _topics(kafka_bootstrap, namespace, "plan", "--profile", "local")
    assert code == EXIT_CHANGES_PENDING
    assert len([line for line in lines if line.startswith("+ create ")]) == len(specs)
    assert await _ours(admin, namespace) == [], "plan must not create anything"

    code, lines = await _topics(kafka_bootstrap, namespace, "apply", "--profile", "local")
    assert code == EXIT_OK, lines
    assert await _ours(admin, namespace) == sorted(s.name for s in specs)

    before = await _state(admin, [s.name for s in specs])
    for spec in specs:
        partitions, replicas, overrides = before[spec.name]
        assert (partitions, replicas) == (spec.partitions, 1), spec.name
        assert overrides["min.insync.replicas"] == "1"
        assert overrides["cleanup.policy"] == ("compact" if spec.compacted else "delete")
        if spec.retention_ms is not None:
            assert overrides["retention.ms"] == str(spec.retention_ms)
    snapshots = before[namespaced(ACTIVITY_SNAPSHOTS, namespace)]
    assert snapshots[2]["cleanup.policy"] == "compact"
    assert "retention.ms" not in snapshots[2]
    events = before[namespaced(ACTIVITY_EVENTS, namespace)]
    assert events[0] == 6
    assert int(events[2]["retention.ms"]) == 365 * 24 * 3600 * 1000

    code, lines = await _topics(kafka_bootstrap, namespace, "apply", "--profile", "local")
    assert code == EXIT_OK
    assert _changes(lines) == []
    assert lines[-1] == "# in sync"
    code, lines = await _topics(kafka_bootstrap, namespace, "plan", "--profile", "local")
    assert (code, _changes(lines)) == (EXIT_OK, [])
    assert await _state(admin, [s.name for s in specs]) == before


async def test_apply_repairs_changed_configs_and_keeps_other_overrides(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, namespace: str
) -> None:
    code, _ = await _topics(kafka_bootstrap, namespace, "apply", "--profile", "local")
    assert code == EXIT_OK
    ops = namespaced(OPS_EVENTS, namespace)
    # By hand: compaction on, retention back to the broker default, one unmanaged override.
    await _set_overrides(admin, ops, {"cleanup.policy": "compact", "max.message.bytes": "2000000"})

    async def altered() -> bool:  # brokers apply config changes asynchronously
        return (await _state(admin, [ops]))[ops][2].get("cleanup.policy") == "compact"

    await eventually(altered, message=f"{ops} reconfigured by hand")

    code, lines = await _topics(kafka_bootstrap, namespace, "plan", "--profile", "local")
    assert code == EXIT_CHANGES_PENDING
    assert f"~ config {ops} cleanup.policy: compact -> delete" in lines
    assert f"~ config {ops} retention.ms: {_WEEK_MS} -> {4 * _WEEK_MS}" in lines

    code, _ = await _topics(kafka_bootstrap, namespace, "apply", "--profile", "local")
    assert code == EXIT_OK
    (_, _, overrides) = (await _state(admin, [ops]))[ops]
    assert overrides["cleanup.policy"] == "delete"
    assert overrides["retention.ms"] == str(4 * _WEEK_MS)
    assert overrides["max.message.bytes"] == "2000000"
    code, lines = await _topics(kafka_bootstrap, namespace, "plan", "--profile", "local")
    assert (code, _changes(lines)) == (EXIT_OK, [])


async def test_partitions_are_added_only_when_allowed(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, namespace: str
) -> None:
    ops = namespaced(OPS_EVENTS, namespace)
    response = await admin.create_topics([NewTopic(ops, 1, 1)])
    assert response.to_object()["topic_errors"][0]["error_code"] == 0
    await eventually(lambda: _ours(admin, namespace), message=f"{ops} visible")

    code, lines = await _topics(kafka_bootstrap, namespace, "apply", "--profile", "local")
    assert code == EXIT_BLOCKED
    assert any(line.startswith(f"> partitions {ops} 1 -> 3 (blocked") for line in lines)
    assert (await _state(admin, [ops]))[ops][0] == 1
    assert len(await _ours(admin, namespace)) == len(desired_topics(profile("local")))

    code, _ = await _topics(
        kafka_bootstrap, namespace, "apply", "--profile", "local", "--allow-partition-increase"
    )
    assert code == EXIT_OK
    assert (await _state(admin, [ops]))[ops][0] == 3


async def test_wait_returns_once_the_topics_exist(kafka_bootstrap: str, namespace: str) -> None:
    code, lines = await _topics(kafka_bootstrap, namespace, "wait", "--timeout", "1")
    assert code == EXIT_STILL_MISSING
    assert f"missing {namespaced(ACTIVITY_EVENTS, namespace)}" in lines

    waiting = asyncio.create_task(_topics(kafka_bootstrap, namespace, "wait", "--timeout", "60"))
    code, _ = await _topics(kafka_bootstrap, namespace, "apply", "--profile", "local")
    assert code == EXIT_OK
    assert await waiting == (EXIT_OK, [])


async def test_the_command_line_fails_loudly_on_a_broker_too_small_for_production(
    kafka_bootstrap: str, admin: AIOKafkaAdminClient, namespace: str
) -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    env["TABRIDGE_TOPIC_NAMESPACE"] = namespace

    def topics(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.topics", *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )

    # The default profile is production (RF 3): one broker cannot hold it.
    result = await asyncio.to_thread(topics, "apply")
    assert result.returncode == EXIT_FAILED, result
    assert "replication factor of 3 cannot be reached" in result.stderr
    assert await _ours(admin, namespace) == []

    result = await asyncio.to_thread(topics, "plan", "--replication-factor", "1")
    assert result.returncode == EXIT_CHANGES_PENDING, result
    assert "replication 1, min ISR 1" in result.stdout

"""Reading topics from, and applying a plan to, a real cluster (aiokafka's admin client).

Never asks the broker about a topic by name before knowing it exists: a metadata request
for a missing topic makes a broker with `auto.create.topics.enable=true` create it, with
broker defaults, which is exactly what this tool is meant to prevent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared import TopicSpec
from tools.topics.plan import AddPartitions, AlterConfigs, ObservedTopic, Plan
from tools.topics.profiles import desired_configs

__all__ = ["ClusterRefused", "TopicAdmin", "connect"]

# Kafka error codes this module tells apart (org.apache.kafka.common.protocol.Errors).
_TOPIC_ALREADY_EXISTS = 36
# DescribeConfigs config_source: an override set on the topic itself.
_DYNAMIC_TOPIC_CONFIG = 1


class ClusterRefused(Exception):
    """The cluster answered a request with an error; the message names topic and reason."""


@asynccontextmanager
async def connect(
    bootstrap_servers: str, *, request_timeout: float = 30.0
) -> AsyncIterator[TopicAdmin]:
    """An admin session, closed on exit.

    Raises:
        TimeoutError: no broker answered within `request_timeout` seconds (which also
            bounds each admin request).
    """
    client = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="ta-bridge-topics",
        request_timeout_ms=int(request_timeout * 1000),
    )
    try:
        await asyncio.wait_for(client.start(), request_timeout)
        yield TopicAdmin(client, visible_within=request_timeout)
    finally:
        await client.close()


class TopicAdmin:
    """What `python -m tools.topics` needs from a cluster, over one admin client."""

    def __init__(self, client: Any, *, visible_within: float) -> None:
        self._client = client
        self._visible_within = visible_within

    async def existing(self) -> set[str]:
        """The names of every topic in the cluster."""
        return set(await self._client.list_topics())

    async def observe(self, names: Collection[str]) -> dict[str, ObservedTopic]:
        """The topics among `names` that exist, with partitions, replicas and configs.

        Raises:
            ClusterRefused: the cluster could not describe a topic that exists.
        """
        present = sorted(set(names) & await self.existing())
        if not present:
            return {}
        described = await self._client.describe_topics(present)
        layout: dict[str, tuple[int, int]] = {}
        for topic in described:
            if topic["error_code"]:
                raise ClusterRefused(f"describe {topic['topic']}: error {topic['error_code']}")
            parts = topic["partitions"]
            replicas = min((len(p["replicas"]) for p in parts), default=0)
            layout[str(topic["topic"])] = (len(parts), replicas)
        responses = await self._client.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in present]
        )
        observed: dict[str, ObservedTopic] = {}
        for response in responses:
            for resource in response.to_object()["resources"]:
                name = str(resource["resource_name"])
                if resource["error_code"]:
                    raise ClusterRefused(f"describe configs of {name}: {resource['error_message']}")
                configs: dict[str, str] = {}
                overrides: dict[str, str] = {}
                for entry in resource["config_entries"]:
                    # aiokafka's schema calls the name field `config_names`.
                    key, value = str(entry["config_names"]), entry["config_value"]
                    if value is None:
                        continue
                    configs[key] = str(value)
                    if entry.get("config_source") == _DYNAMIC_TOPIC_CONFIG:
                        overrides[key] = str(value)
                partitions, replicas = layout[name]
                observed[name] = ObservedTopic(name, partitions, replicas, configs, overrides)
        return observed

    async def apply(self, plan: Plan, *, allow_partition_increase: bool) -> None:
        """Create, reconfigure and (when allowed) grow topics as `plan` says.

        Returns once the cluster reports every change (created topics, new configs, new
        partition counts): brokers apply them asynchronously, and a plan made right after
        must see them. A topic created meanwhile by someone else (a service starting)
        counts as created, as that creator made it: plan again to see what still differs
        (the command does, and applies again).

        Raises:
            ClusterRefused: naming each topic the cluster refused and why.
            TimeoutError: a change was not visible within the request timeout.
        """
        if plan.creates:
            await self._create(plan.creates)
        if plan.alters:
            resources = [
                ConfigResource(ConfigResourceType.TOPIC, a.topic, dict(a.overrides))
                for a in plan.alters
            ]
            responses = await self._client.alter_configs(resources)
            self._raise_for(
                "alter configs of",
                [r for response in responses for r in response.to_object()["resources"]],
                name_key="resource_name",
            )
        grow = plan.partitions if allow_partition_increase else ()
        if grow:
            await self._client.create_partitions(
                {p.topic: NewPartitions(total_count=p.wanted) for p in grow}
            )
        if plan.alters or grow:
            await self._until_visible(plan.alters, grow)

    async def _until_visible(
        self, alters: Sequence[AlterConfigs], grown: Sequence[AddPartitions]
    ) -> None:
        """Poll until the cluster reports the new configs and partition counts."""

        def pending(observed: dict[str, ObservedTopic]) -> list[str]:
            late = [
                a.topic
                for a in alters
                if a.topic not in observed
                or any(observed[a.topic].configs.get(k) != v for k, (_, v) in a.changes.items())
            ]
            late += [
                p.topic
                for p in grown
                if p.topic not in observed or observed[p.topic].partitions < p.wanted
            ]
            return late

        deadline = time.monotonic() + self._visible_within
        while late := pending(
            await self.observe({a.topic for a in alters} | {p.topic for p in grown})
        ):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"changed but not visible yet: {', '.join(sorted(late))}")
            await asyncio.sleep(0.5)

    async def _create(self, specs: Sequence[TopicSpec]) -> None:
        new = [
            NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=spec.replication_factor,
                topic_configs=desired_configs(spec),
            )
            for spec in specs
        ]
        response = await self._client.create_topics(new)
        self._raise_for(
            "create",
            list(response.to_object()["topic_errors"]),
            name_key="topic",
            tolerated={_TOPIC_ALREADY_EXISTS},
        )
        missing = await self.wait_for({spec.name for spec in specs}, within=self._visible_within)
        if missing:
            raise TimeoutError(f"created but not visible yet: {', '.join(sorted(missing))}")

    async def wait_for(self, names: Collection[str], *, within: float) -> set[str]:
        """Poll until every topic in `names` exists; returns the ones still missing.

        An empty result means all exist. Polls every 0.5 s, for at most `within` seconds.
        """
        deadline = time.monotonic() + within
        while True:
            missing = set(names) - await self.existing()
            if not missing or time.monotonic() >= deadline:
                return missing
            await asyncio.sleep(0.5)

    @staticmethod
    def _raise_for(
        action: str,
        results: Sequence[dict[str, Any]],
        *,
        name_key: str,
        tolerated: Collection[int] = (),
    ) -> None:
        failures = [
            f"{action} {r[name_key]}: {r.get('error_message') or 'error ' + str(r['error_code'])}"
            for r in results
            if r["error_code"] and r["error_code"] not in tolerated
        ]
        if failures:
            raise ClusterRefused("; ".join(failures))

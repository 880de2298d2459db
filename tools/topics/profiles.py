"""Replication profiles: how many copies of every partition a deployment keeps.

`production` is three replicas with `min.insync.replicas=2`, so an `acks=all` write
survives one broker being down and is on two brokers before it is acknowledged. `local`
is the single development broker (RF 1, min ISR 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared import TopicSpec
from shared.events import SERVICE_GROUPS, topic_specs

__all__ = ["PROFILE_NAMES", "Profile", "desired_configs", "desired_topics", "profile"]


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    replication_factor: int
    min_insync_replicas: int


_PROFILES = (Profile("production", 3, 2), Profile("local", 1, 1))
PROFILE_NAMES = tuple(p.name for p in _PROFILES)


def profile(
    name: str,
    *,
    replication_factor: int | None = None,
    min_insync_replicas: int | None = None,
) -> Profile:
    """The profile `name`, with either number overridden.

    Overriding only the replication factor derives min ISR as `min(2, RF - 1)` (at least
    1), the usual "tolerate one broker down" setting.

    Raises:
        ValueError: an unknown profile, a number below 1, or min ISR above the RF (such a
            topic would refuse every `acks=all` write).
    """
    base = next((p for p in _PROFILES if p.name == name), None)
    if base is None:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILE_NAMES)}")
    rf = base.replication_factor if replication_factor is None else replication_factor
    if min_insync_replicas is not None:
        isr = min_insync_replicas
    elif replication_factor is not None:
        isr = max(1, min(2, rf - 1))
    else:
        isr = base.min_insync_replicas
    if rf < 1 or isr < 1:
        raise ValueError("replication factor and min.insync.replicas must be at least 1")
    if isr > rf:
        raise ValueError(
            f"min.insync.replicas {isr} exceeds replication factor {rf}: "
            "every acks=all write would be refused"
        )
    return Profile(base.name, rf, isr)


def desired_topics(
    chosen: Profile, namespace: str = "", groups: Sequence[str] = SERVICE_GROUPS
) -> list[TopicSpec]:
    """Every topic of ta-bridge under `namespace`, with the retry topics of the consumer
    `groups` (the services' default group names unless told), replicated as `chosen` says."""
    return topic_specs(
        replication_factor=chosen.replication_factor,
        min_insync_replicas=chosen.min_insync_replicas,
        namespace=namespace,
        groups=groups,
    )


def desired_configs(spec: TopicSpec) -> dict[str, str]:
    """The topic-level configs a definition pins, `cleanup.policy` always included.

    `TopicSpec.configs()` leaves `delete` implicit (the broker default); it is spelled out
    here so a topic switched to compaction by hand shows up as a difference.
    """
    return {"cleanup.policy": "delete", **spec.configs()}

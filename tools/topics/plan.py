"""The difference between the topic definitions and what a cluster holds.

Pure: `make_plan` compares definitions with observed topics and says what `apply` would
do, nothing more. Three kinds of difference:

- **changes** apply makes: create a missing topic, set configs that differ;
- **blocked** changes apply makes only when asked: adding partitions, which moves keys to
  other partitions (per-activity order breaks across the change, and a compacted topic
  keeps the old value of a key in its old partition);
- **drift** no tool should fix unattended: fewer replicas than defined (a reassignment),
  more partitions than defined (Kafka cannot remove partitions), or a min ISR the current
  replicas cannot meet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shared import TopicSpec
from tools.topics.profiles import desired_configs

__all__ = ["AddPartitions", "AlterConfigs", "Drift", "ObservedTopic", "Plan", "make_plan"]

_MIN_ISR = "min.insync.replicas"


@dataclass(frozen=True, slots=True)
class ObservedTopic:
    """A topic as the cluster reports it.

    `configs` holds effective values (whatever their source) of at least the keys the
    definitions manage; `overrides` holds the topic-level overrides only (all of them),
    which a config change must resend because Kafka's AlterConfigs replaces the set.
    """

    name: str
    partitions: int
    replication_factor: int
    configs: Mapping[str, str]
    overrides: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlterConfigs:
    topic: str
    changes: Mapping[str, tuple[str | None, str]]
    """key -> (current effective value, value wanted)."""
    overrides: Mapping[str, str]
    """The complete set of topic-level overrides to send (current ones plus `changes`)."""


@dataclass(frozen=True, slots=True)
class AddPartitions:
    topic: str
    current: int
    wanted: int


@dataclass(frozen=True, slots=True)
class Drift:
    topic: str
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    creates: tuple[TopicSpec, ...] = ()
    alters: tuple[AlterConfigs, ...] = ()
    partitions: tuple[AddPartitions, ...] = ()
    drift: tuple[Drift, ...] = ()

    @property
    def in_sync(self) -> bool:
        """True when apply (even with partition increases allowed) would change nothing."""
        return not (self.creates or self.alters or self.partitions)

    def lines(self) -> list[str]:
        """The plan for people: `+` create, `~` change, `>` blocked, `!` drift."""
        out = [
            f"+ create {spec.name} partitions={spec.partitions} "
            f"replication={spec.replication_factor} {_configs_text(desired_configs(spec))}"
            for spec in self.creates
        ]
        for alter in self.alters:
            out.extend(
                f"~ config {alter.topic} {key}: {old if old is not None else '(unset)'} -> {new}"
                for key, (old, new) in sorted(alter.changes.items())
            )
        out.extend(
            f"> partitions {p.topic} {p.current} -> {p.wanted} "
            "(blocked: needs --allow-partition-increase; keys move to other partitions)"
            for p in self.partitions
        )
        out.extend(f"! drift {d.topic}: {d.reason}" for d in self.drift)
        return out


def _configs_text(configs: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(configs.items()))


def _same(key: str, current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    if key == "cleanup.policy":  # a list: "compact,delete" equals "delete,compact"
        return {p.strip() for p in current.split(",")} == {p.strip() for p in wanted.split(",")}
    return current == wanted


def make_plan(desired: Sequence[TopicSpec], observed: Mapping[str, ObservedTopic]) -> Plan:
    """What it takes to bring the `observed` topics to the `desired` definitions.

    Topics in `observed` without a definition are ignored: the cluster is shared.
    """
    creates: list[TopicSpec] = []
    alters: list[AlterConfigs] = []
    partitions: list[AddPartitions] = []
    drift: list[Drift] = []
    for spec in desired:
        topic = observed.get(spec.name)
        if topic is None:
            creates.append(spec)
            continue
        if topic.replication_factor < spec.replication_factor:
            drift.append(
                Drift(
                    spec.name,
                    f"replication factor {topic.replication_factor}, defined "
                    f"{spec.replication_factor}: reassign replicas "
                    "(kafka-reassign-partitions.sh); apply does not",
                )
            )
        elif topic.replication_factor > spec.replication_factor:
            drift.append(
                Drift(
                    spec.name,
                    f"replication factor {topic.replication_factor}, defined "
                    f"{spec.replication_factor} (more copies than needed; left as is)",
                )
            )
        if topic.partitions < spec.partitions:
            partitions.append(AddPartitions(spec.name, topic.partitions, spec.partitions))
        elif topic.partitions > spec.partitions:
            drift.append(
                Drift(
                    spec.name,
                    f"{topic.partitions} partitions, defined {spec.partitions} "
                    "(Kafka cannot remove partitions; raise the definition instead)",
                )
            )
        changes: dict[str, tuple[str | None, str]] = {}
        for key, wanted in desired_configs(spec).items():
            current = topic.configs.get(key)
            if _same(key, current, wanted):
                continue
            if key == _MIN_ISR and int(wanted) > topic.replication_factor:
                drift.append(
                    Drift(
                        spec.name,
                        f"{_MIN_ISR} {wanted} is more than its {topic.replication_factor} "
                        "replica(s): left at "
                        f"{current}, or every acks=all write would be refused",
                    )
                )
                continue
            changes[key] = (current, wanted)
        if changes:
            overrides = {**topic.overrides, **{k: new for k, (_, new) in changes.items()}}
            alters.append(AlterConfigs(spec.name, changes, overrides))
    return Plan(tuple(creates), tuple(alters), tuple(partitions), tuple(drift))

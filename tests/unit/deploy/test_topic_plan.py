"""The topic plan: what `python -m tools.topics apply` would change, computed without Kafka."""

from __future__ import annotations

import pytest

from shared import TopicSpec
from tools.topics.plan import ObservedTopic, make_plan
from tools.topics.profiles import desired_configs, desired_topics, profile

_DAY_MS = str(24 * 3600 * 1000)


def _observed(spec: TopicSpec, **changes: object) -> ObservedTopic:
    """`spec` as a cluster would report it right after creating it, with `changes`."""
    fields: dict[str, object] = {
        "name": spec.name,
        "partitions": spec.partitions,
        "replication_factor": spec.replication_factor,
        "configs": desired_configs(spec),
        "overrides": spec.configs(),
    }
    fields.update(changes)
    return ObservedTopic(**fields)  # type: ignore[arg-type]


def test_missing_topics_are_created_and_present_ones_left_alone() -> None:
    specs = [TopicSpec("a", 3, 1, retention_ms=1000), TopicSpec("b", 1, 1, compacted=True)]
    plan = make_plan(specs, {"b": _observed(specs[1])})
    assert plan.creates == (specs[0],)
    assert not plan.alters
    assert not plan.partitions
    assert not plan.drift
    assert plan.lines() == [
        "+ create a partitions=3 replication=1 cleanup.policy=delete retention.ms=1000"
    ]


def test_a_cluster_matching_the_definitions_is_in_sync() -> None:
    specs = desired_topics(profile("production"))
    plan = make_plan(specs, {s.name: _observed(s) for s in specs})
    assert plan.in_sync
    assert plan.lines() == []


def test_broker_defaults_that_equal_the_definition_are_not_a_difference() -> None:
    spec = TopicSpec("a", 3, 1)  # wants cleanup.policy=delete, the broker default
    observed = _observed(spec, configs={"cleanup.policy": "delete"}, overrides={})
    assert make_plan([spec], {"a": observed}).in_sync


def test_changed_configs_are_set_and_other_overrides_kept() -> None:
    spec = TopicSpec("a", 3, 1, compacted=True, retention_ms=1000)
    observed = _observed(
        spec,
        configs={"cleanup.policy": "delete", "retention.ms": _DAY_MS, "max.message.bytes": "9"},
        overrides={"retention.ms": _DAY_MS, "max.message.bytes": "9"},
    )
    plan = make_plan([spec], {"a": observed})
    (alter,) = plan.alters
    assert alter.changes == {
        "cleanup.policy": ("delete", "compact"),
        "retention.ms": (_DAY_MS, "1000"),
    }
    # AlterConfigs replaces the whole override set: the unmanaged one must be resent.
    assert alter.overrides == {
        "cleanup.policy": "compact",
        "retention.ms": "1000",
        "max.message.bytes": "9",
    }
    assert "~ config a cleanup.policy: delete -> compact" in plan.lines()


def test_cleanup_policy_lists_compare_as_sets() -> None:
    spec = TopicSpec("a", 3, 1)
    observed = _observed(spec, configs={"cleanup.policy": " delete"})
    assert make_plan([spec], {"a": observed}).in_sync


def test_adding_partitions_is_a_blocked_change() -> None:
    spec = TopicSpec("a", 6, 1)
    plan = make_plan([spec], {"a": _observed(spec, partitions=3)})
    assert not plan.in_sync
    assert [(p.topic, p.current, p.wanted) for p in plan.partitions] == [("a", 3, 6)]
    assert plan.lines()[0].startswith("> partitions a 3 -> 6 (blocked")


def test_what_apply_must_not_fix_is_drift() -> None:
    spec = TopicSpec("a", 3, 3, min_insync_replicas=2)
    observed = _observed(
        spec,
        partitions=12,
        replication_factor=1,
        configs={"cleanup.policy": "delete", "min.insync.replicas": "1"},
    )
    plan = make_plan([spec], {"a": observed})
    reasons = [d.reason for d in plan.drift]
    assert any("replication factor 1, defined 3" in r for r in reasons)
    assert any("12 partitions, defined 3" in r for r in reasons)
    # min ISR 2 on a single replica would make the topic refuse every acks=all write.
    assert any("min.insync.replicas 2 is more than its 1 replica" in r for r in reasons)
    assert plan.in_sync  # nothing apply would do
    assert all(line.startswith("! drift a: ") for line in plan.lines())


def test_topics_without_a_definition_are_ignored() -> None:
    spec = TopicSpec("a", 1, 1)
    other = ObservedTopic("someone.else", 1, 1, {"cleanup.policy": "compact"})
    assert make_plan([spec], {"a": _observed(spec), "someone.else": other}).in_sync


@pytest.mark.parametrize(
    ("name", "rf", "isr", "expected"),
    [
        ("production", None, None, (3, 2)),
        ("local", None, None, (1, 1)),
        ("production", 1, None, (1, 1)),
        ("production", 2, None, (2, 1)),
        ("production", 5, None, (5, 2)),
        ("local", 3, 3, (3, 3)),
    ],
)
def test_profiles_and_overrides(
    name: str, rf: int | None, isr: int | None, expected: tuple[int, int]
) -> None:
    chosen = profile(name, replication_factor=rf, min_insync_replicas=isr)
    assert (chosen.replication_factor, chosen.min_insync_replicas) == expected


@pytest.mark.parametrize(
    ("name", "rf", "isr", "message"),
    [
        ("staging", None, None, "unknown profile"),
        ("local", None, 2, "exceeds replication factor"),
        ("production", 0, None, "at least 1"),
    ],
)
def test_profiles_refuse_what_cannot_work(
    name: str, rf: int | None, isr: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        profile(name, replication_factor=rf, min_insync_replicas=isr)


def test_production_definitions_replicate_three_times_with_min_isr_two() -> None:
    for spec in desired_topics(profile("production"), namespace="prod"):
        assert spec.name.startswith("prod.tabridge.")
        assert (spec.replication_factor, spec.min_insync_replicas) == (3, 2)
        assert spec.compacted or spec.retention_ms is not None, spec.name

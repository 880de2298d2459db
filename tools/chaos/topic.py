"""What reached the activity-events topic: every record of a tag's activities, by change.

Read from the start of every partition to the end offsets taken when the read begins
(`ClusterOps.read_ranges`), with no consumer group (nothing is committed, no service's
group is disturbed). A change
(activity id, version) normally has one record; more records are duplicates on the
topic: the same event id again (a producer retry, the relay re-sending what the broker had
taken before it was killed) or a different id for the same change.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import orjson

from shared import KafkaTransport
from shared.events.topics import ACTIVITY_EVENTS, namespaced
from tools.chaos.receiver import Change


@dataclass
class OnTopic:
    ids_of: defaultdict[Change, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    @property
    def changes(self) -> int:
        return len(self.ids_of)

    @property
    def duplicates(self) -> int:
        """Records beyond the first of each change."""
        return sum(sum(ids.values()) - 1 for ids in self.ids_of.values())


async def read_changes(bootstrap: str, namespace: str, tag: str) -> OnTopic:
    topic = namespaced(ACTIVITY_EVENTS, namespace)
    marker = orjson.dumps(tag)
    ops = KafkaTransport(bootstrap)
    partitions = (await ops.partitions_of([topic])).get(topic, [])
    if not partitions:
        raise RuntimeError(f"no topic {topic} on {bootstrap}")
    starts, ends = await ops.offset_bounds(partitions)
    records = await ops.read_ranges(
        {tp: (starts[tp], ends[tp]) for tp in partitions if ends[tp] > starts[tp]}, within=600.0
    )
    found = OnTopic()
    for record in records:
        value = record.value or b""
        if marker not in value:
            continue
        data = orjson.loads(value)
        event_id = next((v.decode() for k, v in record.headers if k == "ce_id"), "?")
        found.ids_of[(str(data["activity_id"]), int(data["version"]))][event_id] += 1
    return found

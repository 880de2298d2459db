"""What reached the activity-events topic: every record of a tag's activities, by change.

Read from the start of every partition to the end offsets taken when the read begins, with
no consumer group (nothing is committed, no service's group is disturbed). A change
(activity id, version) normally has one record; more records are duplicates on the
topic: the same event id again (a producer retry, the relay re-sending what the broker had
taken before it was killed) or a different id for the same change.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

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
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    found = OnTopic()
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            raise RuntimeError(f"no topic {topic} on {bootstrap}")
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        read = dict.fromkeys(partitions, 0)  # the next offset to read, as far as we know
        while any(read[tp] < ends[tp] for tp in partitions):
            wanted = [tp for tp in partitions if read[tp] < ends[tp]]
            batches = await consumer.getmany(*wanted, timeout_ms=1000, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    read[tp] = max(read[tp], record.offset + 1)
                    value = record.value or b""
                    if record.offset >= ends[tp] or marker not in value:
                        continue
                    data = orjson.loads(value)
                    event_id = next((v.decode() for k, v in record.headers if k == "ce_id"), "?")
                    found.ids_of[(str(data["activity_id"]), int(data["version"]))][event_id] += 1
            for tp in wanted:  # nothing came: past transaction markers or compacted gaps?
                if not batches.get(tp):
                    read[tp] = max(read[tp], await consumer.position(tp))
    finally:
        await consumer.stop()
    return found

"""`ta-bridge dlq list` and `dlq redrive` against the real broker: a poison message made
by the real consumer runner, peeked at, then re-published to the group's retry topic and
handled; two groups on one topic, of which only the failing one sees the redrive; and a
redrive to a missing retry topic refused without creating it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.cli import main
from services.ops.dead_letters import read_dead_letters
from shared import (
    Event,
    InvalidInput,
    KafkaTransport,
    MessageContext,
    NotFound,
    Router,
    TopicSpec,
    retry_topic,
)
from tests.support.harness import Harness, Thing, stop_runner
from tests.support.topics import read_topic
from tests.support.waiting import eventually

pytestmark = pytest.mark.kafka


@pytest.fixture
async def harness(kafka_bootstrap: str, unique: str) -> AsyncIterator[Harness]:
    h = Harness(KafkaTransport(kafka_bootstrap), f"ops-dlq-{unique}")
    await h.start(partitions=2)
    try:
        yield h
    finally:
        await h.close()


async def test_dead_letters_are_listed_without_commit_and_redriven_as_the_same_events(
    harness: Harness, kafka_bootstrap: str, unique: str
) -> None:
    dlq = f"{harness.topic}.dlq"
    poisoned = {1, 3}
    handled: dict[int, list[str]] = {}

    async def handle(event: Event, ctx: MessageContext) -> None:
        assert isinstance(event, Thing)
        if event.n in poisoned:
            raise InvalidInput(f"thing {event.n} is poison")
        handled.setdefault(event.n, []).append(ctx.envelope.id)

    router = Router()
    router.route(Thing, handle)
    group = f"ops-dlq-{unique}"
    retry = retry_topic(group)
    await harness.transport.ensure_topics([TopicSpec(retry, 1)])
    runner = harness.runner(group, router, retry_topic=retry)
    task = asyncio.create_task(runner.run())
    try:
        await harness.publish([Thing(thing_id=f"k{n}", n=n) for n in range(4)])
        await eventually(lambda: set(handled) == {0, 2}, timeout=60)

        async def two_dead_letters() -> bool:
            return len(await read_dead_letters(kafka_bootstrap, dlq)) == 2

        await eventually(two_dead_letters, timeout=60, message="2 dead letters")
        letters = await read_dead_letters(kafka_bootstrap, dlq)
        assert await read_dead_letters(kafka_bootstrap, dlq) == letters, "a peek changes nothing"
        assert {d.key for d in letters} == {b"k1", b"k3"}
        for letter in letters:
            assert letter.original_topic == harness.topic
            assert letter.header("dlq.error.type") == "InvalidInput"
            assert letter.header("dlq.consumer.group") == f"ops-dlq-{unique}"
            assert letter.event_id
        assert len(await read_dead_letters(kafka_bootstrap, dlq, limit=1)) == 1
        future = datetime.now(UTC) + timedelta(hours=1)
        assert await read_dead_letters(kafka_bootstrap, dlq, since=future) == []

        code = await asyncio.to_thread(main, ["dlq", "list", dlq, "--bootstrap", kafka_bootstrap])
        assert code == 0

        code = await asyncio.to_thread(
            main, ["dlq", "redrive", dlq, "--bootstrap", kafka_bootstrap, "--dry-run", "--json"]
        )
        assert code == 0

        poisoned.clear()
        code = await asyncio.to_thread(
            main, ["dlq", "redrive", dlq, "--bootstrap", kafka_bootstrap, "--since", "1h"]
        )
        assert code == 0
        await eventually(lambda: set(handled) == {0, 1, 2, 3}, timeout=60)
    finally:
        await stop_runner(runner, task)

    by_key = {d.key: d for d in letters}
    assert handled[1] == [by_key[b"k1"].event_id], "redriven with the same event id, once"
    assert handled[3] == [by_key[b"k3"].event_id]
    ends = await harness.transport.end_offsets([harness.topic, retry])
    assert sum(n for tp, n in ends.items() if tp.topic == harness.topic) == 4, "only published"
    redriven = await read_topic(harness.transport, retry, 2)
    assert sum(n for tp, n in ends.items() if tp.topic == retry) == 2, "the dry run wrote nothing"
    for record in redriven:
        names = [k for k, _ in record.headers]
        assert not any(n.startswith("dlq.") for n in names)
        original = by_key[record.key]
        assert list(record.headers) == [
            *((k, v) for k, v in original.headers if not k.startswith("dlq.")),
            ("redrive.original.topic", harness.topic.encode()),
            ("redrive.original.partition", str(original.header("dlq.original.partition")).encode()),
            ("redrive.original.offset", str(original.header("dlq.original.offset")).encode()),
        ]
        assert record.value == original.value


async def test_records_without_an_original_topic_are_skipped_with_the_reason(
    kafka_bootstrap: str, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = KafkaTransport(kafka_bootstrap)
    webhooks_dlq = f"ops-{unique}.webhooks.dlq"
    await transport.ensure_topics([TopicSpec(webhooks_dlq, 1)])
    producer = transport.producer(client_id="tests")
    await producer.start()
    try:
        headers = [("dlq.webhook.id", b"wh-1"), ("dlq.subscription.id", b"sub_9")]
        await (await producer.send(webhooks_dlq, b"{}", key=b"TA-1", headers=headers))
    finally:
        await producer.stop()

    code = await asyncio.to_thread(
        main, ["dlq", "redrive", webhooks_dlq, "--bootstrap", kafka_bootstrap, "--json"]
    )

    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["redriven"] == []
    [skipped] = report["skipped"]
    assert "ta-bridge webhooks redrive sub_9" in skipped["reason"]
    with pytest.raises(NotFound, match="does not exist"):
        await read_dead_letters(kafka_bootstrap, f"ops-{unique}.missing.dlq")
    with pytest.raises(NotFound, match="not a dead-letter topic"):
        await read_dead_letters(kafka_bootstrap, webhooks_dlq.removesuffix(".dlq"))


async def test_redrive_reaches_only_the_group_that_dead_lettered_and_never_creates_a_topic(
    harness: Harness, kafka_bootstrap: str, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dlq = f"{harness.topic}.dlq"
    seen: dict[str, list[tuple[int, str, str]]] = {"picky": [], "easy": []}
    poison = {2}

    def handler(group: str) -> Callable[[Event, MessageContext], Awaitable[None]]:
        async def handle(event: Event, ctx: MessageContext) -> None:
            assert isinstance(event, Thing)
            if group == "picky" and event.n in poison:
                raise InvalidInput(f"thing {event.n} is poison to {group}")
            seen[group].append((event.n, ctx.envelope.id, ctx.topic))

        return handle

    groups = {name: f"ops-{name}-{unique}" for name in seen}
    await harness.transport.ensure_topics([TopicSpec(retry_topic(g), 1) for g in groups.values()])
    runners = []
    for name, group in groups.items():
        router = Router()
        router.route(Thing, handler(name))
        runner = harness.runner(group, router, retry_topic=retry_topic(group))
        runners.append((runner, asyncio.create_task(runner.run())))
    try:
        await harness.publish([Thing(thing_id=f"k{n}", n=n) for n in range(4)])
        await eventually(lambda: len(seen["easy"]) == 4, timeout=60, message="easy got all")
        await eventually(lambda: len(seen["picky"]) == 3, timeout=60, message="picky got 3")

        async def one_dead_letter() -> bool:
            return len(await read_dead_letters(kafka_bootstrap, dlq)) == 1

        await eventually(one_dead_letter, timeout=60, message="1 dead letter")
        poison.clear()
        code = await asyncio.to_thread(
            main, ["dlq", "redrive", dlq, "--bootstrap", kafka_bootstrap, "--json"]
        )
        assert code == 0
        report = json.loads(capsys.readouterr().out)
        [entry] = report["redriven"]
        assert (entry["to"], entry["group"]) == (retry_topic(groups["picky"]), groups["picky"])
        await eventually(lambda: len(seen["picky"]) == 4, timeout=60, message="picky redriven")
        # Both groups read the original topic; the redrive wrote to picky's retry topic only.
        # Had it gone to the original topic, easy would see it through the same loop.
        ends = await harness.transport.end_offsets([harness.topic])
        assert sum(ends.values()) == 4
    finally:
        for runner, task in runners:
            await stop_runner(runner, task)

    [letter] = await read_dead_letters(kafka_bootstrap, dlq)
    assert sorted(n for n, _, _ in seen["easy"]) == [0, 1, 2, 3], "no redrive reached it"
    again = [s for s in seen["picky"] if s[0] == 2]
    assert again == [(2, letter.event_id, retry_topic(groups["picky"]))]
    ends = await harness.transport.end_offsets([retry_topic(groups["easy"])])
    assert sum(ends.values()) == 0

    # A group whose retry topic is gone: refused, typed, and the topic is not created.
    gone = f"ops-gone-{unique}"
    changed = {"dlq.consumer.group": gone, "dlq.retry.topic": retry_topic(gone)}
    headers = [(k, changed[k].encode() if k in changed else v) for k, v in letter.headers]
    producer = harness.transport.producer(client_id="tests")
    await producer.start()
    try:
        await (await producer.send(dlq, letter.value, key=letter.key, headers=headers))
    finally:
        await producer.stop()
    code = await asyncio.to_thread(
        main, ["dlq", "redrive", dlq, "--group", gone, "--bootstrap", kafka_bootstrap]
    )
    assert code == 1
    assert f"retry topic(s) {retry_topic(gone)} do not exist" in capsys.readouterr().err
    assert await harness.transport.end_offsets([retry_topic(gone)]) == {}
    partitions = await KafkaTransport(kafka_bootstrap).partitions_of([retry_topic(gone)])
    assert partitions == {}, "the redrive created no topic"

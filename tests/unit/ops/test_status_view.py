"""The shared status view: lag and DLQ depth from an offset snapshot, and `/v1/status`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from shared import (
    READINESS,
    MemoryTransport,
    OffsetSnapshot,
    ReadinessCheck,
    StatusDetails,
    TopicPartition,
    TopicSpec,
    add_status_route,
    consumer_lag,
    dlq_depths,
    offset_reader,
)

T = "orders"
TP0, TP1 = TopicPartition(T, 0), TopicPartition(T, 1)
DLQ = TopicPartition("orders.dlq", 0)


def test_lag_is_end_minus_committed_or_what_is_retained_when_never_committed() -> None:
    snapshot = OffsetSnapshot(
        committed={"g": {TP0: 7}},
        low={TP0: 0, TP1: 4, DLQ: 2},
        high={TP0: 10, TP1: 9, DLQ: 5},
        missing=frozenset({"gone.dlq"}),
    )

    lag = consumer_lag(snapshot, "g", [T])

    assert [(p.partition, p.committed, p.end, p.lag) for p in lag.partitions] == [
        (0, 7, 10, 3),
        (1, None, 9, 5),
    ]
    assert lag.total == 8
    assert lag.as_json()["lag"] == 8
    assert [
        (d.topic, d.depth, d.exists) for d in dlq_depths(snapshot, ["orders.dlq", "gone.dlq"])
    ] == [
        ("orders.dlq", 3, True),
        ("gone.dlq", 0, False),
    ]


class _Unreachable:
    async def snapshot(self, groups: Sequence[str], topics: Sequence[str]) -> OffsetSnapshot:
        raise ConnectionError("broker down")


async def _serve(app: web.Application) -> TestClient[web.Request, web.Application]:
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


async def test_the_view_reports_lag_dlq_details_and_warnings_on_the_memory_twin() -> None:
    transport = MemoryTransport()
    await transport.ensure_topics([TopicSpec(T, 2), TopicSpec("orders.dlq", 1)])
    producer = transport.producer(client_id="t")
    await producer.start()
    for n in range(3):
        await (await producer.send(T, b"x", key=f"k{n}".encode(), partition=n % 2))
    await (await producer.send("orders.dlq", b"bad", partition=0))

    async def details(app: web.Application) -> StatusDetails:
        return StatusDetails({"model_id": "m-1"}, ["look at me"])

    app = web.Application()
    app[READINESS] = {}
    add_status_route(
        app,
        service="svc",
        reader=offset_reader(transport),
        groups={"g": [T]},
        dlq_topics=["orders.dlq"],
        details=details,
        clock=lambda: datetime(2026, 12, 1, tzinfo=UTC),
    )
    client = await _serve(app)
    try:
        async with client.get("/v1/status") as resp:
            assert resp.status == 200
            body = await resp.json()
    finally:
        await client.close()

    assert body["service"] == "svc"
    assert body["status"] == "ok"
    assert body["checked_at"] == "2026-12-01T00:00:00+00:00"
    [group] = body["kafka"]["consumer_groups"]
    assert group["group"] == "g"
    assert group["lag"] == 3
    assert [p["end"] for p in group["partitions"]] == [2, 1]
    assert body["kafka"]["dlq"] == [{"topic": "orders.dlq", "depth": 1, "exists": True}]
    assert body["details"] == {"model_id": "m-1"}
    assert body["warnings"] == ["orders.dlq holds 1 dead letter(s)", "look at me"]


async def test_the_view_answers_degraded_when_kafka_or_a_check_fails() -> None:
    async def database_down() -> bool:
        return False

    async def broken(app: web.Application) -> StatusDetails:
        raise RuntimeError("store closed")

    app = web.Application()
    checks: dict[str, ReadinessCheck] = {"database": database_down}
    app[READINESS] = checks
    add_status_route(
        app,
        service="svc",
        reader=_Unreachable(),
        groups={"g": [T]},
        dlq_topics=["orders.dlq"],
        details=broken,
    )
    client = await _serve(app)
    try:
        async with client.get("/v1/status") as resp:
            assert resp.status == 200
            body = await resp.json()
    finally:
        await client.close()

    assert body["status"] == "degraded"
    assert body["checks"] == {"database": False}
    assert body["kafka"]["reachable"] is False
    assert body["kafka"]["error"] == "ConnectionError: broker down"
    assert body["details"] == {"error": "store closed"}
    assert body["warnings"] == ["details unavailable: store closed"]

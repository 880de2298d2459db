"""The shared status view: lag and DLQ depth from an offset snapshot, and `/v1/status`."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from shared import (
    OPERATOR_KEYS,
    READINESS,
    CommonSettings,
    MemoryTransport,
    OffsetSnapshot,
    ReadinessCheck,
    StatusDetails,
    TopicPartition,
    TopicSpec,
    add_status_route,
    configure_logging,
    consumer_lag,
    create_base_app,
    dlq_depths,
    load_settings,
    offset_reader,
    parse_operator_keys,
)

T = "orders"
TP0, TP1 = TopicPartition(T, 0), TopicPartition(T, 1)
DLQ = TopicPartition("orders.dlq", 0)
OPERATOR_KEY = "operator-key-0123456789abcdef"
AS_OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}"}


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
    app[OPERATOR_KEYS] = parse_operator_keys(OPERATOR_KEY)
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
        async with client.get("/v1/status", headers=AS_OPERATOR) as resp:
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
    app[OPERATOR_KEYS] = parse_operator_keys(OPERATOR_KEY)
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
        async with client.get("/v1/status", headers=AS_OPERATOR) as resp:
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


async def test_anyone_gets_the_verdict_only_and_a_wrong_key_is_refused() -> None:
    transport = MemoryTransport()
    await transport.ensure_topics([TopicSpec(T, 1)])
    settings = load_settings(
        CommonSettings, {"TABRIDGE_OPERATOR_KEYS": f"sha256:{'0' * 64},{OPERATOR_KEY}"}
    )
    app = create_base_app(
        service="svc",
        logger=configure_logging("tests", "CRITICAL", stream=io.StringIO()),
        registry=CollectorRegistry(),
        settings=settings,
    )
    add_status_route(
        app, service="svc", reader=offset_reader(transport), groups={"g": [T]}, dlq_topics=[]
    )
    client = await _serve(app)
    try:
        async with client.get("/v1/status") as resp:
            assert resp.status == 200
            anonymous = await resp.json()
        answers = []
        for header in ("Bearer not-an-operator-key-000", "Basic abc", "Bearer ", "x" * 5000):
            async with client.get("/v1/status", headers={"Authorization": header}) as resp:
                answers.append((resp.status, resp.content_type))
    finally:
        await client.close()

    assert set(anonymous) == {"service", "status", "checked_at", "detail"}
    assert anonymous["status"] == "ok"
    assert answers == [(401, "application/problem+json")] * 4


async def test_a_group_committed_beyond_the_log_end_degrades_the_status() -> None:
    snapshot = OffsetSnapshot(
        committed={"g": {TP0: 24}}, low={TP0: 0, TP1: 0}, high={TP0: 0, TP1: 3}, missing=frozenset()
    )

    class _Fixed:
        async def snapshot(self, groups: Sequence[str], topics: Sequence[str]) -> OffsetSnapshot:
            return snapshot

    app = web.Application()
    app[READINESS] = {}
    app[OPERATOR_KEYS] = parse_operator_keys(OPERATOR_KEY)
    add_status_route(app, service="svc", reader=_Fixed(), groups={"g": [T]}, dlq_topics=[])
    client = await _serve(app)
    try:
        async with client.get("/v1/status", headers=AS_OPERATOR) as resp:
            body = await resp.json()
    finally:
        await client.close()

    assert body["status"] == "degraded"
    [group] = body["kafka"]["consumer_groups"]
    assert [p["beyond_end"] for p in group["partitions"]] == [True, False]
    [warning] = body["warnings"]
    assert "committed offset 24 of orders[0] but the log ends at 0" in warning

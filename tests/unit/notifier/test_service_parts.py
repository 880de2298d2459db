"""The service's own parts without Kafka: settings, event mapping, the activity index,
metrics and the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from services.notifier.activity_index import (
    ActivityIndex,
    Facets,
    MemoryActivityIndex,
    SqliteActivityIndex,
)
from services.notifier.consumer import (
    activity_facets,
    handle_activity_change,
    handle_activity_changes,
    handle_sdg_tags,
)
from services.notifier.deliveries import AttemptOutcome
from services.notifier.events import IncomingEvent
from services.notifier.metrics import PrometheusDeliveryMetrics
from services.notifier.openapi import document
from services.notifier.partners import hash_api_key
from services.notifier.schedule import SVIX_DELAYS
from services.notifier.settings import NotifierSettings
from services.notifier.views import add_subscription_routes
from shared import Envelope, MessageContext, SettingsError, load_settings, parse_traceparent
from shared.domain import Activity
from shared.events import ActivityUpdated, GoalTag, SdgTagsAssigned
from tests.support.activities import activity_doc

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_settings_defaults_and_parsing() -> None:
    default = load_settings(NotifierSettings, env={})
    assert (default.host, default.port, default.db_path) == ("127.0.0.1", 8083, "var/notifier.db")
    assert default.allowlist == ()
    assert default.retry_delays == SVIX_DELAYS
    settings = load_settings(
        NotifierSettings,
        env={
            "NOTIFIER_PARTNER_KEYS": '{"un-desa": {"name": "UN-DESA", "keys": ["k'
            + "x" * 20
            + '"]}}',
            "NOTIFIER_ALLOWLIST": "127.0.0.1/32, hooks.local:8080",
            "NOTIFIER_RETRY_DELAYS": "0,0.5,2",
            "NOTIFIER_RETRY_SCALE": "0.1",
        },
    )
    assert settings.partner_keys["un-desa"].name == "UN-DESA"
    assert settings.allowlist == ("127.0.0.1/32", "hooks.local:8080")
    assert settings.retry_delays == (0, 0.5, 2)


def test_partner_keys_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "partners.json"
    path.write_text(json.dumps({"eac": {"name": "EAC", "key_sha256": ["a" * 64]}}))
    settings = load_settings(NotifierSettings, env={"NOTIFIER_PARTNER_KEYS": str(path)})
    assert settings.partner_keys["eac"].key_sha256 == ("a" * 64,)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NOTIFIER_ALLOWLIST", "not-a-cidr"),
        ("NOTIFIER_PARTNER_KEYS", '{"Bad Id": {"name": "x"}}'),
        ("NOTIFIER_PARTNER_KEYS", '{"p": {"name": "x", "keys": ["short"]}}'),
        ("NOTIFIER_RETRY_DELAYS", "1,-2"),
        ("NOTIFIER_PORT", "70000"),
    ],
)
def test_bad_settings_fail_by_name(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(NotifierSettings, env={variable: value})


def test_a_key_shared_by_two_partners_is_refused_at_start_up() -> None:
    # One key for two partners would silently hand one partner's subscriptions to the other.
    shared_key = "k" * 32
    keys = {
        "eac": {"name": "EAC", "keys": [shared_key]},
        "un-desa": {"name": "UN-DESA", "key_sha256": [hash_api_key(shared_key)]},
    }
    with pytest.raises(SettingsError, match="'eac' and 'un-desa' share an API key"):
        load_settings(NotifierSettings, env={"NOTIFIER_PARTNER_KEYS": json.dumps(keys)})


def _activity(version: int = 1, **overrides: object) -> Activity:
    return Activity.model_validate(
        {
            **activity_doc(**overrides),
            "id": "TA-2026-000042",
            "version": version,
            "iati_identifier": "XI-IATI-WIPO-TA-2026-000042",
            "created_at": T0,
            "updated_at": T0,
            "created_by": "t",
            "updated_by": "t",
        }
    )


def _context(event: ActivityUpdated | SdgTagsAssigned) -> MessageContext:
    envelope = Envelope(
        id="evt-1",
        source="/registry",
        type=event.ce_type(),
        data=event.to_json(),
        time=T0,
        subject=event.activity_id,
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    return MessageContext(
        envelope=envelope, topic="t", partition=0, offset=0, key=event.activity_id, attempt=1
    )


@pytest.fixture(params=["memory", "sqlite"])
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ActivityIndex]:
    if request.param == "memory":
        yield MemoryActivityIndex()
        return
    sqlite = await SqliteActivityIndex.open(tmp_path / "n.db")
    yield sqlite
    await sqlite.close()


async def test_activity_change_becomes_a_structured_cloudevent(index: ActivityIndex) -> None:
    accepted: list[IncomingEvent] = []

    async def accept(event: IncomingEvent) -> None:
        accepted.append(event)

    state = _activity(
        partners=[
            {"name": "UNCTAD", "kind": "un_entity", "role": "cooperating", "ref": "XM-DAC-41111"}
        ],
        external_refs={"partner_ids": [{"partner": "tfm", "id": "TFM-9"}]},
    )
    event = ActivityUpdated(activity_id=state.id, version=1, actor="t", state=state)
    await handle_activity_change(event, _context(event), accept=accept, index=index)
    (incoming,) = accepted
    assert (incoming.id, incoming.subject) == ("evt-1", state.id)
    assert incoming.type == "org.wipo.tabridge.activity.updated.v1"
    assert incoming.countries == {"KE"}
    assert incoming.communities == {"EAC"}
    assert incoming.sdgs == {9}
    assert incoming.category == "national_ip_strategy"
    assert incoming.partners == {"UNCTAD", "XM-DAC-41111", "tfm"}
    assert incoming.traceparent is not None
    body = json.loads(incoming.body)
    assert body["id"] == "evt-1"
    assert body["specversion"] == "1.0"
    assert body["data"] == json.loads(event.to_json())


async def test_computed_goals_join_the_activitys_facets(index: ActivityIndex) -> None:
    accepted: list[IncomingEvent] = []

    async def accept(event: IncomingEvent) -> None:
        accepted.append(event)

    v1 = _activity()
    first = ActivityUpdated(activity_id=v1.id, version=1, actor="t", state=v1)
    await handle_activity_change(first, _context(first), accept=accept, index=index)
    tags = SdgTagsAssigned(
        activity_id=v1.id,
        activity_version=1,
        model_id="m",
        outcome="tagged",
        goals=[
            GoalTag(goal=3, score=0.9, decision="assigned"),
            GoalTag(goal=5, score=0.1, decision="rejected"),
        ],
    )
    await handle_sdg_tags(tags, _context(tags), accept=accept, index=index)
    assert accepted[1].sdgs == {3, 9}
    assert accepted[1].countries == {"KE"}
    v2 = _activity(2)
    second = ActivityUpdated(activity_id=v2.id, version=2, actor="t", state=v2)
    await handle_activity_change(second, _context(second), accept=accept, index=index)
    assert accepted[2].sdgs == {3, 9}
    # An older version never overwrites a newer one.
    assert await index.note_activity(v1.id, 1, Facets()) == {3}
    assert await index.note_goals(v1.id, 0, frozenset({1})) == await index.note_goals(
        v1.id, 1, frozenset({3})
    )


async def test_a_run_of_changes_is_noted_in_order_and_handed_over_at_once(
    index: ActivityIndex,
) -> None:
    """The batch handler: the same events as one at a time, one hand-over for the run, and
    each event under its own record's span."""
    handed: list[list[IncomingEvent]] = []

    async def accept_many(events: Sequence[IncomingEvent]) -> None:
        handed.append(list(events))

    v1 = _activity(
        partners=[
            {"name": "UNCTAD", "kind": "un_entity", "role": "cooperating", "ref": "XM-DAC-41111"}
        ]
    )
    v2 = _activity(2)
    await index.note_goals(v1.id, 1, frozenset({3}))
    first = ActivityUpdated(activity_id=v1.id, version=1, actor="t", state=v1)
    second = ActivityUpdated(activity_id=v2.id, version=2, actor="t", state=v2)
    span = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00000000000000aa-01")
    ctx_first, ctx_second = _context(first), replace(_context(second), span=span)
    # Version 2 first, then a late version 1, in one run.
    await handle_activity_changes(
        [(second, ctx_second), (first, ctx_first)], accept_many=accept_many, index=index
    )
    (run,) = handed
    assert [e.subject for e in run] == [v2.id, v1.id]
    assert [e.sdgs for e in run] == [{3, 9}, {3, 9}]
    assert run[0].partners == activity_facets(v2).partners
    assert run[1].partners == activity_facets(v1).partners
    assert "UNCTAD" in run[1].partners - run[0].partners
    assert run[0].traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00000000000000aa-01"
    # Without a record span: the current or the envelope's trace parent, as one at a time.
    assert run[1].traceparent is not None
    # The late version 1 did not overwrite version 2's facets.
    assert await index.note_goals(v1.id, 2, frozenset()) == activity_facets(v2)


def test_prometheus_metrics() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusDeliveryMetrics(registry)
    metrics.enqueued(3)
    metrics.attempted(AttemptOutcome.RETRY, 0.2)
    metrics.attempted(AttemptOutcome.DELIVERED, 0.01)
    metrics.delivered()
    metrics.failed()
    value = registry.get_sample_value
    assert value("notifier_deliveries_enqueued_total") == 3
    assert value("notifier_delivery_attempts_total", {"outcome": "retry"}) == 1
    assert value("notifier_delivery_attempts_total", {"outcome": "gone"}) == 0
    assert value("notifier_delivery_attempt_seconds_count", {"outcome": "delivered"}) == 1
    assert value("notifier_deliveries_delivered_total") == 1
    assert value("notifier_deliveries_failed_total") == 1


def test_openapi_documents_every_route() -> None:
    app = web.Application()
    add_subscription_routes(app)
    doc = document()
    documented = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method != "parameters" and path.startswith("/v1/subscriptions")
    }
    routed = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    assert routed == documented
    schemas = doc["components"]["schemas"]
    refs = {
        value.rsplit("/", 1)[1]
        for value in json.dumps(doc).split('"')
        if value.startswith("#/components/schemas/")
    }
    assert refs <= set(schemas)

"""Envelope round trips, catalogue decoding, upcasting, settings errors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import orjson
import pytest
from pydantic_settings import SettingsConfigDict

from shared import (
    CommonSettings,
    Envelope,
    Event,
    EventCatalog,
    InvalidEvent,
    SettingsError,
    load_settings,
)


class ThingV2(Event):
    TYPE: ClassVar[str] = "org.wipo.tabridge.test.widget"
    VERSION: ClassVar[int] = 2
    TOPIC: ClassVar[str] = "t"

    widget_id: str
    titles: dict[str, str]

    def key(self) -> str:
        return self.widget_id


def test_envelope_round_trips_through_kafka_headers() -> None:
    envelope = Envelope(
        id="e-1",
        source="/ta-bridge/registry",
        type="org.wipo.tabridge.test.widget.v2",
        data=b'{"widget_id": "w"}',
        time=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        subject="w",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        extensions={"partitionkey": "w"},
    )
    headers = envelope.to_headers()
    assert ("ce_time", b"2026-11-25T10:00:00Z") in headers
    assert ("traceparent", envelope.traceparent.encode()) in headers  # type: ignore[union-attr]
    assert Envelope.from_kafka(headers, envelope.data) == envelope


def test_missing_headers_are_named() -> None:
    with pytest.raises(InvalidEvent) as caught:
        Envelope.from_kafka([("ce_id", b"1")], b"{}")
    assert {f.pointer for f in caught.value.faults} == {
        "header:ce_specversion",
        "header:ce_source",
        "header:ce_type",
    }


def test_null_header_values_count_as_absent_never_crash() -> None:
    # Kafka allows a header without a value: a null required header is a typed fault (so the
    # record is dead-lettered), a null extra header is ignored.
    base: list[tuple[str, bytes | None]] = [
        ("ce_specversion", b"1.0"),
        ("ce_source", b"/t"),
        ("ce_type", b"org.wipo.tabridge.t.v1"),
        ("x-extra", None),
    ]
    with pytest.raises(InvalidEvent) as caught:
        Envelope.from_kafka([*base, ("ce_id", None)], b"{}")
    assert {f.pointer for f in caught.value.faults} == {"header:ce_id"}
    envelope = Envelope.from_kafka([*base, ("ce_id", b"1"), ("traceparent", None)], b"{}")
    assert (envelope.id, envelope.traceparent) == ("1", None)


def _envelope(ce_type: str, body: dict[str, Any]) -> Envelope:
    return Envelope(id="1", source="/t", type=ce_type, data=orjson.dumps(body))


def test_old_versions_are_upcast_and_unknown_fields_ignored() -> None:
    catalog = EventCatalog()
    catalog.register(ThingV2)
    catalog.register_upcaster(
        ThingV2.TYPE, 1, lambda body: {"widget_id": body["id"], "titles": {"en": body["title"]}}
    )
    old = catalog.decode(_envelope("org.wipo.tabridge.test.widget.v1", {"id": "w", "title": "T"}))
    assert old == ThingV2(widget_id="w", titles={"en": "T"})
    newer_fields = {"widget_id": "w", "titles": {}, "added_in_a_later_minor": 1}
    assert catalog.decode(_envelope("org.wipo.tabridge.test.widget.v2", newer_fields)).key() == "w"


def test_bad_bodies_say_where() -> None:
    catalog = EventCatalog()
    catalog.register(ThingV2)
    with pytest.raises(InvalidEvent) as caught:
        catalog.decode(_envelope("org.wipo.tabridge.test.widget.v2", {"titles": {"en": 3}}))
    assert {f.pointer for f in caught.value.faults} == {"/widget_id", "/titles/en"}
    with pytest.raises(InvalidEvent, match="newer than this reader"):
        catalog.decode(_envelope("org.wipo.tabridge.test.widget.v3", {}))
    with pytest.raises(InvalidEvent, match="no upcaster"):
        catalog.decode(_envelope("org.wipo.tabridge.test.widget.v1", {}))
    with pytest.raises(InvalidEvent, match="carries no major version"):
        catalog.decode(_envelope("org.wipo.tabridge.test.widget", {}))


class DemoSettings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore", frozen=True)

    port: int = 8080
    api_key: str


def test_settings_fail_fast_naming_the_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(DemoSettings, {"DEMO_PORT": "eighty"})
    message = str(caught.value)
    assert "DEMO_PORT" in message
    assert "DEMO_API_KEY" in message
    settings = load_settings(
        DemoSettings, {"DEMO_API_KEY": "k", "KAFKA_BOOTSTRAP_SERVERS": "h:1", "DEMO_PORT": "81"}
    )
    assert (settings.port, settings.kafka_bootstrap_servers) == (81, "h:1")

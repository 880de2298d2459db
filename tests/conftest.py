"""Session fixtures: the Kafka broker, unique names, and the two transports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared import KafkaTransport, MemoryTransport, Transport
from tests.support.kafka import find_broker


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    bootstrap, stop = find_broker()
    try:
        yield bootstrap
    finally:
        stop()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic, group and id names of one test."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("kafka", id="kafka", marks=pytest.mark.kafka),
    ]
)
def transport(request: pytest.FixtureRequest) -> Transport:
    """The in-memory twin and the real broker: the behaviour suite runs on both."""
    if request.param == "memory":
        return MemoryTransport()
    bootstrap: str = request.getfixturevalue("kafka_bootstrap")
    return KafkaTransport(bootstrap)

"""The start-up topic step: readiness always; topic creation only where it is allowed."""

from __future__ import annotations

import io

import pytest
from aiohttp import web

from shared import (
    LOGGER,
    READINESS,
    MemoryTransport,
    TopicSpec,
    configure_logging,
    topics_context,
)


@pytest.mark.parametrize(("create", "partitions"), [(True, 7), (False, 3)])
async def test_topics_are_created_only_when_allowed(create: bool, partitions: int) -> None:
    transport = MemoryTransport()  # a topic it has not been told about gets 3 partitions
    app = web.Application()
    app[READINESS] = {}
    app[LOGGER] = configure_logging("t", "WARNING", stream=io.StringIO())
    context = topics_context(transport, [TopicSpec("t.events", 7)], create=create)(app)
    await anext(context)
    assert "kafka" in app[READINESS]
    assert transport.broker.partitions_of("t.events") == partitions
    with pytest.raises(StopAsyncIteration):
        await anext(context)

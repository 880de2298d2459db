"""Signing secrets handed out by the API are sealed in the file and still sign after a
restart that rotates the sealing key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from services.notifier.secret_box import generate_key
from tests.integration.notifier_http.conftest import Receiver

from .conftest import activity, change

pytestmark = pytest.mark.kafka

Receivers = Callable[..., Awaitable[Receiver]]


def on_disk(db_path: str) -> bytes:
    path = Path(db_path)
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_api_secret_is_not_in_the_file_and_signs_after_key_rotation(
    notifier: Any, receivers: Receivers
) -> None:
    receiver = await receivers()
    old, new = generate_key(), generate_key()
    async with notifier(secret_keys=old) as service:
        sub = await service.subscribe(receiver.url)
        db_path = service.settings.db_path
    secret: str = sub["secret"]
    data = on_disk(db_path)
    assert secret.encode() not in data
    assert secret.removeprefix("whsec_").encode() not in data

    async with notifier(secret_keys=f"{new},{old}") as service:
        state = activity(1)
        await service.publish(change(state))
        (got,) = await receiver.wait_for(1, timeout=30)
        assert Webhook(secret).verify(got.body, got.headers)["subject"] == state.id
    assert secret.encode() not in on_disk(db_path)

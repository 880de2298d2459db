from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from services.notifier.signing import generate_secret, secret_key, webhook_headers
from services.notifier.subscriptions import Filters, Subscription


def test_secret_format() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    with pytest.raises(ValueError, match="whsec_"):
        secret_key("sk_nope")


def test_headers_verify_with_standardwebhooks() -> None:
    secret = generate_secret()
    body = b'{"id":"evt-1"}'
    now = int(datetime.now(UTC).timestamp())
    headers = webhook_headers([secret], msg_id="evt-1", timestamp=now, body=body)
    assert Webhook(secret).verify(body, headers) == {"id": "evt-1"}
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"id":"evt-2"}', headers)


def test_rotation_overlap_signs_with_both_then_one() -> None:
    t0 = datetime.now(UTC)
    sub = Subscription.new(
        partner_id="p",
        url="https://x.example",
        event_types=frozenset({"*"}),
        filters=Filters(),
        now=t0,
    )
    rotated = sub.rotated(now=t0, overlap=timedelta(hours=1))
    in_force = rotated.secrets_in_force(t0 + timedelta(minutes=59))
    assert in_force == [rotated.current_secret, sub.current_secret]
    assert rotated.secrets_in_force(t0 + timedelta(hours=1)) == [rotated.current_secret]
    twice = rotated.rotated(now=t0 + timedelta(minutes=1), overlap=timedelta(hours=5))
    # The first secret keeps its original expiry; the second gets the new overlap.
    assert [s.expires_at for s in twice.secrets] == [
        None,
        t0 + timedelta(minutes=1, hours=5),
        t0 + timedelta(hours=1),
    ]
    body = b"{}"
    ts = int(t0.timestamp())
    headers = webhook_headers(in_force, msg_id="m", timestamp=ts, body=body)
    for secret in (sub.current_secret, rotated.current_secret):
        Webhook(secret).verify(body, headers)

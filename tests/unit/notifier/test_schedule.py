from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from services.notifier.schedule import SVIX_DELAYS, RetrySchedule, parse_retry_after

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_default_schedule_is_svix_like() -> None:
    schedule = RetrySchedule(jitter=0)
    assert schedule.max_attempts == 8
    assert [schedule.delay_before(n).total_seconds() for n in range(1, 9)] == list(SVIX_DELAYS)


def test_scale_compresses_and_jitter_stays_in_band() -> None:
    schedule = RetrySchedule(scale=0.001, jitter=0.2, rng=random.Random(7))
    for attempt, base in enumerate(SVIX_DELAYS, start=1):
        delay = schedule.delay_before(attempt).total_seconds()
        assert base * 0.001 * 0.8 <= delay <= base * 0.001 * 1.2


def test_retry_after_replaces_schedule_and_is_capped() -> None:
    schedule = RetrySchedule(jitter=0, retry_after_cap=timedelta(hours=1))
    assert schedule.next_attempt_at(now=NOW, attempt=2) == NOW + timedelta(seconds=5)
    told = schedule.next_attempt_at(now=NOW, attempt=2, retry_after=timedelta(seconds=90))
    assert told == NOW + timedelta(seconds=90)
    capped = schedule.next_attempt_at(now=NOW, attempt=2, retry_after=timedelta(days=3))
    assert capped == NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 0 ", timedelta(0)),
        (format_datetime(NOW + timedelta(minutes=2), usegmt=True), timedelta(minutes=2)),
        (format_datetime(NOW - timedelta(minutes=2), usegmt=True), timedelta(0)),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_invalid_schedules_rejected() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RetrySchedule(delays=())
    with pytest.raises(ValueError, match="jitter"):
        RetrySchedule(jitter=1.5)

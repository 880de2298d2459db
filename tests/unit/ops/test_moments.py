"""`--since TIME`: ISO 8601 moments and ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.ops.moments import InvalidMoment, epoch_ms, parse_moment

NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T18:00:00Z", datetime(2026, 12, 1, 18, tzinfo=UTC)),
        ("2026-12-01T18:00:00", datetime(2026, 12, 1, 18, tzinfo=UTC)),
        ("2026-12-01T19:30+01:00", datetime(2026, 12, 1, 18, 30, tzinfo=UTC)),
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("90s", NOW - timedelta(seconds=90)),
        ("15m", NOW - timedelta(minutes=15)),
        ("2h", NOW - timedelta(hours=2)),
        ("1.5d", NOW - timedelta(hours=36)),
        ("1w", NOW - timedelta(weeks=1)),
    ],
)
def test_moments_and_ages(text: str, expected: datetime) -> None:
    moment = parse_moment(text, now=NOW)
    assert moment == expected
    assert moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["yesterday", "15 minutes", "-2h", ""])
def test_other_text_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidMoment, match="ISO 8601"):
        parse_moment(text, now=NOW)


def test_epoch_ms() -> None:
    assert epoch_ms(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)) == 1000

"""Reading the `--since TIME` of the ops commands.

TIME is an ISO 8601 moment (`2026-12-01T18:00:00Z`, `2026-12-01T18:00+01:00`, or a date;
without an offset it is UTC) or an age before now: `90s`, `15m`, `2h`, `3d`, `1w`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["InvalidMoment", "epoch_ms", "parse_moment"]

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


class InvalidMoment(ValueError):
    """The text is neither an ISO 8601 moment nor an age like `15m`."""


def parse_moment(text: str, *, now: datetime | None = None) -> datetime:
    """The aware UTC moment `text` names (see the module docstring).

    Raises:
        InvalidMoment: saying what forms are accepted.
    """
    age = _AGE.match(text)
    if age is not None:
        seconds = float(age.group(1)) * _UNIT_SECONDS[age.group(2)]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidMoment(
            f"{text!r} is not a time: give ISO 8601 (2026-12-01T18:00:00Z) or an age "
            "(90s, 15m, 2h, 3d, 1w)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, as Kafka timestamps count."""
    return int(moment.timestamp() * 1000)

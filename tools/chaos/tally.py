"""What a scenario counts, and the `CHAOS ...` lines it prints."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

TOTAL_KEYS = ("lost", "duplicated", "allowed", "server_errors")


@dataclass
class Tally:
    """Counts of one scenario. `lost`, `duplicated`, `allowed` (something that should have
    been refused was not) and `server_errors` (5xx, crashes) must all stay 0; `cases` and
    the `extra` figures describe what was tried."""

    scenario: str
    cases: int = 0
    lost: int = 0
    duplicated: int = 0
    allowed: int = 0
    server_errors: int = 0
    extra: defaultdict[str, float] = field(default_factory=lambda: defaultdict(int))
    failures: list[str] = field(default_factory=list)

    def fail(self, kind: str, what: str) -> None:
        """Count one fault of `kind` (a TOTAL_KEYS name) and remember what it was."""
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.failures) < 50:
            self.failures.append(f"{kind}: {what}")

    def line(self) -> str:
        figures = {"cases": self.cases, **{k: getattr(self, k) for k in TOTAL_KEYS}}
        figures.update(self.extra)
        return f"CHAOS {self.scenario} " + " ".join(f"{k}={v}" for k, v in figures.items())


def total_line(tallies: list[Tally]) -> str:
    sums = {k: sum(getattr(t, k) for t in tallies) for k in TOTAL_KEYS}
    return "CHAOS total " + " ".join(f"{k}={v}" for k, v in sums.items())

"""Trace ids the demo chooses itself, so it can say which trace shows a change."""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TraceStart:
    """A W3C `traceparent` for a new, sampled trace, and its trace id."""

    trace_id: str
    traceparent: str

    @classmethod
    def new(cls) -> TraceStart:
        trace_id = secrets.token_hex(16)
        return cls(trace_id, f"00-{trace_id}-{secrets.token_hex(8)}-01")

    def headers(self) -> dict[str, str]:
        return {"traceparent": self.traceparent}

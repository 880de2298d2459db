"""The event the Kafka consumer hands to :meth:`Dispatcher.accept`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class IncomingEvent(BaseModel):
    """One CloudEvent, reduced to what routing and delivery need.

    ``body`` is the CloudEvent JSON exactly as it will be POSTed (and signed); ``id`` is the
    CloudEvent id and becomes the ``webhook-id`` of every delivery of this event, including
    redrives. The facet sets are what subscription filters match against.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    subject: str = Field(min_length=1, description="activity id: the unit of ordering")
    time: datetime
    body: bytes
    traceparent: str | None = None
    countries: frozenset[str] = frozenset()
    communities: frozenset[str] = frozenset()
    sdgs: frozenset[int] = frozenset()
    category: str | None = None
    partners: frozenset[str] = frozenset()

"""Which handler takes which event family: one table per consumer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared._envelope import Envelope
from shared._event_model import Event

__all__ = ["Handler", "MessageContext", "Router"]


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Where a message came from, for handlers that need more than the event."""

    envelope: Envelope
    topic: str
    partition: int
    offset: int
    key: str | None
    attempt: int


Handler = Callable[[Event, MessageContext], Awaitable[None]]


class Router:
    """Maps event families to handlers. Families without a handler are skipped, not failed."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}

    def route(self, model: type[Event], handler: Handler) -> None:
        if model.TYPE in self._routes:
            raise ValueError(f"{model.TYPE} already has a handler")
        self._routes[model.TYPE] = handler

    def handler_for(self, family: str) -> Handler | None:
        return self._routes.get(family)

    def families(self) -> frozenset[str]:
        return frozenset(self._routes)

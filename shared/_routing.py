"""Which handler takes which event family: one table per consumer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields

from opentelemetry.trace import SpanContext

from shared._envelope import Envelope
from shared._event_model import Event

__all__ = ["BatchHandler", "Handler", "MessageContext", "Router", "message_context"]


@dataclass(frozen=True, slots=True)
class MessageContext:
    """Where a message came from, for handlers that need more than the event.

    `span` is the record's trace context as it came (the producer's span): a per-record
    handler runs with it current; a batch handler, which has no current span per record,
    parents what it does for a record on it, so either continues the change's trace.
    """

    envelope: Envelope
    topic: str
    partition: int
    offset: int
    key: str | None
    attempt: int
    span: SpanContext | None = None


_NEW = object.__new__
(
    _SET_ENVELOPE,
    _SET_TOPIC,
    _SET_PARTITION,
    _SET_OFFSET,
    _SET_KEY,
    _SET_ATTEMPT,
    _SET_SPAN,
) = (MessageContext.__dict__[f.name].__set__ for f in fields(MessageContext))


def message_context(
    envelope: Envelope,
    topic: str,
    partition: int,
    offset: int,
    key: str | None,
    attempt: int,
    span: SpanContext | None,
) -> MessageContext:
    """`MessageContext(...)` without the frozen dataclass's `__init__` (seven
    `object.__setattr__` calls, one context per record): slots filled by their descriptors."""
    ctx: MessageContext = _NEW(MessageContext)
    _SET_ENVELOPE(ctx, envelope)
    _SET_TOPIC(ctx, topic)
    _SET_PARTITION(ctx, partition)
    _SET_OFFSET(ctx, offset)
    _SET_KEY(ctx, key)
    _SET_ATTEMPT(ctx, attempt)
    _SET_SPAN(ctx, span)
    return ctx


Handler = Callable[[Event, MessageContext], Awaitable[None]]
"""Handles one event; the runner awaits it before the next record of the partition."""

BatchHandler = Callable[[Sequence[tuple[Event, MessageContext]]], Awaitable[None]]
"""Handles consecutive events of one partition (offset order) with one effect: one store
transaction, one produce. When it raises, the runner hands the same events over again one
at a time (lists of one), with the retry policy, so a poison event is dead-lettered alone;
so the effect of each event must be idempotent, as at-least-once delivery requires anyway."""


class Router:
    """Maps event families to handlers. Families without a handler are skipped, not failed."""

    def __init__(self) -> None:
        self._routes: dict[str, Handler] = {}
        self._batch_routes: dict[str, BatchHandler] = {}

    def route(self, model: type[Event], handler: Handler) -> None:
        self._check(model)
        self._routes[model.TYPE] = handler

    def route_batch(self, model: type[Event], handler: BatchHandler) -> None:
        """Route `model` to a handler that takes a run of events at once."""
        self._check(model)
        self._batch_routes[model.TYPE] = handler

    def _check(self, model: type[Event]) -> None:
        if model.TYPE in self._routes or model.TYPE in self._batch_routes:
            raise ValueError(f"{model.TYPE} already has a handler")

    def handler_for(self, family: str) -> Handler | None:
        return self._routes.get(family)

    def batch_handler_for(self, family: str) -> BatchHandler | None:
        return self._batch_routes.get(family)

    def families(self) -> frozenset[str]:
        return frozenset(self._routes) | frozenset(self._batch_routes)

"""Event handlers: each Kafka event becomes an :class:`IncomingEvent` queued for delivery.

The handlers never touch Kafka: they receive ``accept`` (or ``accept_many``) and the
activity index as parameters. Activity changes are handled a run at a time
(:func:`handle_activity_changes`, routed with ``Router.route_batch``): one index
transaction for the run, then one hand-over of all its events. The service passes
``Dispatcher.hand_over_many``, which returns once the deliveries are handed to the
write-behind writer; the runner's durability barrier (``Dispatcher.durable``) makes it
commit an offset only once they are stored. (``Dispatcher.accept``, which returns once
stored, works too.) Queueing is idempotent per (subscription, event id): a redelivered
record queues nothing new.

The webhook body is the CloudEvent in structured mode (``Envelope.to_structured()`` with
``data`` set to the event's JSON exactly as published).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import orjson

from shared import Envelope, Event, MessageContext, current_traceparent, format_traceparent
from shared.domain import Activity
from shared.events import (
    ActivityRegistered,
    ActivityUpdated,
    ActivityWithdrawn,
    SdgTagsAssigned,
)

from .activity_index import ActivityIndex, Facets
from .events import IncomingEvent

Accept = Callable[[IncomingEvent], Awaitable[object]]
AcceptMany = Callable[[Sequence[IncomingEvent]], Awaitable[object]]

ACTIVITY_CHANGES: tuple[type[Event], ...] = (ActivityRegistered, ActivityUpdated, ActivityWithdrawn)


def structured_body(envelope: Envelope) -> bytes:
    """The CloudEvent as one JSON document: the attributes plus ``data`` verbatim."""
    document = envelope.to_structured()
    document["data"] = orjson.Fragment(envelope.data)
    return orjson.dumps(document)


def activity_facets(state: Activity) -> Facets:
    """Countries are the beneficiaries; partners match by name, ref or partner-system name."""
    partners = {p.name for p in state.partners}
    partners |= {p.ref for p in state.partners if p.ref}
    partners |= {ref.partner for ref in state.external_refs.partner_ids}
    return Facets(
        countries=frozenset(state.countries()),
        communities=frozenset(state.regional_communities),
        sdgs=frozenset(state.sdg.goals),
        category=state.category.value,
        partners=frozenset(partners),
    )


def incoming(
    envelope: Envelope,
    *,
    subject: str,
    facets: Facets,
    sdgs: frozenset[int],
    traceparent: str | None = None,
) -> IncomingEvent:
    """The event as the dispatcher routes it; its trace parent is ``traceparent`` (the
    record's span, for a batch handler) or else the current (consumer) span."""
    return IncomingEvent(
        id=envelope.id,
        type=envelope.type,
        subject=subject,
        time=envelope.time,
        body=structured_body(envelope),
        traceparent=traceparent or current_traceparent() or envelope.traceparent,
        countries=facets.countries,
        communities=facets.communities,
        sdgs=sdgs,
        category=facets.category,
        partners=facets.partners,
    )


async def handle_activity_change(
    event: Event, ctx: MessageContext, *, accept: Accept, index: ActivityIndex
) -> None:
    """Queue an activity change; its SDG facet adds the computed goals known so far."""
    assert isinstance(event, ActivityRegistered | ActivityUpdated | ActivityWithdrawn)
    facets = activity_facets(event.state)
    computed = await index.note_activity(event.activity_id, event.version, facets)
    await accept(
        incoming(
            ctx.envelope, subject=event.activity_id, facets=facets, sdgs=facets.sdgs | computed
        )
    )


async def handle_activity_changes(
    batch: Sequence[tuple[Event, MessageContext]], *, accept_many: AcceptMany, index: ActivityIndex
) -> None:
    """:func:`handle_activity_change` for a run of one partition's events, in order: one
    index transaction notes them all, then they are handed over together. Each webhook
    continues its own record's trace (``ctx.span``, the record's context)."""
    changes: list[tuple[ActivityRegistered | ActivityUpdated | ActivityWithdrawn, Facets]] = []
    for event, _ in batch:
        assert isinstance(event, ActivityRegistered | ActivityUpdated | ActivityWithdrawn)
        changes.append((event, activity_facets(event.state)))
    computed = await index.note_activities(
        [(event.activity_id, event.version, facets) for event, facets in changes]
    )
    await accept_many(
        [
            incoming(
                ctx.envelope,
                subject=event.activity_id,
                facets=facets,
                sdgs=facets.sdgs | goals,
                traceparent=format_traceparent(ctx.span) if ctx.span is not None else None,
            )
            for (event, facets), goals, (_, ctx) in zip(changes, computed, batch, strict=True)
        ]
    )


async def handle_sdg_tags(
    event: Event, ctx: MessageContext, *, accept: Accept, index: ActivityIndex
) -> None:
    """Queue a tagging (type ``org.wipo.tabridge.sdg.tags.assigned.v1``) with the facets of
    the activity it tags; remember its goals for the activity's later changes."""
    assert isinstance(event, SdgTagsAssigned)
    goals = event.kept_goal_numbers()
    known = await index.note_goals(event.activity_id, event.activity_version, goals)
    facets = known or Facets()
    await accept(
        incoming(ctx.envelope, subject=event.activity_id, facets=facets, sdgs=facets.sdgs | goals)
    )

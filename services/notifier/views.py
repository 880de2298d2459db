"""HTTP views of ``/v1/subscriptions``; mount with :func:`add_subscription_routes`."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from shared import Fault, InvalidQuery

from .management import SubscriptionManager
from .payloads import (
    CreateBody,
    PatchBody,
    RedriveBody,
    RotateBody,
    attempt_json,
    parse,
    subscription_json,
)
from .problems import json_body
from .subscriptions import Partner, SubscriptionStatus

MANAGER = web.AppKey("notifier_subscriptions", SubscriptionManager)
PREFIX = "/v1/subscriptions"
MAX_PAGE = 500


def add_subscription_routes(
    app: web.Application, manager: SubscriptionManager | None = None
) -> None:
    """Register the subscription API on ``app`` (before it starts).

    Without ``manager``, the app's start-up must set ``app[MANAGER]`` (the composition root
    does, once the dispatcher it needs is running).
    """
    if manager is not None:
        app[MANAGER] = manager
    routes = [
        web.post(PREFIX, create),
        web.get(PREFIX, list_subscriptions, allow_head=False),
        web.get(PREFIX + "/{id}", get_subscription, allow_head=False),
        web.patch(PREFIX + "/{id}", patch_subscription),
        web.delete(PREFIX + "/{id}", delete_subscription),
        web.post(PREFIX + "/{id}/secret/rotate", rotate_secret),
        web.get(PREFIX + "/{id}/attempts", list_attempts, allow_head=False),
        web.post(PREFIX + "/{id}/redrive", redrive),
    ]
    app.router.add_routes(routes)


async def _partner(request: web.Request) -> Partner:
    return await request.app[MANAGER].authenticate(request.headers.get("Authorization"))


def _limit(request: web.Request, default: int = 100) -> int:
    raw = request.query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidQuery(
            f"limit must be a whole number from 1 to {MAX_PAGE}",
            [Fault("/query/limit", f"{raw!r} is not between 1 and {MAX_PAGE}")],
        )
    return int(raw)


async def create(request: web.Request) -> web.StreamResponse:
    partner = await _partner(request)
    body = parse(CreateBody, await json_body(request))
    subscription = await request.app[MANAGER].create(
        partner,
        url=body.url,
        event_types=frozenset(body.event_types),
        filters=body.filters.to_domain(),
        description=body.description,
    )
    return web.json_response(
        subscription_json(subscription, with_secret=True),
        status=201,
        headers={"Location": f"{PREFIX}/{subscription.id}"},
    )


async def list_subscriptions(request: web.Request) -> web.StreamResponse:
    partner = await _partner(request)
    limit = _limit(request)
    # `cursor` as in every list of ta-bridge (`after`, its former name, still works).
    cursor = request.query.get("cursor") or request.query.get("after")
    page = await request.app[MANAGER].list_owned(partner, after=cursor, limit=limit)
    next_cursor = page[-1].id if len(page) == limit else None
    return web.json_response(
        {"items": [subscription_json(s) for s in page], "next_cursor": next_cursor}
    )


async def get_subscription(request: web.Request) -> web.StreamResponse:
    partner = await _partner(request)
    subscription = await request.app[MANAGER].get(partner, request.match_info["id"])
    return web.json_response(subscription_json(subscription))


async def patch_subscription(request: web.Request) -> web.StreamResponse:
    partner = await _partner(request)
    # Ownership first: another partner's subscription is a 404 whatever the body holds.
    await request.app[MANAGER].get(partner, request.match_info["id"])
    body = parse(PatchBody, await json_body(request))
    subscription = await request.app[MANAGER].update(
        partner,
        request.match_info["id"],
        url=body.url,
        event_types=frozenset(body.event_types) if body.event_types is not None else None,
        filters=body.filters.to_domain() if body.filters is not None else None,
        status=SubscriptionStatus(body.status) if body.status is not None else None,
        description=body.description,
    )
    return web.json_response(subscription_json(subscription))


async def delete_subscription(request: web.Request) -> web.StreamResponse:
    partner = await _partner(request)
    await request.app[MANAGER].delete(partner, request.match_info["id"])
    return web.Response(status=204)


async def rotate_secret(request: web.Request) -> web.StreamResponse:
    partner = await _partner(request)
    await request.app[MANAGER].get(partner, request.match_info["id"])
    raw = await json_body(request) if request.can_read_body else {}
    body = parse(RotateBody, raw)
    subscription = await request.app[MANAGER].rotate_secret(
        partner, request.match_info["id"], overlap=timedelta(seconds=body.overlap_seconds)
    )
    return web.json_response(subscription_json(subscription, with_secret=True))


async def list_attempts(request: web.Request) -> web.StreamResponse:
    partner = await _partner(request)
    attempts = await request.app[MANAGER].attempts(
        partner,
        request.match_info["id"],
        limit=_limit(request),
        event_id=request.query.get("webhook_id"),
    )
    return web.json_response({"items": [attempt_json(a) for a in attempts]})


async def redrive(request: web.Request) -> web.StreamResponse:
    partner = await _partner(request)
    await request.app[MANAGER].get(partner, request.match_info["id"])
    raw = await json_body(request) if request.can_read_body else {}
    body = parse(RedriveBody, raw)
    queued = await request.app[MANAGER].redrive(partner, request.match_info["id"], since=body.since)
    return web.json_response(
        {"redriven": len(queued), "webhook_ids": [d.event_id for d in queued]}, status=202
    )

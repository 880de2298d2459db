"""Partner authentication: `Authorization: Bearer <key>`, keys held as SHA-256 digests.

A key that is valid for no partner gets 401 whatever the partner id, so an anonymous
caller learns nothing about which partner ids exist; a caller holding a valid key who names
a partner that is not configured gets 404 (a typo in the id is then not an auth failure).
"""

from __future__ import annotations

from aiohttp import web

from services.partner_feed.partners import PartnerDirectory, PartnerSource
from shared import OPERATOR_KEYS, MalformedCredentials, ProblemError, digest_matches
from shared import bearer_key as parse_bearer


def _unauthorised(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "unauthenticated",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="partner-feed"'},
    )


def bearer_key(request: web.Request) -> str:
    try:
        key = parse_bearer(request.headers.get("Authorization"))
    except MalformedCredentials:
        key = None
    if key is None:
        raise _unauthorised("send the partner's API key as 'Authorization: Bearer <key>'")
    return key


def authenticate(
    request: web.Request, partners: PartnerDirectory, partner_id: str
) -> PartnerSource:
    """The partner `partner_id`, if the request carries one of its keys; else 401."""
    key = bearer_key(request)
    partner = partners.get(partner_id)
    if partner is None:
        if any(known.accepts_key(key) for known in partners.all()):
            raise ProblemError(
                404, "partner_not_found", "Not found", f"no partner {partner_id!r} is configured"
            )
        raise _unauthorised("the API key is not valid")
    if not partner.accepts_key(key):
        raise _unauthorised("the API key is not valid for this partner")
    return partner


def caller(request: web.Request, partners: PartnerDirectory) -> PartnerSource:
    """The partner whose key the request carries; else 401."""
    key = bearer_key(request)
    for partner in partners.all():
        if partner.accepts_key(key):
            return partner
    raise _unauthorised("the API key is not valid")


def operator(request: web.Request) -> None:
    """Pass when the request carries one of the service's operator keys
    (`TABRIDGE_OPERATOR_KEYS`, as every service reads them); else 401 (403 when the service
    has no operator key at all)."""
    key = bearer_key(request)
    known: frozenset[str] = request.app.get(OPERATOR_KEYS, frozenset())
    if not known:
        raise ProblemError(
            403, "forbidden", "Forbidden", "no operator key is configured for this service"
        )
    if not digest_matches(key, known):
        raise _unauthorised("the key is not an operator key")

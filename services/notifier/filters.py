"""Which subscriptions an event goes to."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set

from .events import IncomingEvent
from .subscriptions import Filters, Subscription

#: community code (e.g. ``EAC``) -> ISO 3166-1 alpha-2 codes of its member countries.
CommunityMembers = Mapping[str, Set[str]]


def matches(filters: Filters, event: IncomingEvent, members: CommunityMembers) -> bool:
    """True when every constraining facet of ``filters`` is met by ``event``."""
    if filters.countries or filters.communities:
        wanted = set(filters.countries)
        for code in filters.communities:
            wanted |= members.get(code, set())
        geographic = bool(wanted & event.countries) or bool(filters.communities & event.communities)
        if not geographic:
            return False
    if filters.sdgs and not filters.sdgs & event.sdgs:
        return False
    if filters.categories and event.category not in filters.categories:
        return False
    return not (filters.partners and not filters.partners & event.partners)


def recipients(
    event: IncomingEvent, subscriptions: Iterable[Subscription], members: CommunityMembers
) -> list[Subscription]:
    """The subscriptions, among those given, that want ``event``."""
    return [s for s in subscriptions if s.wants(event.type) and matches(s.filters, event, members)]

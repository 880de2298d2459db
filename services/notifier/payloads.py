"""Request bodies of the subscription API and the JSON shapes it returns."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from .deliveries import Attempt
from .errors import FieldError, InvalidRequestError
from .subscriptions import Filters, Subscription

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
EventType = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Goal = Annotated[int, Field(ge=1, le=17)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FiltersBody(_Body):
    countries: list[CountryCode] = []
    communities: list[Code] = []
    sdgs: list[Goal] = []
    categories: list[Code] = []
    partners: list[Code] = []

    def to_domain(self) -> Filters:
        return Filters(
            countries=frozenset(self.countries),
            communities=frozenset(self.communities),
            sdgs=frozenset(self.sdgs),
            categories=frozenset(self.categories),
            partners=frozenset(self.partners),
        )


class CreateBody(_Body):
    url: str = Field(min_length=1)
    event_types: list[EventType] = Field(min_length=1)
    filters: FiltersBody = FiltersBody()
    description: str = Field(default="", max_length=500)


class PatchBody(_Body):
    url: str | None = Field(default=None, min_length=1)
    event_types: list[EventType] | None = Field(default=None, min_length=1)
    filters: FiltersBody | None = None
    status: Literal["active", "paused", "disabled"] | None = None
    description: str | None = Field(default=None, max_length=500)


class RotateBody(_Body):
    overlap_seconds: int = Field(default=86_400, ge=0, le=7 * 86_400)


class RedriveBody(_Body):
    since: AwareDatetime | None = None


BodyT = TypeVar("BodyT", bound=_Body)


def parse(model: type[BodyT], data: object) -> BodyT:
    """Validate ``data``; raises InvalidRequestError with a JSON Pointer per fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError("/" + "/".join(str(part) for part in e["loc"]), e["msg"], str(e["type"]))
            for e in exc.errors()
        ]
        raise InvalidRequestError("the request body is not valid", errors) from exc


def subscription_json(s: Subscription, *, with_secret: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": s.id,
        "url": s.url,
        "event_types": sorted(s.event_types),
        "filters": {
            "countries": sorted(s.filters.countries),
            "communities": sorted(s.filters.communities),
            "sdgs": sorted(s.filters.sdgs),
            "categories": sorted(s.filters.categories),
            "partners": sorted(s.filters.partners),
        },
        "status": s.status.value,
        "disabled_reason": s.disabled_reason,
        "description": s.description,
        "created_at": s.created_at.isoformat(),
        "updated_at": s.updated_at.isoformat(),
    }
    if with_secret:
        body["secret"] = s.current_secret
        body["previous_secret_expires_at"] = next(
            (x.expires_at.isoformat() for x in s.secrets[1:] if x.expires_at), None
        )
    return body


def attempt_json(a: Attempt) -> dict[str, Any]:
    return {
        "id": a.id,
        "delivery_id": a.delivery_id,
        "webhook_id": a.event_id,
        "number": a.number,
        "started_at": a.started_at.isoformat(),
        "outcome": a.outcome.value,
        "status_code": a.status_code,
        "latency_ms": a.latency_ms,
        "response_excerpt": a.response_excerpt,
        "error": a.error,
    }

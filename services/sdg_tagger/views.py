"""HTTP views of the tagger: `POST /v1/tag` previews the tags of a text.

The preview runs the same tagger as the consumer and emits nothing. Validation faults
come back as problem+json (422) with a JSON pointer each; bodies past the limit get 413.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.sdg_tagger.state import METRICS, SETTINGS, TAGGER
from shared import Fault, ProblemError, json_response, read_model, require_operator

__all__ = ["TagRequest", "add_routes"]

TargetId = Annotated[
    str, StringConstraints(pattern=r"^([1-9]|1[0-7])\.([1-9][0-9]?|[a-g])$", max_length=5)
]


class TagRequest(BaseModel):
    """A text to tag, and the curated tags that win over computed ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(
        description="Any language; an empty text, or one without letters, gets outcome "
        "'empty'; past 20,000 characters only the start is read (truncated=true)."
    )
    curated_goals: list[Annotated[int, Field(ge=1, le=17)]] = Field(
        default_factory=list, max_length=17, description="Human-curated goals (1-17)."
    )
    curated_targets: list[TargetId] = Field(
        default_factory=list, max_length=169, description="Human-curated targets, e.g. '9.5'."
    )


async def tag_view(request: web.Request) -> web.Response:
    # Previews run the model on any text: only for operators, never for anyone who asks.
    require_operator(request)
    app = request.app
    body = await read_model(request, TagRequest, limit=app[SETTINGS].max_body_bytes)
    tagger = app[TAGGER]
    faults = [
        Fault(f"/curated_targets/{i}", f"{target!r} is not an official SDG target")
        for i, target in enumerate(body.curated_targets)
        if not tagger.catalogue.has_target(target)
    ]
    if faults:
        raise ProblemError(
            422,
            "validation_failed",
            "Validation failed",
            f"{len(faults)} field(s) are invalid",
            faults=faults,
        )
    result = await asyncio.to_thread(
        tagger.tag,
        body.text,
        curated_goals=body.curated_goals,
        curated_targets=body.curated_targets,
    )
    app[METRICS].outcomes.labels(result.outcome, "preview").inc()
    return json_response(result.model_dump(mode="json"))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/tag", tag_view)

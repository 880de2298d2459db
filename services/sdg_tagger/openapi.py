"""The tagger's OpenAPI 3.1 document, built in code from the pydantic models."""

from __future__ import annotations

from functools import cache
from typing import Any

from services.sdg_tagger.result import TagResult
from services.sdg_tagger.views import TagRequest
from shared import (
    body_doc,
    component_schemas,
    document_view,
    json_response_doc,
    openapi_document,
    problem_doc,
    ref,
)

__all__ = ["document", "openapi_view"]


@cache
def document() -> dict[str, Any]:
    """The document (built once per process; it depends on code only)."""
    tag = {
        "operationId": "previewTags",
        "security": [{"operatorKey": []}],
        "summary": "Tag a text (preview; nothing is stored or emitted)",
        "requestBody": body_doc(ref("TagRequest")),
        "responses": {
            "200": json_response_doc(
                "The tags, decided ones first. `outcome` is "
                "tagged, knowledge_only, unsupported_language or empty.",
                ref("TagResult"),
            ),
            "400": problem_doc("Malformed JSON"),
            "401": problem_doc("No operator key"),
            "413": problem_doc("Body larger than the limit"),
            "415": problem_doc("Not application/json"),
            "422": problem_doc("Invalid fields, each with a JSON pointer"),
        },
    }
    return openapi_document(
        title="ta-bridge sdg-tagger",
        description="Previews the SDG goals and targets the tagger assigns to a text, "
        "with a score and the evidence for each. Curated tags, when given, win.",
        server="http://127.0.0.1:8084",
        paths={"/v1/tag": {"post": tag}},
        schemas=component_schemas((TagRequest, "validation"), (TagResult, "serialization")),
    )


openapi_view = document_view(document)

"""The tagger's OpenAPI 3.1 document, built in code from the pydantic models."""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from services.sdg_tagger.result import TagResult
from services.sdg_tagger.views import TagRequest
from shared import json_response, operational_paths, operator_security_scheme
from shared._problems import PROBLEM_SCHEMA

__all__ = ["openapi_document", "openapi_view"]

_REF = "#/components/schemas/{model}"


def _schemas(*models: tuple[type[BaseModel], JsonSchemaMode]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model, mode in models:
        schema = model.model_json_schema(ref_template=_REF, mode=mode)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The document (built once per process; it depends on code only)."""
    schemas = _schemas((TagRequest, "validation"), (TagResult, "serialization"))
    schemas["Problem"] = PROBLEM_SCHEMA
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ta-bridge sdg-tagger",
            "version": "1.0.0",
            "description": "Previews the SDG goals and targets the tagger assigns to a text, "
            "with a score and the evidence for each. Curated tags, when given, win.",
        },
        "servers": [{"url": "http://127.0.0.1:8084"}],
        "paths": {
            **operational_paths(),
            "/v1/tag": {
                "post": {
                    "operationId": "previewTags",
                    "security": [{"operatorKey": []}],
                    "summary": "Tag a text (preview; nothing is stored or emitted)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/TagRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The tags, decided ones first. `outcome` is "
                            "tagged, knowledge_only, unsupported_language or empty.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/TagResult"}
                                }
                            },
                        },
                        "400": _problem("Malformed JSON"),
                        "401": _problem("No operator key"),
                        "413": _problem("Body larger than the limit"),
                        "415": _problem("Not application/json"),
                        "422": _problem("Invalid fields, each with a JSON pointer"),
                    },
                }
            },
        },
        "components": {"schemas": schemas, "securitySchemes": operator_security_scheme()},
    }


async def openapi_view(request: web.Request) -> web.Response:
    return json_response(openapi_document())

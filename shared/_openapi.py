"""OpenAPI 3.1 documents, built in code the same way by every service.

A service describes only its own operations, with the helpers here (`ref`, `json_response_doc`,
`problem_doc`, `body_doc`, `component_schemas`), and hands them to `openapi_document`,
which adds what every service shares: the problem+json schema (`Problem`, from
`shared._problems`), the operator security scheme, and the routes `create_base_app` and
`add_status_route` add (`operational_paths()`), with the security the code applies: health,
readiness and metrics open; status open for its minimal answer and operator-keyed for its
detail. `document_view` serves a document at `/openapi.json`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from shared._http import json_response
from shared._operator import operator_security_scheme
from shared._problems import PROBLEM_CONTENT_TYPE, PROBLEM_SCHEMA

__all__ = [
    "OPEN",
    "OPERATOR_OR_ANONYMOUS",
    "body_doc",
    "component_schemas",
    "document_view",
    "json_response_doc",
    "openapi_document",
    "operational_paths",
    "operator_security_scheme",
    "problem_doc",
    "ref",
]

Document = dict[str, Any]
_REF = "#/components/schemas/{model}"


def ref(name: str) -> dict[str, str]:
    """A `$ref` to the component schema `name`."""
    return {"$ref": _REF.format(model=name)}


def json_response_doc(description: str, schema: Mapping[str, Any] | None = None) -> Document:
    """A JSON response object (`schema` defaults to any object)."""
    return {
        "description": description,
        "content": {"application/json": {"schema": dict(schema or {"type": "object"})}},
    }


def problem_doc(description: str) -> Document:
    """An error response: RFC 9457 problem details, the `Problem` schema."""
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": ref("Problem")}},
    }


def body_doc(
    schema: Mapping[str, Any], *, required: bool = True, media: str = "application/json"
) -> Document:
    """A request body object."""
    return {"required": required, "content": {media: {"schema": dict(schema)}}}


def component_schemas(
    *models: type[BaseModel] | tuple[type[BaseModel], JsonSchemaMode],
) -> Document:
    """The JSON schemas of `models` (each with the mode to describe, validation by default)
    and of the models they use, keyed by class name, for `components.schemas`."""
    schemas: Document = {}
    for entry in models:
        model, mode = entry if isinstance(entry, tuple) else (entry, "validation")
        schema = model.model_json_schema(ref_template=_REF, mode=mode)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def openapi_document(
    *,
    title: str,
    description: str,
    server: str,
    paths: Mapping[str, Any],
    schemas: Mapping[str, Any] | None = None,
    security_schemes: Mapping[str, Any] | None = None,
    security: list[dict[str, list[str]]] | None = None,
) -> Document:
    """A whole document: the service's `paths`, `schemas` and `security_schemes`, plus the
    operational routes, the `Problem` schema and the operator key scheme."""
    document: Document = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0", "description": description},
        "servers": [{"url": server}],
    }
    if security is not None:
        document["security"] = security
    document["paths"] = {**paths, **operational_paths()}
    document["components"] = {
        "schemas": {**(schemas or {}), "Problem": PROBLEM_SCHEMA},
        "securitySchemes": {**(security_schemes or {}), **operator_security_scheme()},
    }
    return document


def document_view(
    build: Callable[[], Document],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The `/openapi.json` view serving `build()` (build it once: it depends on code only)."""

    async def openapi_view(request: web.Request) -> web.Response:
        return json_response(build())

    return openapi_view


#: Open to anyone (overrides a document's default `security`).
OPEN: list[dict[str, list[str]]] = []
#: Anyone gets the minimal answer; an operator key gets the full one.
OPERATOR_OR_ANONYMOUS: list[dict[str, list[str]]] = [{}, {"operatorKey": []}]


def _json(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {}}}}


def operational_paths() -> dict[str, Any]:
    """`/healthz`, `/readyz`, `/metrics` and `/v1/status`, as OpenAPI 3.1 path items."""
    return {
        "/healthz": {
            "get": {
                "operationId": "liveness",
                "security": OPEN,
                "summary": "Liveness: the process is up",
                "responses": {"200": _json("alive")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readiness",
                "security": OPEN,
                "summary": "Readiness: every dependency (store, broker, consumers) answers",
                "responses": {
                    "200": _json("ready, with each check"),
                    "503": _json("not ready, naming the failing checks"),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "security": OPEN,
                "summary": "Prometheus metrics (text exposition format)",
                "responses": {
                    "200": {
                        "description": "metrics",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/v1/status": {
            "get": {
                "operationId": "status",
                "security": OPERATOR_OR_ANONYMOUS,
                "summary": "Status: anyone gets the verdict; an operator key adds the readiness "
                "checks, consumer lag per group and partition, DLQ depth and what the service "
                "adds (always 200 while up)",
                "responses": {
                    "200": _json("the status document"),
                    "401": _json("credentials that are not an operator key"),
                },
            }
        },
    }

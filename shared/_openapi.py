"""The OpenAPI path items every service shares: liveness, readiness, metrics and status.

Each service's document merges `operational_paths()` into its own `paths` and
`operator_security_scheme()` into its `components.securitySchemes`, so the routes that
`create_base_app` and `add_status_route` add are documented once, the same everywhere,
with the security the code applies: health, readiness and metrics open; status open for
its minimal answer and operator-keyed for its detail.
"""

from __future__ import annotations

from typing import Any

from shared._operator import operator_security_scheme

__all__ = ["operational_paths", "operator_security_scheme"]

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

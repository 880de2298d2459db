"""The OpenAPI path items every service shares: liveness, readiness, metrics and status.

Each service's document merges `operational_paths()` into its own `paths`, so the routes
that `create_base_app` and `add_status_route` add are documented once, the same everywhere.
"""

from __future__ import annotations

from typing import Any

__all__ = ["operational_paths"]


def _json(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {}}}}


def operational_paths() -> dict[str, Any]:
    """`/healthz`, `/readyz`, `/metrics` and `/v1/status`, as OpenAPI 3.1 path items."""
    return {
        "/healthz": {
            "get": {
                "operationId": "liveness",
                "summary": "Liveness: the process is up",
                "responses": {"200": _json("alive")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readiness",
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
                "summary": "Operator status: readiness checks, consumer lag per group and "
                "partition, DLQ depth, and what the service adds (always 200 while up)",
                "responses": {"200": _json("the status document")},
            }
        },
    }

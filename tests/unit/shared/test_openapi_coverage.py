"""Every route each service serves is in its OpenAPI document, and the document names
nothing it does not serve (the operational routes included)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from services.notifier.app import create_app as notifier_app
from services.notifier.openapi import document as notifier_doc
from services.notifier.settings import NotifierSettings
from services.partner_feed.app import create_app as feed_app
from services.partner_feed.openapi import document as feed_doc
from services.partner_feed.settings import FeedSettings
from services.registry.app import create_app as registry_app
from services.registry.openapi import document as registry_doc
from services.registry.settings import RegistrySettings
from services.sdg_tagger.app import create_app as tagger_app
from services.sdg_tagger.openapi import document as tagger_doc
from services.sdg_tagger.settings import TaggerSettings
from shared import MemoryTransport, load_settings
from shared._problems import PROBLEM_CONTENT_TYPE, PROBLEM_SCHEMA

# The document itself is the one route a document need not describe.
_UNDOCUMENTED = {("GET", "/openapi.json")}


def _registry(tmp: Path) -> web.Application:
    settings = load_settings(RegistrySettings, {"REGISTRY_SQLITE_PATH": str(tmp / "r.db")})
    return registry_app(settings, transport=MemoryTransport())


def _feed(tmp: Path) -> web.Application:
    settings = load_settings(FeedSettings, {"FEED_DB_PATH": str(tmp / "f.db")})
    return feed_app(settings, transport=MemoryTransport())


def _notifier(tmp: Path) -> web.Application:
    settings = load_settings(NotifierSettings, {"NOTIFIER_DB_PATH": str(tmp / "n.db")})
    return notifier_app(settings, transport=MemoryTransport())


def _tagger(tmp: Path) -> web.Application:
    settings = load_settings(TaggerSettings, {"TAGGER_DB_PATH": str(tmp / "t.db")})
    return tagger_app(settings, transport=MemoryTransport())


SERVICES: dict[str, tuple[Callable[[Path], web.Application], Callable[[], dict[str, Any]]]] = {
    "registry": (_registry, registry_doc),
    "partner-feed": (_feed, feed_doc),
    "notifier": (_notifier, notifier_doc),
    "sdg-tagger": (_tagger, tagger_doc),
}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_route_is_documented_and_every_documented_path_is_served(
    service: str, tmp_path: Path
) -> None:
    build, document = SERVICES[service]
    app = build(tmp_path)
    routes = [
        (route.method, route.resource)
        for route in app.router.routes()
        if route.resource is not None and route.method not in {"HEAD", "OPTIONS"}
        if (route.method, route.resource.canonical) not in _UNDOCUMENTED
    ]
    documented = {
        (method.upper(), path)
        for path, item in document()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }

    def serves(resource: web.AbstractResource, path: str) -> bool:
        # A templated path is documented as the template; a pattern route such as
        # /v1/feeds/{feed:iati\.xml|...} as each concrete path it serves.
        pattern = resource.get_info().get("pattern")
        return resource.canonical == path or bool(pattern and pattern.fullmatch(path))

    undocumented = {
        (method, resource.canonical)
        for method, resource in routes
        if not any(m == method and serves(resource, path) for m, path in documented)
    }
    unserved = {
        (m, path)
        for m, path in documented
        if not any(m == method and serves(resource, path) for method, resource in routes)
    }
    assert undocumented == set(), "served but not documented"
    assert unserved == set(), "documented but not served"
    assert {"/healthz", "/readyz", "/metrics", "/v1/status"} <= {p for _, p in documented}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_error_response_is_the_one_shared_problem_schema(service: str) -> None:
    _, document = SERVICES[service]
    doc = document()
    assert doc["components"]["schemas"]["Problem"] == PROBLEM_SCHEMA
    assert "operatorKey" in doc["components"]["securitySchemes"]
    errors = [
        response
        for item in doc["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        for status, response in operation.get("responses", {}).items()
        if status.startswith(("4", "5")) and "content" in response
    ]
    assert errors, "the document describes its error answers"
    for response in errors:
        content = response["content"]
        assert set(content) <= {PROBLEM_CONTENT_TYPE, "application/json"}
        if PROBLEM_CONTENT_TYPE in content:
            assert content[PROBLEM_CONTENT_TYPE]["schema"] == {
                "$ref": "#/components/schemas/Problem"
            }

"""One problem vocabulary: the same faults, sent over real HTTP to the four real services,
get the same problem document (shared._problems) from each.

Faults: malformed JSON, a field of the wrong type, a body over the limit, an unknown path,
a method the path does not allow, a bad query value and a bad API key. Partner-feed has no
JSON request bodies (it takes partner files, and answers them with an import report), so
the two JSON faults go to the other three; the tagger's /v1/tag takes no API key.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.devstack import (
    SERVICES,
    Stack,
    StackConfig,
    apply_topics,
    build_env,
    caller_env,
    free_port,
)
from services.devstack.demo.keys import DemoKeys, ensure_registry_key
from shared._problems import PROBLEM_TYPE_BASE
from tests.support.activities import activity_doc

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
KEYS = DemoKeys(registry_name="contract-admin", registry="contract-admin-key-0123456789")
PARTNER_KEY = "contract-partner-key-0123456789"
OPERATOR_KEY = "contract-operator-key-0123456789"
LIMIT = 4096
SHAPE = {"type", "code", "title", "status", "detail", "instance"}


@dataclass(frozen=True)
class Call:
    service: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None


@pytest.fixture
async def urls(kafka_bootstrap: str, unique: str, tmp_path: Path) -> AsyncIterator[dict[str, str]]:

    digest = hashlib.sha256(PARTNER_KEY.encode()).hexdigest()
    partners = tmp_path / "partners.json"
    partners.write_text(
        json.dumps([{"id": "unops", "format": "iati", "api_key_sha256": [digest]}]),
        encoding="utf-8",
    )
    config = StackConfig(
        root=ROOT,
        state_dir=tmp_path / "state",
        bootstrap_servers=kafka_bootstrap,
        namespace=f"problems{unique}",
        ports={spec.name: free_port() for spec in SERVICES},
        overrides={
            "registry": {
                "REGISTRY_MAX_BODY_BYTES": str(LIMIT),
                "REGISTRY_BULK_MAX_BYTES": str(LIMIT),
            },
            "partner-feed": {"FEED_PARTNERS": str(partners), "FEED_UPLOAD_MAX_BYTES": str(LIMIT)},
            "sdg-tagger": {
                "TAGGER_MAX_BODY_BYTES": str(LIMIT),
                "TABRIDGE_OPERATOR_KEYS": OPERATOR_KEY,
            },
            "notifier": {
                "NOTIFIER_PARTNER_KEYS": json.dumps({"eac": {"name": "EAC", "keys": [PARTNER_KEY]}})
            },
        },
        base_env=caller_env(),
    )
    stack = Stack(config)
    await ensure_registry_key(
        KEYS, python=config.python, cwd=ROOT, env=build_env(config, stack.spec("registry"))
    )
    topics = await apply_topics(config)
    assert topics.applied, topics.summary
    try:
        await stack.start(ready_timeout=90)
        yield {spec.name: stack.url(spec.name) for spec in SERVICES}
    finally:
        await stack.stop(deadline=30)


ADMIN = {"Authorization": f"Bearer {KEYS.registry}"}
OPERATOR = {"Authorization": f"Bearer {OPERATOR_KEY}"}
PARTNER = {"Authorization": f"Bearer {PARTNER_KEY}"}
JSON = {"Content-Type": "application/json"}
#: Where each service takes a JSON body: (path, headers, a body with one field of the wrong type)
JSON_BODIES = {
    "registry": ("/v1/activities", ADMIN, {"title": 5}),
    "notifier": ("/v1/subscriptions", PARTNER, {"url": 5, "event_types": ["*"]}),
    "sdg-tagger": ("/v1/tag", OPERATOR, {"text": 5}),
}
#: A list each service answers, to give a bad query value to.
LISTS = {
    "registry": ("/v1/activities?limit=abc", ADMIN),
    "partner-feed": ("/v1/imports/none?limit=abc", PARTNER),
    "notifier": ("/v1/subscriptions?limit=abc", PARTNER),
}
#: An authenticated resource of each service, asked with a key nobody has.
AUTHENTICATED = {
    "registry": ("GET", "/v1/activities"),
    "partner-feed": ("GET", "/v1/partners/unops/links"),
    "notifier": ("GET", "/v1/subscriptions"),
    "sdg-tagger": ("POST", "/v1/tag"),
}
#: A path and a method it does not allow.
WRONG_METHOD = {
    "registry": "/v1/activities",
    "partner-feed": "/v1/imports",
    "notifier": "/v1/subscriptions/x/redrive",
    "sdg-tagger": "/v1/tag",
}
UPLOADS = {
    "registry": ("POST", "/v1/activities", {**ADMIN, **JSON}),
    "partner-feed": (
        "POST",
        "/v1/imports?partner=unops",
        {**PARTNER, "Content-Type": "application/xml"},
    ),
    "notifier": ("POST", "/v1/subscriptions", {**PARTNER, **JSON}),
    "sdg-tagger": ("POST", "/v1/tag", {**OPERATOR, **JSON}),
}


async def problem(
    http: aiohttp.ClientSession, base: str, method: str, path: str, **kwargs: Any
) -> tuple[dict[str, Any], Mapping[str, str]]:
    async with http.request(method, base + path, **kwargs) as response:
        assert response.content_type == "application/problem+json", (
            f"{method} {base}{path}: {response.status} {response.content_type}"
            f" {await response.text()}"
        )
        document: dict[str, Any] = await response.json(content_type=None)
        assert document.get("status") == response.status, document
        return document, response.headers


def shaped(document: dict[str, Any], *, status: int, code: str, path: str) -> None:
    """The one shape: absolute type ending in the code, the path as instance."""
    assert document.keys() >= SHAPE, document
    assert document["type"] == PROBLEM_TYPE_BASE + code, json.dumps(document)
    assert (document["status"], document["code"]) == (status, code), document
    assert document["instance"] == path.partition("?")[0], document
    assert isinstance(document["detail"], str) and document["detail"], document
    for error in document.get("errors", []):
        assert set(error) == {"pointer", "message", "code"}, error


async def test_the_same_faults_get_the_same_problem_from_every_service(
    urls: dict[str, str],
) -> None:
    async with aiohttp.ClientSession() as http:
        for name, (path, headers, wrong) in JSON_BODIES.items():
            doc, _ = await problem(
                http, urls[name], "POST", path, data=b'{"text": ', headers={**headers, **JSON}
            )
            shaped(doc, status=400, code="malformed_json", path=path)

            doc, _ = await problem(http, urls[name], "POST", path, json=wrong, headers=headers)
            shaped(doc, status=422, code="validation_failed", path=path)
            typed = [e for e in doc["errors"] if e["pointer"] in {"/title", "/url", "/text"}]
            assert typed and typed[0]["code"] != "invalid", doc  # the fault's own kind

        # The same fault on POST and on PATCH: the same code.
        registry = urls["registry"]
        async with http.post(
            registry + "/v1/activities", json=activity_doc(), headers=ADMIN
        ) as response:
            assert response.status == 201, await response.text()
            created = await response.json()
        path = f"/v1/activities/{created['id']}"
        for method, where, media in (
            ("POST", "/v1/activities", "application/json"),
            ("PATCH", path, "application/merge-patch+json"),
        ):
            body = activity_doc(stage="nowhere") if method == "POST" else {"stage": "nowhere"}
            doc, _ = await problem(
                http,
                registry,
                method,
                where,
                data=json.dumps(body),
                headers={**ADMIN, "Content-Type": media},
            )
            shaped(doc, status=422, code="validation_failed", path=where)
            assert [e["pointer"] for e in doc["errors"]] == ["/stage"], doc

        for name, (method, path, headers) in UPLOADS.items():
            doc, _ = await problem(
                http,
                urls[name],
                method,
                path,
                data=io.BytesIO(b"x" * (1024 * 1024 + 1)),
                headers=headers,
            )
            shaped(doc, status=413, code="payload_too_large", path=path)

        for name, base in urls.items():
            path = "/v1/no-such-thing"
            doc, _ = await problem(http, base, "GET", path)
            shaped(doc, status=404, code="not_found", path=path)
            assert path in doc["detail"]

            path = WRONG_METHOD[name]
            doc, answered = await problem(http, base, "DELETE", path)
            shaped(doc, status=405, code="method_not_allowed", path=path)
            assert "POST" in answered["Allow"], answered

        for name, (path, headers) in LISTS.items():
            doc, _ = await problem(http, urls[name], "GET", path, headers=headers)
            shaped(doc, status=400, code="invalid_query", path=path)
            assert doc["errors"][0]["pointer"] == "/query/limit", doc
            assert "invalid literal" not in json.dumps(doc), doc

        for name, (method, path) in AUTHENTICATED.items():
            doc, answered = await problem(
                http, urls[name], method, path, headers={"Authorization": "Bearer nobody-has-it"}
            )
            shaped(doc, status=401, code="unauthenticated", path=path)
            assert answered["WWW-Authenticate"].startswith("Bearer"), answered

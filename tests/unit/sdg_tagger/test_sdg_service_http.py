"""The tagger's HTTP surface on a real server on loopback (memory transport underneath)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.sdg_tagger import SdgTagger
from shared import MemoryTransport
from tests.integration.sdg_tagger.harness import (
    GREEK_TEXT,
    TISC_TEXT,
    TaggerService,
    start_tagger_service,
)
from tests.support.waiting import eventually


@pytest.fixture
async def service(tmp_path: Path, unique: str, tagger: SdgTagger) -> AsyncIterator[TaggerService]:
    svc = await start_tagger_service(tmp_path, MemoryTransport(), f"http{unique}", tagger)
    try:
        yield svc
    finally:
        await svc.close()


async def post(service: TaggerService, body: Any, **kwargs: Any) -> tuple[int, str, Any]:
    data = body if isinstance(body, bytes | AsyncIterator) else orjson.dumps(body)
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    async with service.http.post(
        service.url("/v1/tag"), data=data, headers=headers, **kwargs
    ) as resp:
        return resp.status, resp.content_type, orjson.loads(await resp.read())


def pointers(problem: dict[str, Any]) -> list[str]:
    return [e["pointer"] for e in problem["errors"]]


async def test_preview_tags_a_text_with_scores_and_evidence(
    service: TaggerService, tagger: SdgTagger
) -> None:
    status, media, body = await post(service, {"text": TISC_TEXT})
    assert (status, media) == (200, "application/json")
    assert body["model_id"] == tagger.model_id
    assert body["outcome"] == "tagged"
    goal9 = next(g for g in body["goals"] if g["goal"] == 9)
    assert goal9["decision"] == "assigned"
    assert 0 < goal9["score"] <= 1
    assert "tisc" in goal9["evidence"]["matched_terms"]
    assert goal9["evidence"]["closest_target"]["text"]


async def test_preview_curated_tags_win(service: TaggerService) -> None:
    status, _, body = await post(
        service, {"text": TISC_TEXT, "curated_goals": [5], "curated_targets": ["5.5"]}
    )
    assert status == 200
    assert [g["goal"] for g in body["goals"] if g["decision"] != "rejected"] == [5]
    assert [t["target"] for t in body["targets"] if t["decision"] == "curated"] == ["5.5"]


@pytest.mark.parametrize(
    ("text", "outcome"),
    [("", "empty"), ("  12345 ... ", "empty"), (GREEK_TEXT, "unsupported_language")],
)
async def test_preview_gives_an_outcome_for_texts_it_cannot_tag(
    service: TaggerService, text: str, outcome: str
) -> None:
    status, _, body = await post(service, {"text": text})
    assert status == 200
    assert body["outcome"] == outcome
    assert [g for g in body["goals"] if g["decision"] != "rejected"] == []


async def test_preview_truncates_a_long_text(service: TaggerService) -> None:
    text = "patent office automation and innovation support " * 2_000
    status, _, body = await post(service, {"text": text})
    assert status == 200
    assert body["truncated"] is True
    assert body["characters"] == len(text)
    assert body["characters_used"] <= 20_000


async def test_preview_validation_faults_carry_json_pointers(service: TaggerService) -> None:
    status, media, problem = await post(
        service, {"curated_goals": [0, 9], "curated_targets": ["9.5", "nine"], "extra": 1}
    )
    assert (status, media) == (422, "application/problem+json")
    assert problem["code"] == "validation_failed"
    assert set(pointers(problem)) == {
        "/text",
        "/curated_goals/0",
        "/curated_targets/1",
        "/extra",
    }


async def test_preview_rejects_targets_that_do_not_exist(service: TaggerService) -> None:
    status, _, problem = await post(
        service, {"text": TISC_TEXT, "curated_targets": ["9.5", "9.9", "1.g"]}
    )
    assert status == 422
    assert pointers(problem) == ["/curated_targets/1", "/curated_targets/2"]


async def test_preview_refuses_a_body_over_the_limit(service: TaggerService) -> None:
    big = orjson.dumps({"text": "a" * (service.settings.max_body_bytes + 1)})
    status, media, problem = await post(service, big)
    assert (status, media) == (413, "application/problem+json")
    assert problem["code"] == "payload_too_large"


async def test_preview_refuses_a_chunked_body_over_the_limit(service: TaggerService) -> None:
    chunk = b"a" * 65_536

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(service.settings.max_body_bytes // len(chunk) + 2):
            yield chunk
        yield b'"}'

    status, _, problem = await post(service, chunks())
    assert status == 413
    assert problem["code"] == "payload_too_large"


async def test_preview_refuses_malformed_json_and_other_media(service: TaggerService) -> None:
    status, _, problem = await post(service, b'{"text": ')
    assert (status, problem["code"]) == (400, "malformed_json")
    status, _, problem = await post(service, b"text", headers={"Content-Type": "text/plain"})
    assert (status, problem["code"]) == (415, "unsupported_media_type")


async def test_openapi_documents_the_preview(service: TaggerService) -> None:
    async with service.http.get(service.url("/openapi.json")) as resp:
        assert resp.status == 200
        doc = orjson.loads(await resp.read())
    assert doc["openapi"] == "3.1.0"
    operation = doc["paths"]["/v1/tag"]["post"]
    assert set(operation["responses"]) >= {"200", "413", "422"}
    schemas = doc["components"]["schemas"]
    assert {"TagRequest", "TagResult", "GoalTag", "Evidence", "Problem"} <= set(schemas)
    assert schemas["TagRequest"]["required"] == ["text"]
    assert "$defs" not in orjson.dumps(doc).decode()


async def test_health_readiness_and_metrics(service: TaggerService) -> None:
    async with service.http.get(service.url("/healthz")) as resp:
        assert resp.status == 200

    async def ready() -> Any:
        async with service.http.get(service.url("/readyz")) as resp:
            body = orjson.loads(await resp.read())
            return body if resp.status == 200 else None

    body = await eventually(ready, message="tagger ready")
    assert set(body["checks"]) == {
        "database",
        "kafka",
        f"consumer:{service.settings.namespaced_group(service.settings.group_id)}",
    }
    await post(service, {"text": TISC_TEXT})
    async with service.http.get(service.url("/metrics")) as resp:
        text = await resp.text()
    assert 'sdgtagger_outcomes_total{channel="preview",outcome="tagged"} 1.0' in text


async def test_readiness_fails_when_kafka_is_down(service: TaggerService) -> None:
    assert isinstance(service.transport, MemoryTransport)
    service.transport.broker.available = False
    async with service.http.get(service.url("/readyz")) as resp:
        assert resp.status == 503
        body = orjson.loads(await resp.read())
    assert body["checks"]["kafka"] is False


async def test_preview_needs_an_operator_key(service: TaggerService) -> None:
    answers = []
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong-key-0000000000"}):
        status, media, body = await post(service, {"text": TISC_TEXT}, headers=headers)
        answers.append((status, media, body["code"]))
    assert answers == [(401, "application/problem+json", "unauthenticated")] * 2

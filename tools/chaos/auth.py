"""Scenario `auth`: every operation of every service's `/openapi.json` by every bad credential.

For each operation the document secures, the request is sent with no, empty, malformed,
wrong-scheme, unknown, over-long, revoked and under-scoped credentials, and with the other
partner's key on the first partner's resources: each must be denied (401/403, or 404 for
another tenant's resource). Open operations are probed anonymously: `/v1/status` must not
show groups, topics or offsets. Anything else is `allowed`.
"""

from __future__ import annotations

from typing import Any

from tools.chaos.cases import activity_doc
from tools.chaos.hostile import CLEAN_IATI
from tools.chaos.stack import ADMIN_KEY, OPERATOR_KEY, READER_KEY, REVOKED_KEY, System
from tools.chaos.tally import Tally

SERVICES = ("registry", "partner-feed", "notifier", "sdg-tagger")
SCOPE_RANK = {"read": 0, "write": 1, "admin": 2}

BAD = {
    "missing": None,
    "empty": "",
    "bearer-no-token": "Bearer",
    "bearer-blank": "Bearer    ",
    "malformed": "Bearer a b c",
    "wrong-scheme": "Basic dXNlcjpwYXNzd29yZA==",
    "token-scheme": "Token chaos-unctad-key-0123456789abcdef",
    "unknown": "Bearer unknown-key-0123456789abcdef",
    "over-long": "Bearer " + "k" * 9000,
    "latin1": "Bearer cl\xe9",
}


async def _ids(system: System) -> dict[str, str]:
    """Real resources of the first partner (and an activity), for the path parameters."""
    a = system.partners[0]
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    async with system.http.post(
        system.url("registry", "/v1/activities"), json=activity_doc(), headers=admin
    ) as resp:
        activity_id = (await resp.json())["id"]
    async with system.http.post(
        system.url("partner-feed", f"/v1/imports?partner={a.id}&format=iati&wait=true"),
        data=CLEAN_IATI.read_bytes(),
        headers=a.auth,
    ) as resp:
        import_id = (await resp.json())["id"]
    async with system.http.post(
        system.url("notifier", "/v1/subscriptions"),
        json={"url": system.receiver.url, "event_types": ["*"]},
        headers=a.auth,
    ) as resp:
        subscription_id = (await resp.json())["id"]
    return {
        "activity_id": activity_id,
        "version": "1",
        "import_id": import_id,
        "id": subscription_id,
        "partner_id": a.id,
    }


def _body(service: str, path: str, system: System) -> tuple[bytes | None, dict[str, str]]:
    json_type = {"Content-Type": "application/json"}
    if service == "registry" and path.endswith("/withdraw"):
        return b'{"reason": "chaos"}', json_type
    if service == "registry" and path == "/v1/activities/{activity_id}":
        return b'{"stage": "implementation"}', {"Content-Type": "application/merge-patch+json"}
    if service == "registry":
        import json

        return json.dumps(activity_doc()).encode(), json_type
    if service == "partner-feed":
        return CLEAN_IATI.read_bytes(), {}
    if service == "notifier":
        return b'{"url": "' + system.receiver.url.encode() + b'", "event_types": ["*"]}', json_type
    return b'{"text": "patent offices and innovation support"}', json_type


QUICK = ("missing", "malformed", "unknown", "over-long")


def _credentials(
    service: str,
    template: str,
    security: list[dict[str, list[str]]],
    system: System,
    quick: bool,
) -> dict[str, str | None]:
    """Every credential that must be refused for an operation with `security`."""
    creds: dict[str, str | None] = {k: v for k, v in BAD.items() if not quick or k in QUICK}
    schemes = {name for requirement in security for name in requirement}
    other = system.partners[1].key
    if service == "registry":
        creds["revoked"] = f"Bearer {REVOKED_KEY}"
        creds["operator-key"] = f"Bearer {OPERATOR_KEY}"
        creds["partner-key"] = f"Bearer {system.partners[0].key}"
        needed = max(
            (SCOPE_RANK.get(s, 0) for r in security for s in r.get("apiKey", [])), default=0
        )
        if needed > SCOPE_RANK["read"]:
            creds["under-scoped"] = f"Bearer {READER_KEY}"
    if "operatorKey" in schemes and "partnerKey" not in schemes:
        creds["partner-key"] = f"Bearer {system.partners[0].key}"
        creds["registry-admin-key"] = f"Bearer {ADMIN_KEY}"
    # The other partner may use the collection routes for itself; on the first partner's
    # resources (an id in the path, or `?partner=` of an upload) it must be refused.
    owned = "{" in template or template == "/v1/imports"
    if "partnerKey" in schemes and owned:
        creds["other-partner"] = f"Bearer {other}"
    if "partnerKey" in schemes:
        creds["operator-key"] = f"Bearer {OPERATOR_KEY}"
    return creds


def _open(security: list[dict[str, list[str]]]) -> bool:
    return security == [] or {} in security


async def run(system: System, *, quick: bool = False) -> Tally:
    tally = Tally("auth")
    ids = await _ids(system)
    operations = 0
    for service in SERVICES:
        async with system.http.get(system.url(service, "/openapi.json")) as resp:
            document: dict[str, Any] = await resp.json()
        default = document.get("security", [])
        for template, item in document["paths"].items():
            path = template
            for name, value in ids.items():
                path = path.replace("{" + name + "}", value)
            for method, operation in item.items():
                if method not in {"get", "post", "put", "patch", "delete"}:
                    continue
                operations += 1
                security = operation.get("security", default)
                if _open(security):
                    await _probe_open(system, tally, service, method, path, template)
                    continue
                body, headers = _body(service, template, system)
                if service == "partner-feed" and template == "/v1/imports":
                    path = f"/v1/imports?partner={system.partners[0].id}&format=iati&wait=true"
                for name, credential in _credentials(
                    service, template, security, system, quick
                ).items():
                    sent = dict(headers)
                    if credential is not None:
                        sent["Authorization"] = credential
                    await _probe_denied(system, tally, service, method, path, body, sent, name)
    await _isolation(system, tally, ids)
    tally.extra["operations"] = operations
    return tally


async def _probe_open(
    system: System, tally: Tally, service: str, method: str, path: str, template: str
) -> None:
    tally.cases += 1
    async with system.http.request(method.upper(), system.url(service, path)) as resp:
        body = await resp.read()
        if resp.status >= 500:
            tally.fail("server_errors", f"{service} {method} {path}: {resp.status}")
        if template == "/v1/status" and (b'"kafka"' in body or b'"consumer_groups"' in body):
            tally.fail("allowed", f"{service} anonymous /v1/status shows Kafka detail")
    tally.extra["open_probed"] += 1


async def _probe_denied(
    system: System,
    tally: Tally,
    service: str,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    name: str,
) -> None:
    tally.cases += 1
    try:
        async with system.http.request(
            method.upper(), system.url(service, path), data=body, headers=headers
        ) as resp:
            status = resp.status
            await resp.read()
    except ValueError:
        # The client itself refuses to send the header (a NUL byte): nothing to deny.
        tally.extra["unsendable"] += 1
        return
    if status >= 500:
        tally.fail("server_errors", f"{service} {method} {path} [{name}]: {status}")
    elif status in {401, 403} or (name == "other-partner" and status == 404):
        tally.extra["denied"] += 1
    elif name == "over-long" and status in {400, 431}:
        tally.extra["denied"] += 1  # refused by the HTTP parser before any handler
    elif 400 <= status < 500:
        # Refused, but for another reason than the credential: auth ran after validation.
        tally.fail("allowed", f"{service} {method} {path} [{name}]: {status} before auth")
    else:
        tally.fail("allowed", f"{service} {method} {path} [{name}]: {status}")


async def _isolation(system: System, tally: Tally, ids: dict[str, str]) -> None:
    """The second partner lists none of the first partner's subscriptions."""
    b = system.partners[1]
    tally.cases += 1
    async with system.http.get(system.url("notifier", "/v1/subscriptions"), headers=b.auth) as resp:
        listed = await resp.json()
    if any(item["id"] == ids["id"] for item in listed.get("items", [])):
        tally.fail("allowed", "partner B lists partner A's subscription")

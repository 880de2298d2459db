"""Scenario `hostile`: hundreds of generated hostile bodies, headers and paths against every
service, slow clients, and then a clean upload that must lose nothing.

Correct answers: a typed 4xx (problem+json) or, for uploads, an import that fails or
quarantines with findings. Counted: 5xx and crashed services (`server_errors`), hostile
input accepted as if clean (`allowed`), records missing from the clean upload (`lost`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from lxml import etree
from yarl import URL

from tools.chaos.canary import Canary
from tools.chaos.cases import (
    Case,
    activity_doc,
    feed_cases,
    notifier_cases,
    registry_cases,
    tagger_cases,
)
from tools.chaos.stack import ADMIN_KEY, OPERATOR_KEY, ROOT, System
from tools.chaos.tally import Tally

CLEAN_IATI = ROOT / "deploy" / "demo-data" / "partners" / "unops-activities.xml"
PROBLEM = "application/problem+json"


def _credentials(system: System, case: Case) -> dict[str, str]:
    if case.service == "registry":
        return {"Authorization": f"Bearer {ADMIN_KEY}"}
    if case.service == "sdg-tagger":
        return {"Authorization": f"Bearer {OPERATOR_KEY}"}
    return system.partners[0].auth


async def _send(system: System, case: Case) -> tuple[int | None, str, Any]:
    """(status or None when the connection was dropped, content type, parsed body)."""
    headers = {**_credentials(system, case), **case.headers}
    url = system.url(case.service, case.path)
    try:
        async with system.http.request(
            case.method,
            URL(url, encoded=True),
            data=case.body,
            headers=headers,
            skip_auto_headers=["Content-Type"] if "Content-Type" not in headers else (),
        ) as resp:
            raw = await resp.read()
            body: Any = None
            if resp.content_type.endswith("json"):
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
            return resp.status, resp.content_type, body if body is not None else raw[:200]
    except (aiohttp.ClientError, TimeoutError) as exc:
        return None, type(exc).__name__, None


def _import_refused(body: Any) -> bool:
    """An import report that did not take the input as clean."""
    if not isinstance(body, dict):
        return False
    return (
        body.get("status") == "failed"
        or bool(body.get("fatal"))
        or bool(body.get("quarantined"))
        or bool(body.get("warnings"))
    )


def _judge(tally: Tally, case: Case, status: int | None, ctype: str, body: Any) -> None:
    tally.cases += 1
    if status is None:
        tally.extra["dropped"] += 1  # the server closed the connection: not a 5xx
        return
    if status >= 500:
        tally.fail("server_errors", f"{case.name}: {status} {str(body)[:160]}")
        return
    if 400 <= status < 500:
        if ctype != PROBLEM:
            # Parser-level refusals are problems too now (`shared._parser_errors`): a 4xx
            # that is not one breaks the contract and counts in the totals.
            tally.extra["untyped_4xx"] += 1
            tally.fail("allowed", f"untyped {case.name}: {status} {ctype}")
            return
        tally.extra["refused"] += 1
        return
    if case.expect == "any":
        tally.extra["accepted"] += 1
        return
    if case.expect == "import" and _import_refused(body):
        tally.extra["failed_imports"] += 1
        return
    tally.fail("allowed", f"{case.name}: {status} {str(body)[:160]}")


async def _slow_client(system: System, service: str, tally: Tally, *, body: bool) -> None:
    """One client dribbling its request (headers, or body): it must be cut off."""
    url = URL(system.url(service))
    tally.cases += 1
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = b"POST /v1/x HTTP/1.1\r\nHost: x\r\n"
    if body:
        head += b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    answer = b""
    try:
        writer.write(head)
        await writer.drain()
        async with asyncio.timeout(20):
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(1024), 0.5)
                except TimeoutError:
                    writer.write(b"1" if body else b"X")  # the fault: one byte at a time
                    await writer.drain()
                    continue
                if not chunk:
                    break
                answer += chunk
    except (TimeoutError, ConnectionError):
        tally.fail("allowed", f"slow {'body' if body else 'headers'} to {service}: not cut off")
        return
    finally:
        writer.close()
    took = time.monotonic() - started
    if answer.startswith(b"HTTP/1.1 5"):
        tally.fail("server_errors", f"slow client to {service}: {answer[:60]!r}")
    tally.extra["slow_cut_s_max"] = max(tally.extra["slow_cut_s_max"], round(took))


async def _clean_upload(system: System, tally: Tally) -> dict[str, Any]:
    partner = system.partners[0]
    async with system.http.post(
        system.url("partner-feed", f"/v1/imports?partner={partner.id}&format=iati&wait=true"),
        data=CLEAN_IATI.read_bytes(),
        headers=partner.auth,
    ) as resp:
        report: dict[str, Any] = await resp.json(content_type=None)
        if resp.status != 201:
            tally.fail("lost", f"clean upload answered {resp.status}: {report}")
    return report


def _accepted(report: dict[str, Any]) -> int:
    counts = report.get("counts") or report.get("summary") or {}
    if isinstance(counts, dict):
        for key in ("records", "accepted", "valid", "total"):
            if isinstance(counts.get(key), int):
                return int(counts[key])
    return -1


async def run(system: System, *, quick: bool = False) -> Tally:
    tally = Tally("hostile")
    async with system.http.post(
        system.url("registry", "/v1/activities"),
        json=activity_doc(),
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ) as resp:
        activity_id = (await resp.json())["id"]
    before = await _clean_upload(system, tally)
    async with Canary() as canary:
        cases = [
            *registry_cases(activity_id),
            *feed_cases(CLEAN_IATI.read_bytes(), canary.url),
            *notifier_cases(),
            *tagger_cases(),
        ]
        if quick:
            cases = cases[::3]
        gate = asyncio.Semaphore(4)

        async def one(case: Case) -> None:
            async with gate:
                _judge(tally, case, *await _send(system, case))

        await asyncio.gather(*(one(c) for c in cases))
        slow = [
            _slow_client(system, service, tally, body=body)
            for service in ("registry", "partner-feed", "notifier", "sdg-tagger")
            for body in (False, True)
        ]
        await asyncio.gather(*slow)
        if canary.connections:
            tally.fail("allowed", f"{canary.connections} connection(s) to the XML canary")
        tally.extra["canary_connections"] = canary.connections
    after = await _clean_upload(system, tally)
    expected, got = _accepted(before), _accepted(after)
    if after.get("status") != before.get("status") or got < expected:
        tally.fail("lost", f"clean upload after: {after.get('status')} {got} < {expected}")
    tally.extra["clean_records"] = got
    await _feeds_well_formed(system, tally)
    _private_files(system, tally)
    for name in system.crashed():
        tally.fail("server_errors", f"{name} crashed")
    return tally


async def _feeds_well_formed(system: System, tally: Tally) -> None:
    async with system.http.get(system.url("partner-feed", "/v1/feeds/iati.xml")) as resp:
        body = await resp.read()
        if resp.status != 200:
            tally.fail("server_errors", f"iati.xml answered {resp.status}")
            return
    try:
        etree.fromstring(body)
    except etree.XMLSyntaxError as exc:
        tally.fail("server_errors", f"iati.xml is not well-formed: {exc}")


def _private_files(system: System, tally: Tally) -> None:
    """Every store file (and its WAL) is readable by the services' user only."""
    stores = list(system.config.state_dir.glob("*.db*"))
    for path in stores:
        if path.stat().st_mode & 0o077:
            tally.fail("allowed", f"{path.name} is mode {path.stat().st_mode & 0o777:o}")
    tally.extra["store_files_0600"] = sum(1 for p in stores if not p.stat().st_mode & 0o077)

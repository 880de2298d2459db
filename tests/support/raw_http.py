"""Raw HTTP/1.1 over a loopback socket, for requests no HTTP client would send."""

from __future__ import annotations

import asyncio
import json
from typing import Any


async def raw_request(host: str, port: int, head: bytes, body: bytes = b"") -> tuple[int, str, Any]:
    """Send `head` (ending in a blank line) and `body`; the status, Content-Type and JSON
    (or text) of the answer, read to the end (the server closes the connection)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head_part, _, payload = data.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    content_type = headers.get("content-type", "")
    text = payload.decode("utf-8", "replace")
    return status, content_type, json.loads(text) if "json" in content_type else text

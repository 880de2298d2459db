"""Spooling an untrusted byte stream (upload body, pulled file) to a temporary file,
refusing it as soon as it passes the size limit. Readers then parse the file
incrementally; nothing holds the whole input in memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from shared import ProblemError


def too_large(limit: int) -> ProblemError:
    return ProblemError(
        413, "payload_too_large", "Request body too large", f"the limit is {limit} bytes"
    )


async def spool(
    chunks: AsyncIterator[bytes], *, limit: int, directory: str | None
) -> tuple[Path, int]:
    """Write `chunks` to a new temporary file; returns its path and size.

    Raises:
        ProblemError: 413 once more than `limit` bytes arrived (the file is removed).
    """
    fd, name = tempfile.mkstemp(prefix="partner-feed-", suffix=".part", dir=directory)
    path = Path(name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                await asyncio.to_thread(out.write, chunk)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return path, size

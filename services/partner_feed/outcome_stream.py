"""Running the (CPU-bound, blocking) format layer in a worker thread, as async batches.

The thread parses and validates; the event loop gets the outcomes in batches through a
bounded queue, so a slow consumer (database, broker) holds the parser back instead of
letting outcomes pile up in memory. Closing the stream early stops the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

from services.partner_feed.formats import IngestReport, IngestRun
from services.partner_feed.progress import CountingReader, ImportProgress
from services.partner_feed.validation import RecordOutcome

_DONE = None


class IngestRunFactory(Protocol):
    """Starts the format layer's ingest over an open file."""

    def __call__(self, body: BinaryIO, /) -> IngestRun: ...


class OutcomeStream:
    """`async for batch in stream` yields lists of outcomes; `report` is final after."""

    def __init__(
        self,
        start: IngestRunFactory,
        path: Path,
        *,
        batch: int = 200,
        progress: ImportProgress | None = None,
    ) -> None:
        self._start = start
        self._path = path
        self._batch = batch
        self._progress = progress or ImportProgress(bytes_total=0)
        self._report: IngestReport | None = None
        self._error: BaseException | None = None

    @property
    def report(self) -> IngestReport:
        if self._report is None:
            raise RuntimeError("the stream has not been read to the end")
        return self._report

    async def batches(self) -> AsyncIterator[list[RecordOutcome]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[list[RecordOutcome] | None] = asyncio.Queue(maxsize=4)
        cancelled = threading.Event()

        def put(item: list[RecordOutcome] | None) -> None:
            future = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
            while not cancelled.is_set():
                try:
                    future.result(timeout=0.5)
                    return
                except TimeoutError:
                    continue
            future.cancel()

        def work() -> None:
            try:
                with CountingReader(self._path.open("rb", buffering=0), self._progress) as body:
                    run = self._start(body)
                    batch: list[RecordOutcome] = []
                    for outcome in run:
                        if cancelled.is_set():
                            return
                        batch.append(outcome)
                        if len(batch) >= self._batch:
                            put(batch)
                            batch = []
                    if batch:
                        put(batch)
                    self._report = run.report
            except BaseException as exc:  # handed to the event loop, re-raised there
                self._error = exc
            finally:
                put(_DONE)

        worker = asyncio.create_task(asyncio.to_thread(work))
        try:
            while (item := await queue.get()) is not _DONE:
                yield item
        finally:
            cancelled.set()
            while not queue.empty():
                queue.get_nowait()
            await asyncio.shield(worker)
        if self._error is not None:
            raise self._error

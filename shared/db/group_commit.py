"""Group commit: the writes that queue while one transaction is open share it and its fsync.

Each writer still gets a transaction of its own as far as it can tell: its work runs alone
on the connection inside a savepoint, so a writer that fails rolls back to its savepoint and
takes nobody else's work with it; one that succeeds is answered only once the transaction
holding its work has committed (and so is durable). A transaction commits as soon as no
writer is waiting for the connection (or `max_members` have joined): writers that arrive
while it commits queue up, and the next transaction takes them all.

If the shared transaction itself is lost (the commit fails, or a writer's error aborted the
whole transaction rather than its savepoint), every writer whose work it held is told so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from shared._errors import RetryableError

__all__ = ["GroupBackend", "GroupCommit", "GroupLost"]


class GroupBackend(Protocol):
    """The statements group commit needs from one connection of a store."""

    async def begin(self) -> None: ...
    async def savepoint(self) -> None: ...
    async def release(self) -> None: ...
    async def rollback_to_savepoint(self) -> bool:
        """Undo the work since `savepoint()`; False if the whole transaction is lost."""
        ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class GroupLost(RetryableError):
    """The shared transaction holding this writer's work was rolled back: try again."""


class _Group:
    __slots__ = ("committed", "members")

    def __init__(self) -> None:
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.members = 0


class GroupCommit:
    """Serialises writers on one connection and commits them in groups."""

    def __init__(self, backend: GroupBackend, *, max_members: int = 256) -> None:
        self._backend = backend
        self._max_members = max_members
        self._turn = asyncio.Lock()
        self._waiting = 0
        self._group: _Group | None = None
        self.groups = 0  # transactions committed, for benches and tests
        self.writes = 0  # writers whose work those transactions held

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Inside: the caller alone on the connection, in its own savepoint. After a normal
        exit the caller's work is committed; after an error it is undone, and only it."""
        self._waiting += 1
        try:
            await self._turn.acquire()
        except BaseException:
            self._waiting -= 1
            if self._group is not None and not self._waiting:
                # The writer this turn was passed to gave up: commit what the group holds.
                task = asyncio.get_running_loop().create_task(self._flush(self._group))
                task.add_done_callback(lambda t: t.exception())
            raise
        self._waiting -= 1
        try:
            if self._group is None:
                await self._backend.begin()
                self._group = _Group()
            group = self._group
            await self._backend.savepoint()
        except BaseException:
            await self._lose(self._group, None)
            raise
        try:
            yield
        except BaseException:
            try:
                kept = await self._backend.rollback_to_savepoint()
            except BaseException as exc:
                await self._lose(group, exc)
                raise
            if not kept:
                await self._lose(group, None)
                raise
            self._pass_turn(group)
            raise
        try:
            await self._backend.release()
        except BaseException as exc:
            await self._lose(group, exc)
            raise
        group.members += 1
        self._pass_turn(group)
        try:
            await asyncio.shield(group.committed)
        except GroupLost as exc:
            raise GroupLost(str(exc)) from exc.__cause__

    def _pass_turn(self, group: _Group) -> None:
        """Let the next writer join the open transaction, or commit it if none waits."""
        if self._waiting and group.members < self._max_members:
            self._turn.release()
            return
        task = asyncio.get_running_loop().create_task(self._commit(group))
        task.add_done_callback(lambda t: t.exception())  # the outcome goes to the members

    @asynccontextmanager
    async def alone(self) -> AsyncIterator[None]:
        """The connection to the caller alone, outside any group (the caller begins and
        ends its own transaction): for migrations."""
        await self._turn.acquire()
        try:
            if self._group is not None:
                await self._commit(self._group, release=False)
            yield
        finally:
            self._turn.release()

    async def _flush(self, group: _Group) -> None:
        await self._turn.acquire()
        if self._group is group:
            await self._commit(group)
        else:
            self._turn.release()

    async def _commit(self, group: _Group, *, release: bool = True) -> None:
        try:
            await self._backend.commit()
        except BaseException as exc:
            await self._lose(group, exc, release=release)
            raise
        self._group = None
        self.groups += 1
        self.writes += group.members
        group.committed.set_result(None)
        if release:
            self._turn.release()

    async def _lose(
        self, group: _Group | None, cause: BaseException | None, *, release: bool = True
    ) -> None:
        """The open transaction is gone: roll it back, tell its members, free the turn."""
        try:
            await self._backend.rollback()
        except Exception:  # noqa: S110 - the transaction is already lost; nothing to keep
            pass
        finally:
            self._group = None
            if group is not None and not group.committed.done():
                lost = GroupLost("the transaction holding this write was rolled back")
                lost.__cause__ = cause
                group.committed.set_exception(lost)
                group.committed.exception()  # members may all have failed: nobody to retrieve
            if release:
                self._turn.release()

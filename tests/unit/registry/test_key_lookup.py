"""API keys are looked up inline on SQLite (no thread hop) and still see every commit at
once: a key another process revokes stops working on the next request."""

from __future__ import annotations

from pathlib import Path

from services.registry.db.api_keys import ApiKeyTable
from services.registry.db.store import REGISTRY_STORE
from shared.db import SqliteDatabase, migrate


async def test_a_key_revoked_by_another_process_stops_working_at_once(tmp_path: Path) -> None:
    serving = await SqliteDatabase.open(tmp_path / "registry.db")
    operator = await SqliteDatabase.open(tmp_path / "registry.db")
    try:
        await migrate(serving, REGISTRY_STORE)
        keys, elsewhere = ApiKeyTable(serving), ApiKeyTable(operator)
        key = await keys.create("temporary", frozenset({"write"}))
        for _ in range(3):  # repeated look-ups keep no snapshot open
            found = await keys.find(key)
            assert found is not None
            assert (found.name, found.scopes) == ("temporary", frozenset({"write"}))
        assert await keys.find(key + "x") is None
        await elsewhere.revoke("temporary")
        assert await keys.find(key) is None, "the revocation is seen by the next look-up"
        other = await elsewhere.create("later", frozenset({"read"}))
        later = await keys.find(other)
        assert later is not None
        assert later.name == "later"
    finally:
        await operator.close()
        await serving.close()

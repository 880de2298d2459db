"""Operator commands for the registry.

    python -m services.registry.cli keys create NAME --scopes read,write
    python -m services.registry.cli keys list
    python -m services.registry.cli keys revoke NAME
    python -m services.registry.cli migrate

The database is PostgreSQL when `DATABASE_URL` is set; else the SQLite file of the stack
`make run` keeps (`var/run/registry.db`), `REGISTRY_SQLITE_PATH` when set, or the one of
`--var DIR` (`DIR/registry.db`). The store opened is named on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from services.registry.db.api_keys import ApiKeyTable
from services.registry.db.store import open_registry_database
from services.registry.settings import RegistrySettings
from shared import Conflict, NotFound, load_settings
from shared._state_dir import store_path


async def _run(args: argparse.Namespace, settings: RegistrySettings) -> int:
    db = await open_registry_database(settings)
    try:
        keys = ApiKeyTable(db)
        if args.command == "migrate":
            print("schema is current")
        elif args.action == "create":
            scopes = frozenset(s.strip() for s in args.scopes.split(",") if s.strip())
            key = await keys.create(args.name, scopes, args.key)
            print(key)
            print(
                f"# API key {args.name!r} with scopes {sorted(scopes)}: shown once, store it now",
                file=sys.stderr,
            )
        elif args.action == "list":
            for k in await keys.list():
                state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
                print(f"{k.name}\t{','.join(sorted(k.scopes))}\t{k.created_at}\t{state}")
        elif args.action == "revoke":
            await keys.revoke(args.name)
            print(f"revoked {args.name}")
    except (Conflict, NotFound, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.registry.cli")
    parser.add_argument(
        "--var",
        metavar="DIR",
        help="state directory of the stack (default: var/run, where make run keeps it)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply pending schema migrations")
    keys = commands.add_parser("keys", help="manage API keys")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create")
    create.add_argument("name")
    create.add_argument("--scopes", default="read")
    create.add_argument("--key", help="use this key instead of a generated one (demo set-up)")
    actions.add_parser("list")
    revoke = actions.add_parser("revoke")
    revoke.add_argument("name")
    args = parser.parse_args(argv)
    os.umask(0o077)  # the store it may create holds key hashes: its user's only, as serve()
    settings = load_settings(RegistrySettings)
    if settings.database_url:
        print("# store: PostgreSQL (DATABASE_URL)", file=sys.stderr)
    else:
        path = store_path("registry.db", variable="REGISTRY_SQLITE_PATH", var=args.var)
        settings = settings.model_copy(update={"sqlite_path": path})
        print(f"# store: {path}", file=sys.stderr)
    return asyncio.run(_run(args, settings))


if __name__ == "__main__":
    sys.exit(main())

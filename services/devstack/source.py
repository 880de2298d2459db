"""A partner's export served on loopback, so that partner-feed's pull can be tried locally.

`make run` serves `deploy/demo-data/partners/` here and configures the demo partner `tfm`
with this URL: partner-feed pulls it at start and on `POST /v1/partners/tfm/pull`. Files
are answered with `ETag` and `Last-Modified`, and a conditional GET of an unchanged file
gets 304, as a real partner's server would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from services.devstack.errors import StackError
from services.devstack.ports import serve


class DemoSource:
    """Serves the files of `directory` at `http://127.0.0.1:<port>/<name>`."""

    def __init__(self, directory: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = directory
        self.host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        return self._port

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self._port}/{name}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_static("/", self.directory, show_index=False, follow_symlinks=False)
        self._runner, self._port = await serve(app, self.host, self._port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def partners_with_sources(partners_file: Path, sources: Mapping[str, str], target: Path) -> Path:
    """Write `partners_file` to `target` with each partner of `sources` given its URL.

    Raises:
        StackError: a partner named in `sources` is not in the file.
    """
    partners: list[dict[str, Any]] = json.loads(partners_file.read_text(encoding="utf-8"))
    known = {str(p.get("id")) for p in partners}
    missing = sorted(set(sources) - known)
    if missing:
        raise StackError(f"{partners_file}: no partner {', '.join(missing)}")
    for partner in partners:
        if partner["id"] in sources:
            partner["url"] = sources[partner["id"]]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(partners, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target

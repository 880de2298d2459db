"""`ta-bridge imports upload` against a real partner-feed: streamed upload, a progress bar
for the bytes sent and for the import's progress, the report; and `imports decide`."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from services.cli import main
from services.ops.progress_bar import ProgressBar
from tests.integration.partner_feed.conftest import IATI_FILES, OPERATOR_KEY
from tests.unit.partner_feed.harness import FeedService

pytestmark = pytest.mark.timeout(120)

UNOPS = next(p for p in IATI_FILES if p.name == "unops_1.xml")


async def test_upload_shows_progress_and_the_report(
    service: FeedService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TABRIDGE_PARTNER_FEED_URL", service.url("").rstrip("/"))
    monkeypatch.setenv("TABRIDGE_PARTNER_FEED_API_KEY", service.keys["unctad"])
    args = ["imports", "upload", str(UNOPS), "--partner", "unctad"]

    assert await asyncio.to_thread(main, args) == 0
    captured = capsys.readouterr()
    [summary] = captured.out.splitlines()
    assert re.fullmatch(
        r"import [0-9a-f]{32}: completed, 3 records \(3 new, 0 changed, 0 unchanged, "
        r"0 quarantined, 0 duplicates, 0 removed\)",
        summary,
    )
    bars = captured.err.splitlines()  # not a terminal: one line per tenth, then the last
    assert bars[-1].startswith("import     [" + "#" * 30 + "] 100.0%")
    assert bars[-1].endswith("3 records, 3 events (done)")
    assert any(b.startswith("upload     [" + "#" * 30 + "] 100.0%") for b in bars)

    # A file that would remove two of the three records is held; an operator applies it.
    first = UNOPS.read_bytes()
    one = first[: first.index(b"</iati-activity>") + len(b"</iati-activity>")]
    cut = tmp_path / "one.xml"
    cut.write_bytes(one + b"\n</iati-activities>\n")
    assert await asyncio.to_thread(main, [*args[:2], str(cut), *args[3:]]) == 1
    out = capsys.readouterr().out
    assert ": held, 1 records" in out and "held: 2 of the partner's 3 records" in out
    import_id = out.split()[1].rstrip(":")
    monkeypatch.setenv("TABRIDGE_OPERATOR_KEY", OPERATOR_KEY)
    assert await asyncio.to_thread(main, ["imports", "decide", import_id, "apply"]) == 0
    assert f"import {import_id}: completed" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["imports", "decide", import_id, "apply"]) == 1
    assert "HTTP 409" in capsys.readouterr().err


def test_the_bar_draws_in_place_on_a_terminal() -> None:
    class Tty:
        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> int:
            self.text += s
            return len(s)

        def flush(self) -> None:
            return None

        def isatty(self) -> bool:
            return True

    tty = Tty()
    bar = ProgressBar(tty, label="import")  # type: ignore[arg-type]
    bar.update(512, 2048, "10 records")
    bar.finish(2048, 2048, "40 records")
    frames = tty.text.split("\r")[1:]
    assert frames[0].startswith("import     [" + "#" * 8 + "-" * 22 + "]  25.0%  512 B / 2.0 KB")
    assert frames[-1].startswith("import     [" + "#" * 30 + "] 100.0%")
    assert tty.text.endswith("40 records\x1b[K\n")

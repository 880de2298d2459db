"""A text progress bar for long operations, on a terminal or in a log.

On a terminal the bar redraws in place (carriage return); anywhere else (a pipe, CI log)
it writes a plain line each time the share done passes another tenth, so logs stay short.
"""

from __future__ import annotations

from typing import TextIO

__all__ = ["ProgressBar", "human_bytes"]

_WIDTH = 30


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover - the loop always returns


class ProgressBar:
    def __init__(self, stream: TextIO, *, label: str, interactive: bool | None = None) -> None:
        self._stream = stream
        self._label = label
        self._interactive = stream.isatty() if interactive is None else interactive
        self._tenth = -1
        self._drawn = False

    @staticmethod
    def line(label: str, done: float, total: float, detail: str = "") -> str:
        share = min(1.0, done / total) if total > 0 else 0.0
        filled = round(share * _WIDTH)
        bar = "#" * filled + "-" * (_WIDTH - filled)
        text = (
            f"{label:<10} [{bar}] {share * 100:5.1f}%  {human_bytes(done)} / {human_bytes(total)}"
        )
        return f"{text}  {detail}" if detail else text

    def update(self, done: float, total: float, detail: str = "") -> None:
        text = self.line(self._label, done, total, detail)
        if self._interactive:
            self._stream.write("\r" + text + "\x1b[K")
            self._drawn = True
        else:
            tenth = int(min(1.0, done / total) * 10) if total > 0 else 0
            if tenth <= self._tenth:
                return
            self._tenth = tenth
            self._stream.write(text + "\n")
        self._stream.flush()

    def finish(self, done: float, total: float, detail: str = "") -> None:
        """Draw the final state and end the line."""
        self._tenth = -1
        self.update(done, total, detail)
        if self._interactive and self._drawn:
            self._stream.write("\n")
            self._stream.flush()

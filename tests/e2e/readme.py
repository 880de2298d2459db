"""README.md as a script: its fenced shell examples, in order, with the output they claim.

- Every ```` ```bash ```` / ```` ```sh ```` block is an example. An HTML comment on the line
  before it, `<!-- readme-test: skip (why) -->` or `<!-- readme-test: stopped (why) -->`,
  marks a block that is not run, or run with `make run` stopped; a marker must give a reason.
- Within a block, a line `# → text` states what the command(s) just above print. A block
  is split into steps at those lines: each step is the lines since the previous step, run
  as one script, and its output must contain each stated text (`…` stands for anything in
  between; runs of whitespace compare equal).
- `localise` points an example at a stack on other ports and a topic namespace, as a reader
  on a second machine would edit the addresses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^```(bash|sh)\s*$")
MARKER = re.compile(r"^<!--\s*readme-test:\s*(skip|stopped)\s*\((.+)\)\s*-->\s*$")
EXPECT = "# → "
DEFAULT_PORTS = {"registry": 8081, "partner-feed": 8082, "notifier": 8083, "sdg-tagger": 8084}
DEV_RECEIVER = "127.0.0.1:8099"


@dataclass
class Step:
    line: int
    script: str
    expected: list[str] = field(default_factory=list)

    def missing(self, output: str) -> list[str]:
        """The expected texts `output` does not show."""
        return [text for text in self.expected if not shows(output, text)]


@dataclass
class Block:
    line: int
    mode: str  # "run", "stopped" or "skip"
    reason: str
    steps: list[Step]


def shows(output: str, expected: str) -> bool:
    """`expected` (with `…` wildcards) appears in `output`, whitespace runs equal."""
    flat = " ".join(output.split())
    parts = [" ".join(part.split()) for part in expected.split("…")]
    pattern = ".*?".join(re.escape(part) for part in parts)
    return re.search(pattern, flat, flags=re.DOTALL) is not None


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        if not FENCE.match(lines[index]):
            index += 1
            continue
        start = index
        previous = lines[start - 1] if start else ""
        marker = MARKER.match(previous)
        body: list[tuple[int, str]] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append((index + 1, lines[index]))
            index += 1
        mode, reason = (marker.group(1), marker.group(2)) if marker else ("run", "")
        found.append(Block(start + 1, mode, reason, _steps(body)))
        index += 1
    return found


def _steps(body: list[tuple[int, str]]) -> list[Step]:
    steps: list[Step] = []
    current: list[tuple[int, str]] = []
    expected: list[str] = []

    def close() -> None:
        script = "\n".join(text for _, text in current)
        if script.strip() or expected:
            steps.append(Step(current[0][0] if current else 0, script, list(expected)))

    for number, text in body:
        if text.lstrip().startswith(EXPECT):
            expected.append(text.lstrip()[len(EXPECT) :])
            continue
        if expected:
            close()
            current, expected = [], []
        current.append((number, text))
    close()
    return steps


def localise(text: str, *, ports: Mapping[str, int], namespace: str, receiver_port: int) -> str:
    """The example for a stack on `ports`, with topics and groups in `namespace`."""
    for name, default in DEFAULT_PORTS.items():
        text = text.replace(f"127.0.0.1:{default}", f"127.0.0.1:{ports[name]}")
    text = text.replace(DEV_RECEIVER, f"127.0.0.1:{receiver_port}")
    if namespace:
        text = re.sub(r"(?<![\w.-])tabridge\.", f"{namespace}.tabridge.", text)
        text = re.sub(r"--group (\S+)", rf"--group {namespace}.\1", text)
    return text


def assigned(script: str) -> list[str]:
    """Shell variables a step assigns at the start of a line (`NAME=...`)."""
    return sorted(set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", script, flags=re.MULTILINE)))

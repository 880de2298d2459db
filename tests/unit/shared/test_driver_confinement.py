"""aiokafka stays behind the transport port: no service, ops command or runner step
imports it (issue 17). The tree is read, not imported, so a new offender anywhere in the
product code fails here."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PORT = "shared/_transport.py"

# Code that talks to a broker on purpose without the port, each for its own reason.
ALLOWED = {
    # The baseline of `make bench-transport` is raw aiokafka by definition.
    "tools/bench_transport.py": "the raw-aiokafka baseline",
    # Deploy-time topic administration (configs, partition counts) and its bench:
    # operator tools outside the event path, left to their owners (see runner-note.md).
    "tools/topics/cluster.py": "topic admin (deploy)",
    "tools/topics/command.py": "topic admin (deploy)",
    "tools/bench_registry.py": "registry bench set-up",
    "tools/bench_notify.py": "bench clean-up: deletes each round's topics",
}


def _imports_aiokafka(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else []
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names = [str(node.args[0].value)]
        else:
            continue
        if any(name == "aiokafka" or name.startswith("aiokafka.") for name in names):
            lines.append(node.lineno)
    return lines


def _product_files() -> list[Path]:
    files = []
    for top in ("shared", "services", "tools"):
        files.extend(sorted((ROOT / top).rglob("*.py")))
    return files


def test_only_the_transport_module_imports_aiokafka() -> None:
    files = _product_files()
    assert any(f.relative_to(ROOT).as_posix() == PORT for f in files), "the port is scanned"
    offenders = {
        rel: lines
        for f in files
        if (rel := f.relative_to(ROOT).as_posix()) not in ALLOWED and rel != PORT
        if (lines := _imports_aiokafka(f))
    }
    assert offenders == {}, f"aiokafka imported outside {PORT}: {offenders}"


def test_the_port_itself_is_where_the_driver_is() -> None:
    assert _imports_aiokafka(ROOT / PORT), "the transport adapter imports aiokafka"
    for rel in ALLOWED:
        assert (ROOT / rel).is_file(), f"stale allowance: {rel}"


def test_the_scan_sees_every_import_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import aiokafka\n"
        "from aiokafka.errors import KafkaError\n"
        "import importlib\n"
        "x = importlib.import_module('aiokafka.admin')\n"
        "from . import aiokafka_like\n"
        "import aiokafkaesque\n",
        encoding="utf-8",
    )
    assert _imports_aiokafka(sample) == [1, 2, 4]

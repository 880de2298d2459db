"""deploy/Dockerfile and .dockerignore, checked as text (no Docker engine needed).

The part most likely to rot is the dependency install: it takes the project's runtime
dependencies from pyproject.toml and pins each through requirements.lock. The last test
walks the installed metadata to prove the lock pins the whole runtime closure, so the
image cannot pick up an unpinned transitive package.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.unit.deploy.facts import ROOT, SERVICES

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DEV_ONLY = {"pytest", "mypy", "ruff", "hypothesis", "scikit-learn", "testcontainers"}


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            instruction, _, rest = stripped.partition(" ")
            found.append((instruction.upper(), rest.strip()))
    return found


def _final_stage() -> list[tuple[str, str]]:
    steps = _instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_both_stages_are_python_311_slim() -> None:
    bases = [args.split()[0] for op, args in _instructions() if op == "FROM"]
    assert bases == ["python:3.11-slim", "python:3.11-slim"]


def test_dependencies_come_from_the_lock_then_the_package_without_deps() -> None:
    runs = [args for op, args in _instructions() if op == "RUN"]
    (deps,) = [r for r in runs if "--constraint requirements.lock" in r]
    (package,) = [r for r in runs if "pip install --no-deps ." in r]
    assert runs.index(deps) < runs.index(package)
    assert "['project']['dependencies']" in deps  # not [project.optional-dependencies]
    assert "[dev]" not in " ".join(runs)


def test_the_final_stage_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    final = dict(_final_stage())
    assert final["USER"].split(":")[0] not in {"0", "root"}
    assert final["HEALTHCHECK"].startswith("--interval=")
    assert final["CMD"] == '["python", "-m", "services.registry"]'
    exposed = {int(p) for p in final["EXPOSE"].split()}
    assert exposed == {s.port for s in SERVICES}


def test_the_final_stage_makes_the_services_reachable_and_their_stores_writable() -> None:
    env = " ".join(args for op, args in _final_stage() if op == "ENV")
    for variable in ("REGISTRY_HOST", "FEED_HOST", "NOTIFIER_HOST", "TAGGER_HOST"):
        assert f"{variable}=0.0.0.0" in env
    for variable in ("REGISTRY_SQLITE_PATH", "FEED_DB_PATH", "NOTIFIER_DB_PATH", "TAGGER_DB_PATH"):
        assert f"{variable}=/data/" in env


def test_dockerignore_keeps_the_context_to_the_sources() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**"  # allow-list: .venv, var/, .cache/ (Kafka jars), .git stay out
    included = {line[1:] for line in lines if line.startswith("!")}
    assert {"requirements.lock", "pyproject.toml", "shared/**", "services/**"} <= included
    copied = {
        args.split()[0] for op, args in _instructions() if op == "COPY" and "--from" not in args
    }
    for source in copied:
        assert source in included or f"{source}/**" in included, source


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_the_lock_pins_the_whole_runtime_closure_and_no_dev_tool_is_in_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = _pins()
    seen: set[str] = set()
    todo = [Requirement(r) for r in project["dependencies"]]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        assert name in pins, f"{name} is a runtime dependency but not pinned in the lock"
        for extra in requirement.extras or {""}:
            for text in metadata.requires(name) or []:
                child = Requirement(text)
                if child.marker is None or child.marker.evaluate({"extra": extra}):
                    todo.append(child)
    assert not seen & {canonicalize_name(d) for d in DEV_ONLY}

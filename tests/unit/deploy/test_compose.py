"""docker-compose.yml: the four services, their dependencies, probes and ports."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.unit.deploy.facts import DESIGN, ROOT, SERVICES, Service, design_ports

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    services = document["services"]
    assert isinstance(services, dict)
    return services


def test_the_ports_are_the_agreed_ones() -> None:
    if not DESIGN.exists():
        pytest.skip(f"{DESIGN} is not beside the checkout")
    assert design_ports() == {s.name: s.port for s in SERVICES}


def test_the_infrastructure_is_there(compose: dict[str, Any]) -> None:
    assert compose["kafka"]["image"].endswith("apache/kafka:4.1.2}")
    assert compose["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "127.0.0.1:19092:19092" in compose["kafka"]["ports"]
    assert "postgres" in compose["postgres"]["image"]
    assert "jaeger" in compose["jaeger"]["image"]
    assert "127.0.0.1:4318:4318" in compose["jaeger"]["ports"]
    for name in ("kafka", "postgres", "jaeger"):
        assert compose[name]["healthcheck"]["test"], name


def test_topics_are_applied_once_before_any_service(compose: dict[str, Any]) -> None:
    topics = compose["topics"]
    assert topics["command"] == ["python", "-m", "tools.topics", "apply", "--profile", "local"]
    assert topics["restart"] == "no"
    assert topics["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert topics["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_service(compose: dict[str, Any], service: Service) -> None:
    spec = compose[service.name]
    assert spec["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}
    assert spec["command"] == ["python", "-m", service.module]
    assert spec["ports"] == [f"127.0.0.1:{service.port}:{service.port}"]
    probe = " ".join(spec["healthcheck"]["test"])
    assert f"http://127.0.0.1:{service.port}/readyz" in probe
    env = spec["environment"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    depends = spec["depends_on"]
    assert depends["kafka"] == {"condition": "service_healthy"}
    assert depends["topics"] == {"condition": "service_completed_successfully"}
    assert "jaeger" in depends


def test_the_registry_runs_on_postgresql(compose: dict[str, Any]) -> None:
    registry = compose["registry"]
    assert registry["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in registry["environment"]["DATABASE_URL"]
    assert registry["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_every_depends_on_names_a_service_and_a_condition(compose: dict[str, Any]) -> None:
    for name, spec in compose.items():
        for target, condition in spec.get("depends_on", {}).items():
            assert target in compose, f"{name} depends on unknown {target}"
            assert condition["condition"] in {
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            }
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in compose[target], f"{target} has no healthcheck"

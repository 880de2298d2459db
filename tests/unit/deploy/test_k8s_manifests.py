"""deploy/k8s: what every Deployment, Service, PodDisruptionBudget and the Job must say."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.unit.deploy.facts import ROOT, SERVICES, Service

K8S = ROOT / "deploy" / "k8s"
SQLITE_BACKED = {"partner-feed", "notifier", "sdg-tagger"}


def _documents(name: str) -> Iterator[dict[str, Any]]:
    for document in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")):
        if document is not None:
            assert isinstance(document, dict)
            yield document


@pytest.fixture(scope="module")
def kustomization() -> dict[str, Any]:
    (document,) = _documents("kustomization.yaml")
    return document


@pytest.fixture(scope="module")
def objects(kustomization: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> manifest, for every resource kustomization.yaml lists."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in kustomization["resources"]:
        for document in _documents(resource):
            key = (document["kind"], document["metadata"]["name"])
            assert key not in found, f"{key} defined twice"
            found[key] = document
    return found


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container = containers[0]
    assert isinstance(container, dict)
    return container


def test_every_yaml_file_is_listed_or_a_template(kustomization: dict[str, Any]) -> None:
    listed = set(kustomization["resources"]) | {"kustomization.yaml"}
    on_disk = {p.name for p in K8S.glob("*.yaml")}
    assert on_disk - listed == {"secrets.example.yaml"}
    assert listed <= on_disk


def test_the_image_is_set_in_one_place(
    kustomization: dict[str, Any], objects: dict[tuple[str, str], dict[str, Any]]
) -> None:
    assert [i["name"] for i in kustomization["images"]] == ["ta-bridge"]
    for (kind, name), manifest in objects.items():
        if kind in {"Deployment", "Job"}:
            pod = manifest["spec"]["template"]["spec"]
            for container in pod.get("initContainers", []) + pod["containers"]:
                assert container["image"] == "ta-bridge", f"{kind}/{name}"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_deployment(objects: dict[tuple[str, str], dict[str, Any]], service: Service) -> None:
    deployment = objects[("Deployment", service.name)]
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert container["command"] == ["python", "-m", service.module]
    assert container["ports"] == [{"name": "http", "containerPort": service.port}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # /readyz gives each dependency check 5 s: a shorter probe timeout would flap.
    assert container["readinessProbe"]["timeoutSeconds"] > 5
    resources = container["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"}
    assert set(resources["limits"]) == {"cpu", "memory"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    sources = container["envFrom"]
    assert {"configMapRef": {"name": "ta-bridge-config"}} in sources
    assert {"secretRef": {"name": f"ta-bridge-{service.name}"}} in sources
    (init,) = pod["initContainers"]
    assert init["command"][:4] == ["python", "-m", "tools.topics", "wait"]
    assert pod["terminationGracePeriodSeconds"] > 20  # the services drain for up to 20 s
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert deployment["spec"]["template"]["metadata"]["labels"].items() >= labels.items()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_service_and_disruption_budget(
    objects: dict[tuple[str, str], dict[str, Any]], service: Service
) -> None:
    labels = objects[("Deployment", service.name)]["spec"]["selector"]["matchLabels"]
    svc = objects[("Service", service.name)]
    assert svc["spec"]["selector"] == labels
    assert svc["spec"]["ports"] == [{"name": "http", "port": service.port, "targetPort": "http"}]
    pdb = objects[("PodDisruptionBudget", service.name)]
    assert pdb["spec"]["selector"]["matchLabels"] == labels


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_replicas_match_what_the_store_allows(
    objects: dict[tuple[str, str], dict[str, Any]], service: Service
) -> None:
    deployment = objects[("Deployment", service.name)]
    spec = deployment["spec"]
    pdb = objects[("PodDisruptionBudget", service.name)]["spec"]
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    if service.name in SQLITE_BACKED:
        # A SQLite file cannot be shared between pods: one replica, the old pod gone
        # before the new one opens the file, and the file on a claim that outlives pods.
        assert spec["replicas"] == 1
        assert spec["strategy"]["type"] == "Recreate"
        claim = volumes["data"]["persistentVolumeClaim"]["claimName"]
        assert ("PersistentVolumeClaim", claim) in objects
        assert pdb == {"maxUnavailable": 1, "selector": pdb["selector"]}
    else:
        assert spec["replicas"] >= 2
        assert pdb["minAvailable"] == 1
        # Several registry replicas need PostgreSQL: its Secret carries DATABASE_URL.
        (secret,) = (
            d
            for d in _documents("secrets.example.yaml")
            if d["metadata"]["name"].endswith(service.name)
        )
        assert secret["stringData"]["DATABASE_URL"].startswith("postgresql://")


def test_the_topics_job_applies_the_production_profile(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    job = objects[("Job", "topics-apply")]
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == [
        "python",
        "-m",
        "tools.topics",
        "apply",
        "--profile",
        "production",
    ]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert {"configMapRef": {"name": "ta-bridge-config"}} in container["envFrom"]


def test_the_config_map_holds_no_secrets(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    data = objects[("ConfigMap", "ta-bridge-config")]["data"]
    assert {"KAFKA_BOOTSTRAP_SERVERS", "OTEL_EXPORTER_OTLP_ENDPOINT", "LOG_LEVEL"} <= set(data)
    assert data["OTEL_EXPORTER_OTLP_ENDPOINT"].endswith(":4318")
    for key in data:
        assert not any(word in key for word in ("PASSWORD", "KEYS", "DATABASE_URL", "SECRET"))
    for service in SERVICES:
        prefix = {"partner-feed": "FEED", "sdg-tagger": "TAGGER"}.get(
            service.name, service.name.upper()
        )
        assert data[f"{prefix}_PORT"] == str(service.port)
        assert data[f"{prefix}_HOST"] == "0.0.0.0"


def test_the_secret_template_is_only_placeholders() -> None:
    secrets = list(_documents("secrets.example.yaml"))
    assert {s["metadata"]["name"] for s in secrets} == {f"ta-bridge-{s.name}" for s in SERVICES}
    for secret in secrets:
        assert secret["kind"] == "Secret"
        assert "data" not in secret  # stringData only: nothing encoded to hide a real value
    (registry,) = (s for s in secrets if s["metadata"]["name"] == "ta-bridge-registry")
    assert "CHANGE-ME" in registry["stringData"]["DATABASE_URL"]

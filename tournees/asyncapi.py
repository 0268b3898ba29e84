"""``tournees asyncapi [--check]``: the services' AsyncAPI documents under ``docs/asyncapi/``.

Each document is generated from the service's code (``services/<service>/asyncapi.py``, see
``shared/asyncapi.py``); ``--check`` writes nothing and fails when a committed one is out of date.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from faststream import FastStream

from shared.asyncapi import render

SERVICES = ("registry", "scheduling", "notifications")
DOCS = Path(__file__).resolve().parent.parent / "docs" / "asyncapi"
REFRESH = "make asyncapi"


def app(service: str) -> FastStream:
    module = importlib.import_module(f"services.{service}.asyncapi")
    built: FastStream = module.app
    return built


def generate(directory: Path) -> list[Path]:
    """Write every service's document into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for service in SERVICES:
        path = directory / f"{service}.json"
        path.write_text(render(app(service)), encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path) -> list[str]:
    """The services whose document in ``directory`` is missing or differs (as JSON) from the code's."""
    out_of_date = []
    for service in SERVICES:
        path = directory / f"{service}.json"
        expected = json.loads(render(app(service)))
        try:
            committed = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            committed = None
        if committed != expected:
            out_of_date.append(service)
    return out_of_date


def main(check: bool, directory: Path = DOCS) -> int:
    if not check:
        for path in generate(directory):
            print(f"wrote {path}")
        return 0
    out_of_date = stale(directory)
    for service in out_of_date:
        print(f"{directory / service}.json is out of date with the code: run `{REFRESH}` and commit it")
    return 1 if out_of_date else 0

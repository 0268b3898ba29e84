"""FastStream's own ``faststream docs gen`` makes the same AsyncAPI documents as the committed ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tournees.asyncapi import DOCS, REFRESH, SERVICES

ROOT = Path(__file__).resolve().parents[2]
FASTSTREAM = Path(sys.executable).parent / "faststream"


@pytest.mark.parametrize("service", SERVICES)
def test_faststream_docs_gen_gives_the_committed_document(service: str, tmp_path: Path) -> None:
    out = tmp_path / f"{service}.json"
    subprocess.run(
        [str(FASTSTREAM), "docs", "gen", f"services.{service}.asyncapi:app", "--app-dir", str(ROOT), "--out", str(out)],
        cwd=tmp_path, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    committed = json.loads((DOCS / f"{service}.json").read_text(encoding="utf-8"))
    assert json.loads(out.read_text(encoding="utf-8")) == committed, f"out of date: run {REFRESH}"

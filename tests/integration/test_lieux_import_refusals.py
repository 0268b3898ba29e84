"""Who may import and export lieux, and the bodies refused whole (not documents of the standard, too large)."""

from __future__ import annotations

import pytest

from services.registry.entrypoints import imports_api
from shared.auth import Role
from tests.integration.lieux_import_stack import (
    CSV,
    FRANCE_SERVICES,
    JSON,
    MEDIATHEQUE,
    csv_of,
    imported,
    lieux_of,
    mortagne,
    registry,
    send,
    template,
)
from tests.integration.registry_stack import ADMIN, COORDINATOR, MORTAGNE, OTHER_COORDINATOR, token

__all__ = ["mortagne", "registry", "template"]  # fixtures

# --- who may, and what is refused whole -----------------------------------------------------


async def test_both_routes_need_a_token(registry):
    assert (await registry.http.post("/lieux/import", content=b"id,nom\n", headers=CSV)).status_code == 401
    assert (await registry.http.get("/lieux/export")).status_code == 401


async def test_a_conseiller_may_neither_import_nor_export(registry, mortagne):
    conseiller = token(Role.CONSEILLER, subject=mortagne["conseiller"]["id"])
    body = csv_of([MEDIATHEQUE]).encode()
    assert (await send(registry, body, conseiller, CSV)).status_code == 403
    assert (await registry.call("GET", "/lieux/export", conseiller)).status_code == 403
    assert (await lieux_of(registry)).keys().isdisjoint({"hub-61-001"})


async def test_another_coordinator_imports_nothing_into_mortagne_and_exports_nothing_of_it(registry, mortagne):
    body = csv_of([MEDIATHEQUE, FRANCE_SERVICES]).encode()
    report = await imported(registry, body, OTHER_COORDINATOR, CSV)
    assert (report["created"], report["invalid"]) == (0, 2)
    assert {p["reason"] for p in report["invalid_rows"]} == {
        "commune 61293 (Mortagne-au-Perche) is outside your territories"
    }
    room = csv_of([MEDIATHEQUE | {"id": mortagne["room"]["id"], "code_insee": "57672"}]).encode()
    report = await imported(registry, room, OTHER_COORDINATOR, CSV)
    assert report["invalid_rows"] == [
        {"line": 2, "field": "id", "reason": "this id is a lieu outside your territories"}
    ]
    assert (await registry.call("GET", f"/lieux/export?territory={MORTAGNE}", OTHER_COORDINATOR)).status_code == 403


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"{", JSON, 422, "invalid JSON"),
        (b'{"id": "x"}', JSON, 422, "a JSON list"),
        (b"name;address\nx;y\n", CSV, 422, "no 'id' and 'nom' columns"),
        (b"", CSV, 422, "empty"),
        (b'id,nom\n"open,quote\n', CSV, 422, "line 2"),
        ("id,nom\nx,Médiathèque\n".encode("latin-1"), CSV, 422, "not utf-8 text"),
        (b"id,nom\n", {"Content-Type": "text/csv; charset=klingon"}, 415, "unknown charset"),
        (b"id,nom\n", {"Content-Type": "application/vnd.ms-excel"}, 415, "text/csv or application/json"),
        (b"id,nom\n", {}, 415, "text/csv or application/json"),
    ],
    ids=[
        "json-truncated",
        "json-object",
        "csv-not-the-standard",
        "empty",
        "open-quote",
        "latin-1",
        "charset",
        "excel",
        "no-type",
    ],
)
async def test_a_body_that_is_no_document_of_the_standard_is_refused_whole(registry, body, headers, status, message):
    response = await send(registry, body, COORDINATOR, headers)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if status == 422:  # at the body, as FastAPI names the fields of any invalid request
        [detail] = detail
        assert detail["loc"] == ["body"]
        detail = detail["msg"]
    assert message in detail


async def test_a_declared_charset_is_honoured(registry, mortagne):
    latin = csv_of([MEDIATHEQUE]).replace("« ", "").replace(" »", "").encode("latin-1")
    headers = {"Content-Type": "text/csv; charset=ISO-8859-1"}
    report = await imported(registry, latin, COORDINATOR, headers)
    assert report["created"] == 1
    assert (await lieux_of(registry))["hub-61-001"]["name"].startswith("Médiathèque")


async def test_more_than_5_mb_is_refused_announced_or_streamed(registry):
    big = b"id,nom\n" + b"x" * imports_api.MAX_BODY_BYTES
    response = await send(registry, big, ADMIN, CSV)
    assert response.status_code == 413

    async def chunks():
        for _ in range(6):
            yield b"y" * (1024 * 1024)

    response = await send(registry, chunks(), ADMIN, CSV)
    assert response.status_code == 413
    assert "5 MB" in response.json()["detail"]

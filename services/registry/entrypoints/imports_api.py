"""HTTP routes to import and export lieux in the standard de la médiation numérique.

``POST /lieux/import`` takes the file as the request body (``text/csv`` or ``application/json``,
UTF-8 unless the Content-Type says otherwise, at most ``MAX_BODY_BYTES``) and answers 200 with
the report, invalid rows included; a body that is not a document of the standard at all is 422 (at ``body``),
too large 413, of another media type 415. ``GET /lieux/export`` answers the caller's lieux as a
CSV or JSON file of the standard.

Include this router *before* ``api.router``: ``GET /lieux/{lieu_id}`` would otherwise take
``GET /lieux/export`` (and answer 422, ``export`` not being a UUID).
"""

import codecs
import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from services.registry.adapters import mediation_numerique as mn
from services.registry.service_layer import access, imports
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Authenticator, Principal, Role
from shared.http import invalid, problems

MAX_BODY_BYTES = 5 * 1024 * 1024
CSV_TYPES = frozenset({"text/csv", "application/csv"})
JSON_TYPES = frozenset({"application/json"})
PARIS = ZoneInfo("Europe/Paris")

_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        # Lieux are objects; an item that is not one is reported as an invalid row, like a broken CSV line.
        "application/json": {
            "schema": {"type": "array", "items": {"description": "a lieu: an object with the standard's fields"}}
        },
    },
}


class InvalidRowOut(BaseModel):
    line: int
    """CSV: the line where the row starts, the header being line 1. JSON: the object's index + 1."""
    field: str
    """The standard's field at fault (empty when it is the whole row)."""
    reason: str


class ImportReportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    invalid: int
    invalid_rows: list[InvalidRowOut]

    @classmethod
    def of(cls, report: imports.ImportReport) -> "ImportReportOut":
        return cls(
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            invalid=report.invalid,
            invalid_rows=[InvalidRowOut(line=p.line, field=p.field, reason=p.reason) for p in report.problems],
        )


def router(uow: Callable[[], RegistryUnitOfWork], principal: Authenticator) -> APIRouter:
    api = APIRouter(tags=["lieux"], responses=problems(401, 403))
    Who = Annotated[Principal, Depends(principal)]

    @api.post(
        "/lieux/import",
        openapi_extra={"requestBody": _BODY},
        responses=problems(413, 415) | invalid("not a document of the standard (or not text in its charset)"),
    )
    async def import_lieux(request: Request, who: Who) -> ImportReportOut:
        """Create or update lieux from a file of the standard de la médiation numérique (CSV or JSON).

        A row whose ``id`` is a lieu's external id (or UUID) updates it, others open new lieux;
        invalid rows are reported with their line, field and reason, and the others imported.
        """
        access.require(who, Role.ADMIN, Role.COORDINATOR)
        media_type, charset = _content_type(request.headers.get("content-type", ""))
        text = _decode(await _body(request), charset)
        try:
            rows = mn.parse_csv(text) if media_type in CSV_TYPES else mn.parse_json(text)
        except mn.UnreadableDocument as error:
            raise _unreadable(str(error)) from None
        return ImportReportOut.of(await imports.import_lieux(rows, uow(), who))

    @api.get("/lieux/export", response_class=Response)
    async def export_lieux(
        who: Who,
        territory: Annotated[str | None, Query(description="a territory code: epci:…, dep:…, custom:…")] = None,
        file_format: Annotated[Literal["csv", "json"], Query(alias="format")] = "csv",
        extensions: Annotated[
            bool, Query(description="add Tournées' columns (kind, capacity…): lossless, but not strictly valid")
        ] = False,
    ) -> Response:
        """The open lieux the caller may list, as a file of the standard de la médiation numérique."""
        exported = await imports.lieux_for_export(uow(), who, territory)
        today = datetime.now(PARIS).date()
        rows = [
            mn.lieu_to_row(
                e.lieu, updated=today, commune_name=e.commune_name, structure_name=e.structure_name, siret=e.siret,
                extensions=extensions,
            )
            for e in exported
        ]  # fmt: skip
        if file_format == "csv":
            body, media_type = mn.write_csv(rows, extensions=extensions), "text/csv; charset=utf-8"
        else:
            body, media_type = mn.write_json(rows, extensions=extensions), "application/json; charset=utf-8"
        # The standard's naming: AAAAMMJJ_idProducteur_lieux-de-mediation-numerique_territoire.csv
        place = re.sub(r"[^A-Za-z0-9-]+", "-", territory or ("tous" if who.is_admin else "mes-territoires"))
        filename = f"{today:%Y%m%d}_tournees_lieux-de-mediation-numerique_{place}.{file_format}"
        return Response(
            body, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )

    return api


def _content_type(header: str) -> tuple[str, str]:
    """(media type, charset); 415 unless CSV or JSON."""
    media_type, *parameters = (part.strip() for part in header.split(";"))
    media_type = media_type.lower()
    if media_type not in CSV_TYPES | JSON_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"send the file as text/csv or application/json (Content-Type), not {media_type or 'nothing'!r}",
        )
    charset = "utf-8"
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media_type, charset


async def _body(request: Request) -> bytes:
    """The body, refused with 413 past MAX_BODY_BYTES (announced or actually sent)."""
    too_large = HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"the file is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB: split it"
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_large
    return bytes(body)


def _decode(body: bytes, charset: str) -> str:
    try:
        codec = codecs.lookup(charset)
    except LookupError:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, f"unknown charset {charset!r}") from None
    try:
        return body.decode("utf-8-sig" if codec.name == "utf-8" else codec.name)
    except UnicodeDecodeError as error:
        raise _unreadable(
            f"the file is not {charset} text (byte {error.start}); the standard's files are UTF-8"
        ) from None


def _unreadable(message: str) -> RequestValidationError:
    """422 at ``body``, like any other request FastAPI finds invalid."""
    return RequestValidationError([{"loc": ("body",), "msg": message, "type": "value_error"}])

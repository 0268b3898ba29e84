"""Documents of the standard: CSV and JSON text to rows, and rows back to text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from services.registry.adapters.mediation_numerique.standard import (
    EXTENSION_FIELDS,
    FIELDS,
    LIST_SEPARATOR,
    REQUIRED,
    SourceRow,
    StandardRow,
    UnreadableDocument,
    Value,
)

# --- reading documents ----------------------------------------------------------------------


def parse_csv(text: str) -> list[SourceRow]:
    """The rows of a CSV document; UnreadableDocument when it cannot be read as one.

    The header names columns (case and surrounding spaces ignored, unknown columns ignored). A
    header with more semicolons than commas is read as semicolon-separated (spreadsheets in
    French locales write that). Blank lines are skipped but counted.
    """
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise UnreadableDocument("the file is empty: expected a header line naming the standard's columns")
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[SourceRow] = []
    header: list[str] | None = None
    consumed = 0
    try:
        for record in reader:
            start, consumed = consumed + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = _header(record)
                continue
            rows.append(_csv_row(start, header, record))
    except csv.Error as error:
        raise UnreadableDocument(f"unreadable CSV from line {consumed + 1}: {error} (a quote left open?)") from None
    if header is None:
        raise UnreadableDocument("the file is empty: expected a header line naming the standard's columns")
    return rows


def _header(record: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in record]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise UnreadableDocument(f"the header names these columns twice: {', '.join(repeated)}")
    if not {"id", "nom"} <= set(names):
        found = ", ".join(repr(n) for n in names[:8] if n) or "none"
        raise UnreadableDocument(
            f"not a file of the standard de la médiation numérique: its header has no 'id' and 'nom' columns "
            f"(found {found})"
        )
    return names


def _csv_row(line: int, header: list[str], record: list[str]) -> SourceRow:
    if len(record) < len(header) or any(cell.strip() for cell in record[len(header) :]):
        problem = ("", f"{len(record)} cells where the header has {len(header)} columns")
        return SourceRow(line, {}, (problem,))
    return SourceRow(line, {name: cell for name, cell in zip(header, record, strict=False) if name})


def parse_json(text: str) -> list[SourceRow]:
    """The rows of a JSON document: a list of objects with the standard's field names."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise UnreadableDocument(f"invalid JSON: {error}") from None
    if not isinstance(document, list):
        raise UnreadableDocument("expected a JSON list of lieux (objects with the standard's fields)")
    rows: list[SourceRow] = []
    for line, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            rows.append(SourceRow(line, {}, (("", "expected an object with the standard's fields"),)))
            continue
        values: dict[str, str] = {}
        problems: list[tuple[str, str]] = []
        for key, value in item.items():
            name = str(key).strip().lower()
            try:
                values[name] = _json_cell(value)
            except ValueError as error:
                problems.append((name, str(error)))
        rows.append(SourceRow(line, values, tuple(problems)))
    return rows


def _json_cell(value: Any, nested: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and not nested:
        return LIST_SEPARATOR.join(_json_cell(v, nested=True) for v in value)
    raise ValueError(f"expected text, a number or a list of them, not {type(value).__name__}")


# --- rows to documents ----------------------------------------------------------------------


def write_csv(rows: Iterable[StandardRow], *, extensions: bool = False) -> str:
    """CSV text: a header with every field of the standard in order (then the extensions, if asked)."""
    columns = FIELDS + (EXTENSION_FIELDS if extensions else ())
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(_csv_cell(row.get(column, "")) for column in columns)
    return out.getvalue()


def _csv_cell(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_json(rows: Iterable[StandardRow], *, extensions: bool = False) -> str:
    """A JSON list of objects: required fields always, optional ones only when not empty."""
    columns = FIELDS + (EXTENSION_FIELDS if extensions else ())
    objects = [
        {column: row[column] for column in columns if column in row and (row[column] != "" or column in REQUIRED)}
        for row in rows
    ]
    return json.dumps(objects, ensure_ascii=False)

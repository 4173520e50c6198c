"""Exports of the proposals a person may see: CSV for German Excel (UTF-8 with BOM, ``;``) and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# openpyxl ships no type hints; with ``types-openpyxl`` in the dev dependencies these ignores can go.
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from partnerprojekte.formats import replace_forbidden
from partnerprojekte.model import Criterion
from partnerprojekte.web import wording

HEADER = (
    "ID",
    "Titel",
    "Organisation",
    "Status",
    *(criterion.label for criterion in Criterion),
    "Gesamtergebnis",
    "Zuständiges Ressort",
    "Eingereicht am",
)
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell that starts like a formula is run by spreadsheet programs (CSV injection): such text gets a
# leading apostrophe, which Excel and LibreOffice read as "this is text".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportRow:
    """One proposal as a row of the export."""

    id: str
    title: str
    organisation: str
    status: str
    criteria: tuple[str, ...]
    overall: str
    ressort: str
    submitted: dt.date | None

    def cells(self) -> list[Any]:
        """The values in the order of ``HEADER``."""
        return [
            self.id,
            self.title,
            self.organisation,
            self.status,
            *self.criteria,
            self.overall,
            self.ressort,
            self.submitted,
        ]


def export_rows(
    items: Sequence[dict[str, Any]], checks: dict[str, dict[str, Any]], tz: str
) -> list[ExportRow]:
    """Rows from proposal summaries (``list`` shape) and their stored criteria results by id."""
    rows = []
    for item in items:
        check = checks.get(item["id"], {})
        results = check.get("criteria", {})
        submitted = wording.local(item.get("submitted_at"), tz)
        rows.append(
            ExportRow(
                id=item["id"],
                title=item["title"],
                organisation=item["organisation"],
                status=wording.state_label(item["status"]),
                criteria=tuple(
                    wording.verdict_label(results.get(c.value, {}).get("result", "")) for c in Criterion
                ),
                overall=wording.verdict_label(item.get("overall") or ""),
                ressort=item.get("responsible_ressort") or "",
                submitted=submitted.date() if submitted else None,
            )
        )
    return rows


def _safe_text(value: str) -> str:
    # Data stored before control characters were refused must not break the export for everyone:
    # openpyxl refuses them, and a lone surrogate cannot be written as UTF-8. They become U+FFFD.
    value = replace_forbidden(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(rows: Sequence[ExportRow]) -> bytes:
    """CSV as German Excel opens it by double-click: UTF-8 with BOM, semicolons, dates as ``TT.MM.JJJJ``."""
    return b"".join(csv_chunks([rows]))


def csv_chunks(batches: Iterable[Sequence[ExportRow]]) -> Iterator[bytes]:
    """The CSV of ``to_csv`` in pieces (BOM and header first, then one piece per batch): for streaming."""
    yield ("\ufeff" + _csv_text([HEADER])).encode("utf-8")
    for rows in batches:
        yield _csv_text(
            [
                [
                    (value.strftime("%d.%m.%Y") if isinstance(value, dt.date) else _safe_text(str(value)))
                    if value is not None
                    else ""
                    for value in row.cells()
                ]
                for row in rows
            ]
        ).encode("utf-8")


def _csv_text(lines: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerows(lines)
    return buffer.getvalue()


def to_xlsx(rows: Sequence[ExportRow], *, title: str = "Partnerprojekte") -> bytes:
    """An XLSX workbook with one sheet: bold, frozen header with a filter; dates as real dates."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(HEADER))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(row.cells(), start=1):
            cell = sheet.cell(row=number, column=column)
            if isinstance(value, dt.date):
                cell.value = value
                cell.number_format = "DD.MM.YYYY"
            elif value is None:
                cell.value = None
            else:
                # Set as text explicitly: openpyxl would store "=…" as a formula.
                # (a text cell needs no apostrophe: it is never run)
                cell.value = replace_forbidden(str(value))
                cell.data_type = "s"
    widths = [10, 50, 36, 24, *([16] * len(Criterion)), 16, 14, 14]
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{max(len(rows) + 1, 1)}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def filename(stem: str, day: dt.date, suffix: str) -> str:
    """``partnerprojekte-2026-03-02.csv``."""
    return f"{stem}-{day.isoformat()}.{suffix}"

"""Blank import templates (.xlsx): the header row a reader accepts, the required columns
marked, and a sheet that explains each column, so a clerk starts from a file that fits."""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

REQUIRED_FILL = PatternFill("solid", fgColor="FFE699")


def template_workbook(title: str, columns: Iterable, notes: dict[str, str] | None = None) -> bytes:
    """``columns``: objects with ``header`` and ``required`` (and ``key``, which ``notes`` may
    explain). The first sheet is the file to fill in: its first row is exactly the headers."""
    columns = list(columns)
    notes = notes or {}
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True)
        if column.required:
            cell.fill = REQUIRED_FILL
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(column.header) * 3)
    sheet.freeze_panes = "A2"
    guide = book.create_sheet(_("How to fill in")[:31])
    guide.append([_("Column"), _("Required"), _("What to enter")])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in columns:
        guide.append(
            [
                column.header,
                _("yes") if column.required else _("no"),
                notes.get(getattr(column, "key", ""), ""),
            ]
        )
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["C"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

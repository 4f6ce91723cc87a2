"""Excel/CSV in and out: the layouts of the files this procedure reads (survey lists, reference
files, bank return files) and writes (bank batch files, the cycle report).

Uploads are streamed row by row with the registry's readers (openpyxl read-only, csv; UTF-8 or
GBK), so a 50,000-row file needs no more memory than a 50-row one. A file whose header row has
unknown or missing columns is refused as a whole, with the expected columns named."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext as _

from registry.identity import IdentityError, citizen_id_parse, normalise
from registry.imports.readers import (
    FileRefused,
    Progress,
    csv_rows,
    detect_encoding,
    sniff,
    xlsx_rows,
)
from registry.imports.rows import parse_date
from workflows.exceptions import InvalidInput

MAX_UPLOAD_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False


@dataclass(frozen=True)
class Layout:
    name: str
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def positions(self, cells: list) -> dict[str, int]:
        """Column positions by key; FileRefused for unknown, missing or repeated headers."""
        while cells and cells[-1] is None:
            cells = cells[:-1]
        names = [None if c is None else normalise(c) for c in cells]
        known = {c.header: c for c in self.columns}
        unknown = [str(n) for n in names if n and n not in known]
        missing = [c.header for c in self.columns if c.required and c.header not in names]
        repeated = sorted({n for n in names if n and names.count(n) > 1})
        problems = []
        if unknown:
            problems.append(_("unknown column(s): %(names)s") % {"names": "、".join(unknown)})
        if missing:
            problems.append(_("missing column(s): %(names)s") % {"names": "、".join(missing)})
        if repeated:
            problems.append(_("repeated column(s): %(names)s") % {"names": "、".join(repeated)})
        if problems:
            raise FileRefused(
                "; ".join(problems)
                + "。"
                + _("The columns of a %(layout)s are: %(headers)s")
                % {"layout": self.name, "headers": "、".join(self.headers)}
            )
        return {known[n].key: i for i, n in enumerate(names) if n}


def _layout(name: str, *columns: tuple[str, str, bool]) -> Layout:
    return Layout(name, tuple(Column(k, h, r) for k, h, r in columns))


def survey_layout() -> Layout:
    return _layout(
        _("survey list"),
        ("name", "姓名", True),
        ("citizen_id", "公民身份号码", True),
        ("phone", "联系电话", False),
        ("note", "备注", False),
    )


def reference_layout(kind: str) -> Layout:
    layouts = {
        "low_income": (
            _("low-income list"),
            ("name", "姓名", False),
            ("citizen_id", "公民身份号码", True),
            ("status", "困难类别", True),
            ("since", "认定日期", False),
            ("until", "终止日期", False),
        ),
        "deaths": (
            _("death list"),
            ("name", "姓名", False),
            ("citizen_id", "公民身份号码", True),
            ("date", "死亡日期", True),
        ),
        "moves": (
            _("household move list"),
            ("name", "姓名", False),
            ("citizen_id", "公民身份号码", True),
            ("date", "迁出日期", True),
            ("destination", "迁往地", False),
        ),
        "previous_recipients": (
            _("recipient list"),
            ("name", "姓名", True),
            ("citizen_id", "公民身份号码", True),
            ("amount", "发放金额", False),
        ),
    }
    return _layout(*layouts[kind])


BATCH_HEADERS = ["姓名", "公民身份号码", "银行卡号", "金额", "摘要"]


def bank_return_layout() -> Layout:
    return _layout(
        _("bank return file"),
        ("name", "姓名", True),
        ("citizen_id", "公民身份号码", True),
        ("card_number", "银行卡号", True),
        ("amount", "金额", True),
        ("memo", "摘要", False),
        ("result", "结果", True),
        ("reason", "失败原因", False),
    )


class Upload:
    """An uploaded file copied to a temporary path (the readers want a path), with its digest.

    Use as a context manager; the copy is removed on exit."""

    def __init__(self, upload):
        if upload is None:
            raise InvalidInput(_("Choose a file."), {"file": [_("Choose a file.")]})
        self.name = (getattr(upload, "name", "") or "upload").rsplit("/", 1)[-1][:255]
        digest = hashlib.sha256()
        handle, path = tempfile.mkstemp(prefix="fuzhu-medication-")
        size = 0
        with os.fdopen(handle, "wb") as target:
            chunks = upload.chunks() if hasattr(upload, "chunks") else [upload.read()]
            for chunk in chunks:
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    os.unlink(path)
                    message = _("The file is larger than %(n)s MB.") % {"n": MAX_UPLOAD_BYTES >> 20}
                    raise InvalidInput(message, {"file": [message]})
                digest.update(chunk)
                target.write(chunk)
        self.path = Path(path)
        self.sha256 = digest.hexdigest()

    def __enter__(self) -> Upload:
        return self

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)

    def rows(self, layout: Layout) -> Iterator[tuple[int, dict]]:
        """(row number, {key: value}) of every non-empty data row; FileRefused for a file that
        cannot be read or whose header does not fit ``layout``."""
        kind = sniff(self.path, self.name)
        progress = Progress()
        if kind == "xlsx":
            rows = xlsx_rows(self.path, progress)
        else:
            rows = csv_rows(self.path, detect_encoding(self.path), progress)
        positions = None
        for number, cells in rows:
            if positions is None:
                if all(c is None for c in cells):
                    continue
                positions = layout.positions(list(cells))
                continue
            if all(c is None for c in cells):
                continue
            yield (
                number,
                {
                    key: cells[index] if index < len(cells) else None
                    for key, index in positions.items()
                },
            )
        if positions is None:
            raise FileRefused(_("the file has no header row"))


def refused(exc: FileRefused) -> InvalidInput:
    return InvalidInput(exc.message, {"file": [exc.message]})


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def citizen_id(value) -> str:
    """The checked ID; IdentityError with the reason otherwise."""
    if isinstance(value, float | int):
        raise IdentityError(
            _("the citizen ID was stored as a number (Excel drops digits): format it as text")
        )
    return citizen_id_parse(value).number


def day(value) -> date | None:
    return parse_date(value)


def money(value) -> Decimal:
    if isinstance(value, float):
        value = f"{value:.2f}"
    try:
        return Decimal(normalise(value).replace(",", "")).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValueError(_("'%(value)s' is not an amount") % {"value": value}) from None


def iso(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else ""


# --- writing ------------------------------------------------------------------------------------


def xlsx_bytes(sheets: Iterable[tuple[str, Iterable[list]]]) -> bytes:
    """An .xlsx written in openpyxl's streaming mode; IDs and card numbers stay text."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        for row in rows:
            sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _cell(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def csv_bytes(rows: Iterable[list]) -> bytes:
    """CSV in UTF-8 with a BOM (Excel reads the Chinese correctly); amounts with two decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([f"{v:.2f}" if isinstance(v, Decimal) else v for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


TEMPLATE_NOTES = {
    "citizen_id": "18 位公民身份号码，末位可为 X",
    "status": "低保、特困或边缘",
    "result": "成功或失败",
    "card_number": "银行卡或社保卡（一卡通）号",
}


def template_layouts() -> dict:
    """The files a clerk uploads in this procedure, by the name its template is fetched by."""
    layouts = {"survey": survey_layout(), "bank_return": bank_return_layout()}
    for kind in ("low_income", "deaths", "moves", "previous_recipients"):
        layouts[kind] = reference_layout(kind)
    return layouts


def file_template(name: str) -> tuple[str, bytes] | None:
    """A blank .xlsx of one of this procedure's upload layouts: (file name, content)."""
    from registry.imports.templates import template_workbook

    layout = template_layouts().get(name)
    if layout is None:
        return None
    title = str(layout.name)
    return f"{title}模板.xlsx", template_workbook(title, layout.columns, TEMPLATE_NOTES)

"""Reading uploads row by row, in constant memory: .xlsx with openpyxl's read-only mode, CSV in
UTF-8 or GBK/GB18030. Whatever makes a file unusable as a whole is a ``FileRefused``."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .columns import HEADERS
from .limits import UploadTooLarge, cell_too_long, check_cell, check_row_count, check_workbook

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")


class FileRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Progress:
    done: int = 0
    total: int = 0


def sniff(path: Path, name: str) -> str:
    """``xlsx`` or ``csv``; refuses encrypted, old-format and non-tabular files."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if not head:
        raise FileRefused("the file is empty")
    if head.startswith(OLE_MAGIC):
        with open(path, "rb") as handle:
            if ENCRYPTION_INFO in handle.read(4 * 1024 * 1024):
                raise FileRefused(
                    "the workbook is protected with a password: open it in Excel, remove the "
                    "password (File → Info → Protect Workbook → Encrypt with Password) and "
                    "upload it again"
                )
        raise FileRefused(
            "this is an Excel 97–2003 (.xls) file: save it as an Excel workbook (.xlsx) or "
            "CSV and upload it again"
        )
    if head.startswith(b"PK\x03\x04"):
        if not _is_workbook(path):
            raise FileRefused("the file is a ZIP archive but not an Excel workbook (.xlsx)")
        try:
            check_workbook(path)  # before openpyxl unpacks anything
        except UploadTooLarge as refused:
            raise FileRefused(refused.message) from None
        return "xlsx"
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileRefused(
            f"'{name}' is neither an Excel workbook (.xlsx) nor a CSV file: upload the person "
            "list as .xlsx or .csv"
        )
    return "csv"


def _is_workbook(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK), checked over the whole
    file in chunks; refuses text that is neither."""
    with open(path, "rb") as handle:
        start = handle.read(4)
    if start.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileRefused(
        "the file is neither an Excel workbook (.xlsx) nor a CSV text file in UTF-8 or GBK"
    )


class _CountingReader(io.RawIOBase):
    def __init__(self, handle, progress: Progress):
        self.handle, self.progress = handle, progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.handle.read(len(buffer))
        buffer[: len(data)] = data
        self.progress.done += len(data)
        return len(data)


def _cell(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _limited(cells: list, number: int) -> list:
    """A row as read, within the upload's row and cell limits (limits.py)."""
    try:
        check_row_count(number)
        for value in cells:
            check_cell(value, number)
    except UploadTooLarge as refused:
        raise FileRefused(refused.message) from None
    return cells


def csv_rows(path: Path, encoding: str, progress: Progress) -> Iterator[tuple[int, list]]:
    progress.total = path.stat().st_size
    with open(path, encoding=encoding, newline="") as sample:
        first_line = sample.readline()
    delimiter = max(",;\t", key=first_line.count) if first_line else ","
    with open(path, "rb") as raw:
        buffered = io.BufferedReader(_CountingReader(raw, progress), buffer_size=256 * 1024)
        text = io.TextIOWrapper(buffered, encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=delimiter)
        number = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:  # a field past the csv module's own limit (131,072), far past ours
                raise FileRefused(cell_too_long(number + 1).message) from None
            number += 1
            yield number, _limited([_cell(v) for v in row], number)


def xlsx_rows(path: Path, progress: Progress) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook

    handle = open(path, "rb")  # noqa: SIM115 - closed below; a file object skips the suffix check
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken package
        handle.close()
        raise FileRefused(f"the Excel workbook cannot be read: {exc}") from None
    try:
        sheet = workbook.worksheets[0]
        progress.total = sheet.max_row or 0
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            progress.done = number
            yield number, _limited([_cell(v) for v in row], number)
    finally:
        workbook.close()
        handle.close()


def header_check(cells: list) -> dict[str, int]:
    """Column positions by header; refuses missing, unknown, repeated or merged header cells."""
    width = len(cells)
    while cells and cells[-1] is None:
        cells = cells[:-1]
    names = [None if c is None else str(c).strip() for c in cells]
    present = [n for n in names if n]
    if len(present) == 1 and width > 1 and present[0] not in HEADERS:
        raise FileRefused(
            f"row 1 holds only '{present[0]}' (a merged title?): the first row must hold the "
            f"column names: {', '.join(HEADERS)}"
        )
    empty = [_letter(i) for i, n in enumerate(names) if not n]
    if empty:
        raise FileRefused(
            f"the header row has empty cells in column(s) {', '.join(empty)}: merged or missing "
            "column names are not allowed; give each column one name in row 1"
        )
    missing = [h for h in HEADERS if h not in names]
    extra = [n for n in names if n not in HEADERS]
    repeated = sorted({n for n in names if names.count(n) > 1})
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if extra:
        problems.append(f"unknown column(s): {', '.join(extra)}")
    if repeated:
        problems.append(f"repeated column(s): {', '.join(repeated)}")
    if problems:
        raise FileRefused(
            "; ".join(problems) + f". The columns are: {', '.join(HEADERS)} (download the "
            "template or an export for the layout)"
        )
    return {name: index for index, name in enumerate(names)}


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters

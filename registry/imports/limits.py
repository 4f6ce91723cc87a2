"""An upload's limits as it will be read, not as it was sent.

An .xlsx is a ZIP archive: half a megabyte can unpack to a 500 MB cell, and openpyxl loads
every shared string at once when it opens the workbook (the attack took the server past 5.6 GB).
So before openpyxl sees a workbook, ``check_workbook`` reads the archive's directory (sizes as
unpacked, compression ratios) and then streams every part through expat, which hands text over
in pieces: a text longer than a cell may be, or (in the first sheet, the one imported) one row
too many, is refused as soon as it is met, in constant memory. Python's zipfile never unpacks
more than a member's recorded size, so the recorded sizes are upper bounds that can be trusted.
The scan costs about a sixth of openpyxl's own reading (1.6 s against 10 s for 50,000 rows).

CSV files are not compressed (their upload limit is their size); their cells and rows are
counted while they are read (``check_cell``, ``check_row_count``).
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from pathlib import Path
from xml.parsers import expat

from django.utils.translation import gettext as _

from .. import conf

# A member this small cannot hold much, whatever its ratio (styles and themes compress well).
_RATIO_FLOOR_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


class UploadTooLarge(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_workbook(path: Path) -> None:
    """Refuse a workbook whose unpacked size, compression, cells or rows are over the limits."""
    with zipfile.ZipFile(path) as archive:
        _check_members(archive.infolist())
        names = set(archive.namelist())
        sheet = _first_sheet(archive, names)
        # Every part, whatever its name: [Content_Types].xml may put the shared strings (which
        # openpyxl loads whole) anywhere. A part that is not XML stops expat at its first bytes.
        for name in sorted(names):
            _scan(archive, name, count_rows=name == sheet)


def check_cell(value, row: int) -> None:
    if isinstance(value, str) and len(value) > conf.get("IMPORT_MAX_CELL_CHARS"):
        raise cell_too_long(row)


def cell_too_long(row: int | None) -> UploadTooLarge:
    return UploadTooLarge(_cell_message(row, conf.get("IMPORT_MAX_CELL_CHARS")))


def check_row_count(row: int) -> None:
    limit = conf.get("IMPORT_MAX_ROWS")
    if row > limit:
        raise UploadTooLarge(_rows_message(limit))


def _cell_message(row: int | None, limit: int) -> str:
    if row is None:
        message = _("A cell holds more than %(limit)s characters: the file is refused.")
        return message % {"limit": f"{limit:,}"}
    message = _("A cell in row %(row)s holds more than %(limit)s characters: the file is refused.")
    return message % {"row": f"{row:,}", "limit": f"{limit:,}"}


def _rows_message(limit: int) -> str:
    message = _(
        "The file has more than %(limit)s rows: split it into smaller files and import them "
        "one by one."
    )
    return message % {"limit": f"{limit:,}"}


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    total_limit = conf.get("IMPORT_MAX_UNCOMPRESSED_BYTES")
    ratio_limit = conf.get("IMPORT_MAX_COMPRESSION_RATIO")
    total = sum(member.file_size for member in members)
    if total > total_limit:
        message = _(
            "The workbook unpacks to %(size)s bytes; the limit is %(limit)s bytes. Save it "
            "without other sheets, pictures or formatting, or split it into smaller files."
        )
        raise UploadTooLarge(message % {"size": f"{total:,}", "limit": f"{total_limit:,}"})
    for member in members:
        if member.file_size <= _RATIO_FLOOR_BYTES:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > ratio_limit:
            message = _(
                "The workbook's part %(part)s unpacks to %(ratio)s times its packed size; the "
                "limit is %(limit)s times. A real workbook does not compress like this: the "
                "file is refused."
            )
            raise UploadTooLarge(
                message % {"part": member.filename, "ratio": f"{ratio:,.0f}", "limit": ratio_limit}
            )


def _first_sheet(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    """The member of the workbook's first sheet (the one the import reads), as openpyxl finds
    it: the first <sheet> of xl/workbook.xml, through its relationship."""
    first: list[str] = []
    targets: dict[str, str] = {}

    def workbook_element(name, attributes):
        if name == f"{_MAIN_NS} sheet" and not first:
            first.append(attributes.get(f"{_RELS_NS} id", ""))

    def relationship(name, attributes):
        if name == f"{_PACKAGE_RELS_NS} Relationship":
            targets[attributes.get("Id", "")] = attributes.get("Target", "")

    if "xl/workbook.xml" in names:
        _parse(archive, "xl/workbook.xml", workbook_element)
    if "xl/_rels/workbook.xml.rels" in names:
        _parse(archive, "xl/_rels/workbook.xml.rels", relationship)
    target = targets.get(first[0]) if first else None
    if not target:
        return None
    member = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    member = posixpath.normpath(member)
    return member if member in names else None


def _parse(archive: zipfile.ZipFile, member: str, start) -> None:
    parser = _parser()
    parser.StartElementHandler = start
    _feed(archive, member, parser)


def _parser():
    parser = expat.ParserCreate(namespace_separator=" ")

    def refuse_doctype(*_args):
        # No part of a workbook declares a DTD; one that does may expand entities endlessly.
        raise UploadTooLarge(_("The workbook contains a document type declaration: refused."))

    parser.StartDoctypeDeclHandler = refuse_doctype
    return parser


def _feed(archive: zipfile.ZipFile, member: str, parser) -> None:
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except (expat.ExpatError, zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error):
        return  # a broken, encrypted or oddly packed part: openpyxl says what is wrong with it


def _scan(archive: zipfile.ZipFile, member: str, *, count_rows: bool) -> None:
    """Stream one part: no text after a start tag longer than the cell limit, and (for the
    sheet) no more rows than the row limit. Memory stays at one chunk."""
    cell_limit = conf.get("IMPORT_MAX_CELL_CHARS")
    row_limit = conf.get("IMPORT_MAX_ROWS")
    state = {"text": 0, "rows": 0}
    row_tag = f"{_MAIN_NS} row"

    def start(name, _attributes):
        state["text"] = 0
        if count_rows and name == row_tag:
            state["rows"] += 1
            if state["rows"] > row_limit:
                raise UploadTooLarge(_rows_message(row_limit))

    def text(data):
        state["text"] += len(data)
        if state["text"] > cell_limit:
            raise cell_too_long(state["rows"] if count_rows else None)

    parser = _parser()
    # Text is counted from one start tag to the next: a cell's text, plus at most the spaces
    # after it (an end handler as well would double the calls, and the time).
    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    _feed(archive, member, parser)

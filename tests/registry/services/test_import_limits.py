"""Uploads are refused by what they hold once unpacked, before anything parses them.

The attack of issue 18 (item 8): a 0.5 MB .xlsx whose shared strings unpack to one 500 MB cell
took the server past 5.6 GB, because only the packed size was limited. The bomb is built here
the same way, streamed into the archive in 1 MB pieces, so the test stays small in memory.
"""

import functools
import io
import resource
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.utils import translation

from registry.models import ImportBatch, ImportRow, Person
from registry.services.imports import import_batch_create
from tests.registry.files import csv_bytes, people, xlsx_bytes

pytestmark = pytest.mark.django_db

SHARED = "xl/sharedStrings.xml"
SHEET = "xl/worksheets/sheet1.xml"
MAIN = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _replace(workbook: bytes, member: str, pieces) -> bytes:
    """``workbook`` with ``member`` rewritten from ``pieces`` (bytes), streamed and deflated."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info, source.read(info))
        with target.open(member, "w", force_zip64=True) as stream:
            for piece in pieces:
                stream.write(piece)
    return out.getvalue()


def _shared_strings_with(text_pieces) -> list[bytes]:
    return [
        b"<sst " + MAIN + b' count="1" uniqueCount="1"><si><t>',
        *text_pieces,
        b"</t></si></sst>",
    ]


@functools.cache
def _bomb() -> bytes:
    """A workbook whose shared strings unpack to one 500 MB cell; built once (about 4 s)."""
    pieces = _shared_strings_with(b"a" * 2**20 for _ in range(500))
    return _replace(xlsx_bytes(people(2)), SHARED, pieces)


def _refused(user, content: bytes, name="名册.xlsx", monkeypatch=None) -> str:
    if monkeypatch is not None:  # openpyxl must never open the file

        def never(*args, **kwargs):
            raise AssertionError("openpyxl opened a refused workbook")

        monkeypatch.setattr(openpyxl, "load_workbook", never)
    with translation.override("zh-hans"), pytest.raises(Exception) as caught:  # noqa: PT011
        import_batch_create(user=user, file_name=name, chunks=[content])
    assert type(caught.value).__name__ == "InvalidInput"
    assert not ImportBatch.objects.exists() and not ImportRow.objects.exists()
    assert not Person.objects.exists()
    return caught.value.message


def test_a_half_megabyte_workbook_with_a_500_mb_cell_is_refused_unopened(
    county_staff, monkeypatch, settings
):
    bomb = _bomb()
    assert len(bomb) < 1024 * 1024  # as small as the attack's file
    unpacked = sum(member.file_size for member in zipfile.ZipFile(io.BytesIO(bomb)).infolist())
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    message = _refused(county_staff, bomb, monkeypatch=monkeypatch)
    assert time.monotonic() - started < 1
    assert message == (
        f"工作簿解压后为 {unpacked:,} 字节，上限为 268,435,456 字节。请删除其他工作表、图片或"
        "格式后另存，或拆分为较小的文件。"
    )
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 100 * 1024  # kB
    assert not any(Path(settings.REGISTRY["IMPORT_DIR"]).glob("*"))  # the upload is gone


def test_the_same_cell_within_the_unpacked_limit_is_refused_by_its_length(
    county_staff, monkeypatch, settings
):
    settings.REGISTRY = {
        **settings.REGISTRY,
        "IMPORT_MAX_UNCOMPRESSED_BYTES": 10**10,
        "IMPORT_MAX_COMPRESSION_RATIO": 10**6,
    }
    bomb = _bomb()
    started = time.monotonic()
    message = _refused(county_staff, bomb, monkeypatch=monkeypatch)
    assert time.monotonic() - started < 1  # stops at the first 32,768 characters
    assert message == "有单元格超过 32,767 个字符，文件未被接受。"


def test_a_part_that_unpacks_far_beyond_its_packed_size_is_refused(county_staff, settings):
    settings.REGISTRY = {**settings.REGISTRY, "IMPORT_MAX_UNCOMPRESSED_BYTES": 10**9}
    bomb = _replace(
        xlsx_bytes(people(2)), SHARED, _shared_strings_with(b"a" * 2**20 for _ in range(20))
    )
    message = _refused(county_staff, bomb)
    assert message.startswith("工作簿中的 xl/sharedStrings.xml 解压后是压缩大小的 ")
    assert message.endswith("倍，上限为 100 倍。正常的工作簿不会这样压缩，文件未被接受。")


def test_a_shared_string_longer_than_a_cell_may_be_is_refused_before_openpyxl_reads_it(
    county_staff, monkeypatch
):
    # 40,000 characters of varied text: an ordinary ratio, a small file, one cell too long.
    text = "".join(f"{i:05d}" for i in range(8000)).encode()
    content = _replace(xlsx_bytes(people(2)), SHARED, _shared_strings_with([text]))
    message = _refused(county_staff, content, monkeypatch=monkeypatch)
    assert message == "有单元格超过 32,767 个字符，文件未被接受。"


def test_a_long_inline_cell_in_the_sheet_is_refused_with_its_row(county_staff, monkeypatch):
    text = "".join(f"{i:05d}" for i in range(8000)).encode()
    sheet = [
        b"<worksheet " + MAIN + b"><sheetData>",
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>',
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>',
        text,
        b"</t></is></c></row></sheetData></worksheet>",
    ]
    content = _replace(xlsx_bytes(people(2)), SHEET, sheet)
    message = _refused(county_staff, content, monkeypatch=monkeypatch)
    assert message == "第 2 行有单元格超过 32,767 个字符，文件未被接受。"


def test_a_workbook_with_a_document_type_declaration_is_refused(county_staff, monkeypatch):
    laughs = [
        b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">]>',
        b"<sst " + MAIN + b"/>",
    ]
    content = _replace(xlsx_bytes(people(2)), SHARED, laughs)
    message = _refused(county_staff, content, monkeypatch=monkeypatch)
    assert message == "工作簿含有文档类型声明（DTD），文件未被接受。"


def test_a_workbook_with_too_many_rows_is_refused_unopened(county_staff, settings, monkeypatch):
    settings.REGISTRY = {**settings.REGISTRY, "IMPORT_MAX_ROWS": 10}
    with translation.override("zh-hans"):
        batch = import_batch_create(
            user=county_staff, file_name="名册.xlsx", chunks=[xlsx_bytes(people(9))]
        )
    assert (batch.state, batch.rows_read) == ("checked", 9)  # ten rows with the header
    ImportRow.objects.all().delete()
    ImportBatch.objects.all().delete()
    message = _refused(county_staff, xlsx_bytes(people(10)), monkeypatch=monkeypatch)
    assert message == "文件超过 10 行：请拆分为较小的文件，逐个导入。"


def _csv_refused(user, content: bytes) -> str:
    """A CSV is read in the check after its upload: the batch is refused, no rows are kept."""
    with translation.override("zh-hans"):
        batch = import_batch_create(user=user, file_name="名册.csv", chunks=[content])
    batch.refresh_from_db()
    assert batch.state == "refused" and batch.stored_file == ""
    assert not ImportRow.objects.exists() and not Person.objects.exists()
    return batch.message


def test_a_csv_with_too_many_rows_is_refused(county_staff, settings):
    settings.REGISTRY = {**settings.REGISTRY, "IMPORT_MAX_ROWS": 10}
    message = _csv_refused(county_staff, csv_bytes(people(10)))  # the header makes it 11
    assert message == "文件超过 10 行：请拆分为较小的文件，逐个导入。"
    with translation.override("zh-hans"):
        batch = import_batch_create(
            user=county_staff, file_name="名册.csv", chunks=[csv_bytes(people(9))]
        )
    assert (batch.state, batch.rows_read) == ("checked", 9)


def test_a_csv_cell_longer_than_a_cell_may_be_is_refused_with_its_row(county_staff):
    rows = people(3)
    rows[1]["姓名"] = "张" * 40_000
    message = _csv_refused(county_staff, csv_bytes(rows))
    assert message == "第 3 行有单元格超过 32,767 个字符，文件未被接受。"


def test_a_csv_field_past_the_csv_modules_own_limit_is_refused_too(county_staff):
    rows = people(3)
    rows[0]["姓名"] = "x" * 200_000
    message = _csv_refused(county_staff, csv_bytes(rows))
    assert message == "第 2 行有单元格超过 32,767 个字符，文件未被接受。"


def test_the_cell_limit_is_a_setting(county_staff, settings, monkeypatch):
    settings.REGISTRY = {**settings.REGISTRY, "IMPORT_MAX_CELL_CHARS": 100}
    rows = people(2)
    rows[1]["姓名"] = "张" * 101
    message = _refused(county_staff, xlsx_bytes(rows), monkeypatch=monkeypatch)
    assert message == "第 3 行有单元格超过 100 个字符，文件未被接受。"

"""Importing persons and certificates: a per-row report first, then "import all valid rows".

Every refused file leaves nothing behind; re-importing the same file changes nothing."""

import io
from datetime import date

import pytest
from openpyxl import Workbook

from registry.imports.columns import HEADERS
from registry.models import Certificate, ImportBatch, ImportRow, Person, RegistryEvent
from registry.services.imports import import_batch_commit, import_batch_create
from tests.registry.conftest import FIXTURES
from tests.registry.files import csv_bytes, people, row, xlsx_bytes
from workflows.exceptions import Conflict, InvalidInput, NotAllowed

pytestmark = pytest.mark.django_db


def upload(user, content: bytes, name="名册.xlsx") -> ImportBatch:
    return import_batch_create(user=user, file_name=name, chunks=[content])


def report(batch) -> list[tuple[int, str, str]]:
    return [
        (r.row_number, p["column"], p["message"])
        for r in ImportRow.objects.filter(batch=batch).order_by("row_number")
        for p in r.problems
    ]


def refused(user, content: bytes, name="名册.xlsx") -> str:
    with pytest.raises(InvalidInput) as caught:
        upload(user, content, name)
    assert not ImportBatch.objects.exists() and not Person.objects.exists()
    return caught.value.message


def test_a_clean_file_is_checked_then_committed(county_staff):
    batch = upload(county_staff, xlsx_bytes(people(20)))
    assert (batch.state, batch.rows_read, batch.rows_valid, batch.rows_invalid) == (
        "checked",
        20,
        20,
        0,
    )
    assert batch.percent == 100 and not Person.objects.exists()  # nothing until committed
    batch = import_batch_commit(user=county_staff, batch=batch)
    assert (batch.state, batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (
        "committed",
        20,
        0,
        0,
    )
    assert Person.objects.count() == Certificate.objects.count() == 20
    person = Person.objects.get(name="测试3")
    assert (person.birth_date, person.low_income_status) == (date(1953, 4, 4), "dibao")
    assert person.certificates.get().category == 6
    assert RegistryEvent.objects.filter(kind="import_committed").count() == 1


def test_importing_the_same_file_again_changes_nothing(county_staff):
    content = xlsx_bytes(people(15))
    import_batch_commit(user=county_staff, batch=upload(county_staff, content))
    snapshot = list(Person.objects.order_by("pk").values())
    again = import_batch_commit(user=county_staff, batch=upload(county_staff, content))
    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 15)
    assert list(Person.objects.order_by("pk").values()) == snapshot
    assert Certificate.objects.count() == 15


def test_a_changed_row_updates_by_citizen_id(county_staff):
    rows = people(3)
    import_batch_commit(user=county_staff, batch=upload(county_staff, xlsx_bytes(rows)))
    rows[1]["联系电话"] = "13999999999"
    rows[2]["死亡日期"] = "2024-12-01"
    batch = import_batch_commit(user=county_staff, batch=upload(county_staff, xlsx_bytes(rows)))
    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (0, 2, 1)
    assert Person.objects.get(name="测试2").life_status == "deceased"


def test_every_bad_row_is_reported_with_row_column_and_problem(county_staff, person_a, chinese):
    good = row(name="好人", sequence=101)
    twin = row(name="重复", sequence=103)
    mismatch = row(name="证号不符", sequence=105)
    mismatch["残疾类别"] = "肢体"
    existing = row(name="王晓明", citizen_id=person_a.citizen_id, category="精神", grade="二级")
    rows = [
        good,
        row(name="校验错", citizen_id="110105194912310021"),
        mismatch,
        row(name="无此村", sequence=107, village="330102101299"),
        twin,
        dict(twin),
        existing,
        row(name="旧证", sequence=109, category="心理"),
        row(name="老号", citizen_id="110105491231002"),
    ]
    batch = upload(county_staff, xlsx_bytes(rows))
    assert (batch.rows_read, batch.rows_valid, batch.rows_invalid) == (9, 1, 8)
    assert report(batch) == [
        (
            3,
            "公民身份号码",
            "身份证号 110105194912310021 的校验位不正确：末位应为 X。",
        ),
        (
            4,
            "残疾人证号",
            "残疾人证号表明类别为 6（精神），但填写的类别为 4（肢体）。",
        ),
        (5, "户籍地区划代码", "没有区划代码为330102101299的村（社区）。"),
        (6, "公民身份号码", "同一身份证号出现在第6、7行。"),
        (7, "公民身份号码", "同一身份证号出现在第6、7行。"),
        (
            8,
            "姓名",
            f"与人员库不一致：身份证号{person_a.citizen_id}登记的姓名是王小明，本行填的是王晓明；"
            "请核对身份证号，或先在人员库中更正姓名。",
        ),
        (9, "残疾人证号", "此列为空，但残疾人证的其他列已填写。"),
        (
            9,
            "残疾类别",
            "残疾类别“心理”不存在：请填写视力、听力、言语、肢体、智力、精神或多重。",
        ),
        (
            10,
            "公民身份号码",
            "身份证号 110105491231002 是 15 位的旧号码，不予受理："
            "请填写本人现用身份证上的 18 位公民身份号码。",
        ),
    ]
    batch = import_batch_commit(user=county_staff, batch=batch)
    assert batch.rows_created == 1
    assert set(Person.objects.values_list("name", flat=True)) == {"王小明", "好人"}


def test_bad_names_phones_statuses_and_dates_are_reported_in_chinese(county_staff, chinese):
    rows = [
        row(sequence=201, name="", 联系电话="电话号", 困难类别="贫困", 死亡日期="去年"),
        row(
            sequence=203,
            village="330102101000",
            困难类别="低保",
            困难认定日期="2024-05-01",
            困难终止日期="2023-01-01",
            户籍迁出日期="2099-01-01",
        ),
        row(sequence=205, 困难认定日期="2024-02-30"),
    ]
    batch = upload(county_staff, xlsx_bytes(rows))
    assert report(batch) == [
        (2, "姓名", "姓名为空。"),
        (2, "联系电话", "“电话号”不是电话号码。"),
        (2, "困难类别", "“贫困”不是困难类别，请填写低保、特困或无。"),
        (2, "死亡日期", "“去年”不是日期，请写成 2024-05-01 的格式"),
        (2, "困难类别", "填了困难认定或终止日期，但没有填困难类别，请填写低保或特困。"),
        (3, "户籍迁出日期", "2099-01-01晚于今天。"),
        (3, "困难终止日期", "困难终止日期（2023-01-01）早于认定日期（2024-05-01）。"),
        (3, "户籍地区划代码", "城关镇（330102101000）不是村或社区。"),
        (4, "困难认定日期", "“2024-02-30”不是有效的日期"),
    ]


def test_an_id_typed_as_a_number_is_reported(county_staff):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    values = row()
    values["公民身份号码"] = 330102197001020111
    sheet.append([values[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    batch = upload(county_staff, buffer.getvalue())
    assert report(batch)[0][2].startswith("the ID was stored as a number (33010219700102")
    assert report(batch)[0][2].endswith(
        "and has lost digits: format the column as text in Excel and enter the IDs again"
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_utf8_or_gbk_is_read(county_staff, encoding):
    batch = upload(county_staff, csv_bytes(people(5), encoding=encoding), name="名册.csv")
    assert (batch.file_format, batch.rows_valid, batch.rows_invalid) == ("csv", 5, 0)
    import_batch_commit(user=county_staff, batch=batch)
    assert sorted(Person.objects.values_list("name", flat=True)) == [f"测试{i}" for i in range(5)]


def test_missing_and_extra_columns_are_refused(county_staff):
    headers = [h for h in HEADERS if h != "发证日期"] + ["备注"]
    message = refused(county_staff, xlsx_bytes(people(2), headers=headers))
    assert message.startswith(
        "missing column(s): 发证日期; unknown column(s): 备注. The columns are: 姓名,"
    )


def test_merged_header_cells_are_refused(county_staff):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["清溪县残疾人名册"] + [None] * (len(HEADERS) - 1))
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(HEADERS)
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert refused(county_staff, buffer.getvalue()) == (
        "row 1 holds only '清溪县残疾人名册' (a merged title?): the first row must hold the column "
        f"names: {', '.join(HEADERS)}"
    )


def test_a_header_with_merged_or_empty_cells_in_it_is_refused(county_staff):
    headers = list(HEADERS)
    headers[3] = None
    headers[4] = None
    assert refused(county_staff, xlsx_bytes([], headers=headers)) == (
        "the header row has empty cells in column(s) D, E: merged or missing column names are "
        "not allowed; give each column one name in row 1"
    )


def test_empty_rows_between_data_rows_refuse_the_file(county_staff, chinese):
    rows = people(3)
    batch = upload(county_staff, xlsx_bytes([rows[0], None, rows[1], rows[2]]))
    assert batch.state == "refused"
    assert batch.message == (
        "第3行为空，但第4行有数据：请删除数据行之间的空行（或第一张表下方的第二张表）后重新上传。"
    )
    assert not ImportRow.objects.exists()
    with pytest.raises(Conflict) as refused:
        import_batch_commit(user=county_staff, batch=batch)
    assert refused.value.message == "“名册.xlsx”的导入状态为“文件不可用”，不能确认导入。"
    assert not Person.objects.exists()


def test_trailing_empty_rows_are_ignored(county_staff):
    batch = upload(county_staff, xlsx_bytes([*people(2), None, None]))
    assert (batch.state, batch.rows_read) == ("checked", 2)


def test_a_file_with_only_a_header_is_refused(county_staff, chinese):
    batch = upload(county_staff, xlsx_bytes([]))
    assert (batch.state, batch.message) == ("refused", "文件在列名行下面没有数据行。")


def test_a_password_protected_workbook_is_refused(county_staff):
    content = (FIXTURES / "password_protected.xlsx").read_bytes()
    assert refused(county_staff, content) == (
        "the workbook is protected with a password: open it in Excel, remove the password "
        "(File → Info → Protect Workbook → Encrypt with Password) and upload it again"
    )


@pytest.mark.parametrize(
    "content, name, message",
    [
        (
            b"%PDF-1.4\x00\x01binary",
            "名册.pdf",
            "'名册.pdf' is neither an Excel workbook (.xlsx) nor a CSV file: upload the person "
            "list as .xlsx or .csv",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
            "名册.xls",
            "this is an Excel 97–2003 (.xls) file: save it as an Excel workbook (.xlsx) or CSV and "
            "upload it again",
        ),
        (
            b"PK\x03\x04not really a zip",
            "名册.xlsx",
            "the file is a ZIP archive but not an Excel workbook (.xlsx)",
        ),
        (b"", "名册.xlsx", "the file is empty"),
        (
            b"\xff\xfe\xfd\x80\x81 garbage \x80",
            "名册.csv",
            "the file is neither an Excel workbook (.xlsx) nor a CSV text file in UTF-8 or GBK",
        ),
    ],
)
def test_files_that_are_not_usable_say_why(county_staff, content, name, message):
    assert refused(county_staff, content, name) == message


def test_only_county_staff_import(township_a_staff, auditor, chinese):
    for user in (township_a_staff, auditor):
        with pytest.raises(NotAllowed, match="^只有县残联工作人员可以导入人员和残疾人证。$"):
            upload(user, xlsx_bytes(people(1)))
    assert not ImportBatch.objects.exists()


def test_a_batch_is_committed_once(county_staff, chinese):
    batch = import_batch_commit(
        user=county_staff, batch=upload(county_staff, xlsx_bytes(people(2)))
    )
    with pytest.raises(Conflict) as refused:
        import_batch_commit(user=county_staff, batch=batch)
    assert refused.value.message == "“名册.xlsx”的导入状态为“已导入”，不能确认导入。"
    assert Person.objects.count() == 2


def test_a_newer_certificate_file_replaces_the_live_one_and_audits_it(county_staff, chinese):
    first = row(sequence=21, category="精神", grade="二级", issued="2018-01-01")
    import_batch_commit(user=county_staff, batch=upload(county_staff, xlsx_bytes([first])))
    later = row(sequence=21, category="精神", grade="一级", issued="2024-01-01")
    batch = import_batch_commit(user=county_staff, batch=upload(county_staff, xlsx_bytes([later])))
    assert batch.rows_updated == 1
    statuses = dict(Certificate.objects.values_list("number", "status"))
    assert sorted(statuses.values()) == ["reissued", "valid"]
    assert RegistryEvent.objects.filter(kind="certificate_reissued").count() == 1
    older = row(sequence=21, category="精神", grade="三级", issued="2015-01-01")
    stale = upload(county_staff, xlsx_bytes([older]))
    live = Certificate.objects.get(status="valid")
    assert report(stale) == [
        (
            2,
            "残疾人证号",
            f"与人员库不一致：{live.person.name}持有2024-01-01发放的残疾人证{live.number}，"
            "比本行的更新。",
        )
    ]


def test_no_copy_of_an_uploaded_file_stays_on_disk(county_staff, settings):
    from pathlib import Path

    upload(county_staff, xlsx_bytes(people(2)))
    upload(county_staff, xlsx_bytes([*people(1), None, *people(1, start=5)]))
    assert list(Path(settings.REGISTRY["IMPORT_DIR"]).iterdir()) == []

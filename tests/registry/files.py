"""Building upload files for the import tests."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import Workbook

from registry.identity import certificate_number_make, citizen_id_make
from registry.imports.columns import HEADERS


def row(
    *,
    name="张三",
    born=date(1970, 1, 2),
    sequence=11,
    village="330102101201",
    category="精神",
    grade="二级",
    issued="2022-05-01",
    **overrides,
) -> dict:
    citizen_id = overrides.pop(
        "citizen_id", citizen_id_make(area_code="330102", birth_date=born, sequence=sequence)
    )
    codes = {"视力": 1, "听力": 2, "言语": 3, "肢体": 4, "智力": 5, "精神": 6, "多重": 7}
    grades = {"一级": 1, "二级": 2, "三级": 3, "四级": 4}
    number = (
        certificate_number_make(
            citizen_id=citizen_id, category=codes[category], grade=grades[grade]
        )
        if category in codes and grade in grades
        else ""
    )
    values = {
        "姓名": name,
        "公民身份号码": citizen_id,
        "户籍地区划代码": village,
        "联系电话": "13800001111",
        "困难类别": "低保",
        "困难认定日期": "2020-01-01",
        "困难终止日期": "",
        "死亡日期": "",
        "户籍迁出日期": "",
        "残疾人证号": number,
        "残疾类别": category,
        "残疾等级": grade,
        "多重残疾包含类别": "",
        "发证日期": issued,
    }
    values.update(overrides)
    return values


def people(count: int, *, start: int = 0, village="330102101201") -> list[dict]:
    return [
        row(
            name=f"测试{i}",
            born=date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
            sequence=i % 999,
            village=village,
        )
        for i in range(start, start + count)
    ]


def xlsx_bytes(rows: list[dict], *, headers=None, before=None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for extra in before or []:
        sheet.append(extra)
    headers = headers or HEADERS
    sheet.append(headers)
    for values in rows:
        sheet.append(
            [values.get(h, "") if values is not None else None for h in headers] if values else []
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[dict], *, encoding="utf-8", headers=None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    headers = headers or HEADERS
    writer.writerow(headers)
    for values in rows:
        writer.writerow([values.get(h, "") for h in headers] if values else [])
    return buffer.getvalue().encode(encoding)

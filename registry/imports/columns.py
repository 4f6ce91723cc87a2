"""The import/export file layout: one row per person with their current certificate."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False


COLUMNS = [
    Column("name", "姓名", required=True),
    Column("citizen_id", "公民身份号码", required=True),
    Column("household_code", "户籍地区划代码", required=True),
    Column("phone", "联系电话"),
    Column("low_income_status", "困难类别"),
    Column("low_income_since", "困难认定日期"),
    Column("low_income_until", "困难终止日期"),
    Column("deceased_on", "死亡日期"),
    Column("moved_out_on", "户籍迁出日期"),
    Column("certificate_number", "残疾人证号"),
    Column("category", "残疾类别"),
    Column("grade", "残疾等级"),
    Column("included_categories", "多重残疾包含类别"),
    Column("issued_on", "发证日期"),
]
HEADERS = [c.header for c in COLUMNS]
BY_HEADER = {c.header: c for c in COLUMNS}
BY_KEY = {c.key: c for c in COLUMNS}
CERTIFICATE_KEYS = ("certificate_number", "category", "grade", "included_categories", "issued_on")

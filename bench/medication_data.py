"""Data for bench/medication.py: a county of recipients made in bulk, last year's paid list,
and the files the year reads (survey lists, reference files, the bank's return file)."""

from __future__ import annotations

from datetime import date, timedelta

COUNTY = "330102000000"


def make_county():
    """The demo county's 15 townships and ~200 villages, with staff: one officer per township."""
    from django.contrib.auth import get_user_model

    from registry.demo import demo_load
    from registry.models import OrgUnit
    from workflows.services.roles import role_grant

    demo_load(persons=0)
    users = {u.username: u for u in get_user_model().objects.all()}
    staff = {}
    for township in OrgUnit.objects.filter(
        parent__code=COUNTY, kind__in=["street", "town", "township"]
    ):
        user = get_user_model().objects.create_user(f"staff_{township.code}")
        role_grant(user=user, role="township_staff", org_unit=township.code)
        staff[township.code] = user
    return users, staff


PROBLEMS = [
    "deceased",
    "moved_out",
    "expired",
    "cancelled",
    "not_psychiatric",
    "low_income_lost",
    "publicly_funded",
    "no_card",
]


def make_persons(count: int, *, offset: int, villages: list, today: date) -> list:
    """Bulk-insert ``count`` persons with a 精神 certificate, 低保 and a card; one in fifty has
    one of the problems the comparison looks for. Returns their ids."""
    from registry.identity import certificate_number_make, citizen_id_make
    from registry.models import CardAccount, Certificate, Person
    from registry.services.certificates import valid_until_for

    persons, certificates, cards = [], [], []
    for index in range(offset, offset + count):
        born = date(1940, 1, 1) + timedelta(days=index % 25_000)
        citizen_id = citizen_id_make(area_code="330102", birth_date=born, sequence=index // 25_000)
        problem = PROBLEMS[(index // 50) % len(PROBLEMS)] if index % 50 == 7 else ""
        person = Person(
            citizen_id=citizen_id,
            name=f"受助人{index}",
            birth_date=born,
            sex="male" if index % 2 else "female",
            household_unit=villages[index % len(villages)],
            low_income_status="dibao",
            low_income_since=today - timedelta(days=800),
            low_income_until=today - timedelta(days=30) if problem == "low_income_lost" else None,
            publicly_funded=problem == "publicly_funded",
            life_status="deceased" if problem == "deceased" else "alive",
            deceased_on=today - timedelta(days=60) if problem == "deceased" else None,
            moved_out_on=today - timedelta(days=90) if problem == "moved_out" else None,
        )
        persons.append(person)
        issued = today - timedelta(days=4000 if problem == "expired" else 700)
        category = 4 if problem == "not_psychiatric" else 6
        certificates.append(
            Certificate(
                number=certificate_number_make(citizen_id=citizen_id, category=category, grade=2),
                person=person,
                category=category,
                grade=2,
                issued_on=issued,
                valid_until=valid_until_for(issued),
                status={"expired": "expired", "cancelled": "cancelled"}.get(problem, "valid"),
            )
        )
        card_status = "closed" if problem == "no_card" else "active"
        cards.append(
            CardAccount(
                person=person, kind="bank_card", number=f"622848{index:013d}", status=card_status
            )
        )
    Person.objects.bulk_create(persons, batch_size=5000)
    for row in certificates:
        row.person_id = row.person.pk
    for row in cards:
        row.person_id = row.person.pk
    Certificate.objects.bulk_create(certificates, batch_size=5000)
    CardAccount.objects.bulk_create(cards, batch_size=5000)
    return persons


def last_year(persons, today: date) -> None:
    from decimal import Decimal

    from processes.medication.models import MedicationCycle, MedicationEntry
    from registry.models import OrgUnit

    cycle = MedicationCycle.objects.create(
        year=today.year - 1,
        county=OrgUnit.objects.get(code=COUNTY),
        amount=Decimal("1000"),
        state="closed",
    )
    MedicationEntry.objects.bulk_create(
        (
            MedicationEntry(
                cycle=cycle,
                person=p,
                township_id=p.household_unit.parent_id,
                source="continuing",
                amount=Decimal("1000"),
                state="paid",
            )
            for p in persons
        ),
        batch_size=5000,
    )


def xlsx_upload(name: str, rows: list[list]):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from processes.medication.files import xlsx_bytes

    return SimpleUploadedFile(name, xlsx_bytes([("Sheet1", rows)]))


def return_file(batch, failing_every: int = 0):
    """The bank's answer to a batch: every line paid, except every n-th one."""
    rows = [["姓名", "公民身份号码", "银行卡号", "金额", "摘要", "结果", "失败原因"]]
    lines = batch.lines.order_by("pk").values_list(
        "name", "citizen_id", "card_number", "amount", "memo"
    )
    for index, (name, citizen_id, card, amount, memo) in enumerate(lines):
        failed = failing_every and index % failing_every == 0
        result = ["失败", "账户已销户"] if failed else ["成功", ""]
        rows.append([name, citizen_id, card, f"{amount:.2f}", memo, *result])
    return xlsx_upload("回盘.xlsx", rows)


def reference_files(persons) -> dict:
    low = [["姓名", "公民身份号码", "困难类别", "终止日期"]]
    for p in persons:
        until = p.low_income_until.isoformat() if p.low_income_until else ""
        low.append([p.name, p.citizen_id, "低保", until])
    deaths = [["姓名", "公民身份号码", "死亡日期"]]
    deaths += [[p.name, p.citizen_id, "2025-01-01"] for p in persons[3::500]]
    moves = [["姓名", "公民身份号码", "迁出日期"]]
    moves += [[p.name, p.citizen_id, "2025-02-01"] for p in persons[5::700]]
    return {"low_income": low, "deaths": deaths, "moves": moves}

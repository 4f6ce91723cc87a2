"""Fixtures for the medication subsidy: the procedure deployed, a small county of recipients with
every flag kind, last year's paid list, staff of every role, and helpers to run the year."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from processes.medication.models import (
    CycleState,
    EntrySource,
    EntryState,
    MedicationCycle,
    MedicationEntry,
)
from registry.identity import certificate_number_make, citizen_id_make
from registry.models import (
    CardAccount,
    CardStatus,
    Certificate,
    CertificateStatus,
    LifeStatus,
    LowIncomeStatus,
    OrgUnit,
    Person,
)
from registry.services.certificates import valid_until_for
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B
from tests.registry.factories import VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
from workflows.models import HumanTask, HumanTaskState
from workflows.services.definitions import definition_deploy
from workflows.services.jobs import job_run, jobs_sweep
from workflows.services.tasks import task_complete

PACK = django_settings.BASE_DIR / "processes"
TZ = timezone.get_current_timezone()
JANUARY_2 = datetime(2025, 1, 2, 9, 0, tzinfo=TZ)
KEY = "medication_subsidy_cycle"


@pytest.fixture(autouse=True)
def medication_pack(settings, db, tmp_path):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "FORM_DIRS": [PACK / "forms"]}
    settings.MEDIA_ROOT = tmp_path / "media"
    content = (PACK / "bpmn" / f"{KEY}.bpmn").read_bytes()
    return definition_deploy(content=content, user=None).definition


@pytest.fixture
def clock():
    with time_machine.travel(JANUARY_2, tick=False) as traveller:
        yield traveller


@pytest.fixture
def auditor(make_user):
    return make_user("auditor_zheng", ("auditor", ""))


_sequence = iter(range(1, 10_000))


def person(
    village_code: str,
    name: str = "王芳",
    *,
    category: int = 6,
    included: str = "",
    certificate: str = CertificateStatus.VALID,
    issued_years_ago: int = 3,
    low_income: str = LowIncomeStatus.DIBAO,
    low_income_until: date | None = None,
    card: str | None = CardStatus.ACTIVE,
    **fields,
) -> Person:
    """A registered person with a certificate and a card (by default: eligible)."""
    today = timezone.localdate()
    village = OrgUnit.objects.get(code=village_code)
    sequence = next(_sequence)
    born = date(1950, 1, 1) + timedelta(days=sequence * 37 % 20000)
    citizen_id = citizen_id_make(area_code="330102", birth_date=born, sequence=sequence % 1000)
    registered = Person.objects.create(
        citizen_id=citizen_id,
        name=name,
        birth_date=born,
        sex="male" if sequence % 2 else "female",
        household_unit=village,
        low_income_status=low_income,
        low_income_since=today - timedelta(days=900) if low_income != "none" else None,
        low_income_until=low_income_until,
        **fields,
    )
    if certificate:
        issued = today.replace(year=today.year - issued_years_ago)
        Certificate.objects.create(
            number=certificate_number_make(citizen_id=citizen_id, category=category, grade=2),
            person=registered,
            category=category,
            included_categories=included,
            grade=2,
            issued_on=issued,
            valid_until=valid_until_for(issued),
            status=certificate,
        )
    if card:
        CardAccount.objects.create(
            person=registered,
            kind="bank_card",
            bank_name="农商银行清溪支行",
            number=f"62284800{sequence:011d}",
            status=card,
        )
    return registered


def flagged_people() -> dict[str, Person]:
    """One person per flag kind the comparison knows (duplicate IDs arise in the survey)."""
    a1, a2, b1 = VILLAGE_A1, VILLAGE_A2, VILLAGE_B1
    ago = timezone.localdate() - timedelta(days=40)
    return {
        "deceased": person(a1, "李死亡", life_status=LifeStatus.DECEASED, deceased_on=ago),
        "moved_out": person(a2, "张迁出", moved_out_on=ago),
        "certificate_expired": person(
            b1, "陈过期", certificate=CertificateStatus.EXPIRED, issued_years_ago=11
        ),
        "certificate_cancelled": person(a1, "赵注销", certificate=CertificateStatus.CANCELLED),
        "not_psychiatric": person(b1, "孙肢体", category=4),
        "low_income_lost": person(a2, "周脱保", low_income_until=ago),
        "excluded_scheme": person(b1, "吴财供", publicly_funded=True),
        "no_card": person(a1, "郑无卡", card=CardStatus.CLOSED),
    }


def last_year_paid(persons, year: int = 2024) -> MedicationCycle:
    """A closed previous cycle in which ``persons`` were paid (they continue this year)."""
    cycle = MedicationCycle.objects.create(
        year=year,
        county=OrgUnit.objects.get(code=COUNTY),
        amount=Decimal("1000.00"),
        state=CycleState.CLOSED,
    )
    MedicationEntry.objects.bulk_create(
        MedicationEntry(
            cycle=cycle,
            person=p,
            township=p.household_unit.parent,
            source=EntrySource.CONTINUING,
            amount=Decimal("1000.00"),
            state=EntryState.PAID,
        )
        for p in persons
    )
    return cycle


@pytest.fixture
def county_people(clock, org_units):
    """Eight eligible recipients across both townships, plus one of every flag kind."""
    return small_county()


def small_county() -> dict:
    specs = [
        (VILLAGE_A1, "王秀英", {}),
        (VILLAGE_A1, "刘建国", {}),
        (VILLAGE_A2, "杨桂兰", {}),
        (VILLAGE_A2, "黄志强", {}),
        (VILLAGE_B1, "何玉梅", {}),
        (VILLAGE_B1, "高德明", {}),
        (VILLAGE_B1, "林春燕", {"category": 7, "included": "46"}),  # 多重 including 精神
        (VILLAGE_A1, "罗特困", {"low_income": LowIncomeStatus.TEKUN}),
    ]
    eligible = [person(code, name, **extra) for code, name, extra in specs]
    return {"eligible": eligible, "flagged": flagged_people()}


def run_jobs() -> int:
    """Run due jobs until none is left (a job may lead to the next); returns how many ran."""
    ran = 0
    while due := jobs_sweep():
        for job_id in due:
            job_run(job_id=job_id)
            ran += 1
    return ran


def open_tasks(instance, element: str):
    return HumanTask.objects.filter(
        instance=instance, element_id=element, state=HumanTaskState.OPEN
    )


def complete(instance, element: str, user, scope: str | None = None, **data):
    tasks = open_tasks(instance, element)
    if scope is not None:
        tasks = tasks.filter(scope=scope)
    task = tasks.get()
    return task_complete(task_id=task.pk, user=user, data=data)


def upload(name: str, rows: list[list], *, kind: str = "csv") -> SimpleUploadedFile:
    """An uploaded .csv or .xlsx with these rows (the first is the header)."""
    if kind == "csv":
        text = "\n".join(",".join("" if v is None else str(v) for v in row) for row in rows)
        return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


__all__ = ["COUNTY", "TOWNSHIP_A", "TOWNSHIP_B"]


class Year:
    """Drives the small county's cycle to a stage, so each test starts where it needs to."""

    def __init__(self, people, clerk, township_a, township_b, finance):
        self.people, self.clerk, self.finance = people, clerk, finance
        self.staff = {TOWNSHIP_A: township_a, TOWNSHIP_B: township_b}
        everyone = people["eligible"] + list(people["flagged"].values())
        last_year_paid(everyone, year=timezone.localdate().year - 1)
        self.instance = None
        self.cycle = None

    def refresh(self):
        self.cycle.refresh_from_db()
        self.instance.refresh_from_db()
        return self

    def start(self, **variables):
        from workflows.services.instances import instance_start

        if self.instance is not None:
            return self
        self.instance = instance_start(process_key=KEY, user=self.clerk, variables=variables)
        self.cycle = MedicationCycle.objects.get(instance=self.instance)
        return self

    def compared(self):
        self.start()
        for code, user in self.staff.items():
            complete(self.instance, "survey", user, scope=code)
        complete(self.instance, "reference_data", self.clerk)
        run_jobs()
        return self.refresh()

    def reviewed(self):
        from processes.medication.services.review import entries_bulk_approve, entry_decide

        self.compared()
        for code, user in self.staff.items():
            entries_bulk_approve(user=user, cycle_id=self.cycle.pk, township_code=code)
            for entry in self.cycle.entries.filter(township__code=code, state=EntryState.COMPARED):
                entry_decide(user=user, entry_id=entry.pk, decision="reject", reason="不符合")
            complete(self.instance, "township_review", user, scope=code)
        return self.refresh()

    def county_approved(self):
        self.reviewed()
        complete(self.instance, "county_approval", self.clerk, decision="approve")
        return self.refresh()

    def paying(self):
        self.county_approved()
        total = str(self.cycle.county_approved_total)
        complete(
            self.instance,
            "finance_approval",
            self.finance,
            decision="approve",
            confirmed_total=total,
        )
        run_jobs()
        return self.refresh()


@pytest.fixture
def year(county_people, county_clerk, township_a, township_b, finance_clerk, clock):
    return Year(county_people, county_clerk, township_a, township_b, finance_clerk)

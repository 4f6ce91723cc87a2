"""Fixtures for assistive-device fitting: both diagrams deployed with their forms and decision
tables, the demo catalogue, agreements, an adult and a child with certificates, staff of every
role (two assessment institutions, two service institutions), and helpers to work the steps."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from processes.devices.demo import agreements_load, catalogue_load
from processes.devices.models import DeviceApplication
from processes.devices.services.applications import application_register
from registry.models import OrgUnitKind
from registry.services.certificates import certificate_issue
from registry.services.org_units import org_unit_create
from tests.conftest import COUNTY, TOWNSHIP_A
from tests.registry.factories import (
    ASSESSMENT,
    PROVIDER_X,
    PROVIDER_Y,
    VILLAGE_A1,
    make_person,
)
from workflows.models import HumanTask, HumanTaskState
from workflows.services.definitions import definition_deploy
from workflows.services.jobs import job_run, jobs_sweep
from workflows.services.tasks import task_claim, task_complete
from workflows.services.timers import timers_fire_due

PACK = django_settings.BASE_DIR / "processes"
TZ = timezone.get_current_timezone()
MARCH_3 = datetime(2025, 3, 3, 9, 30, tzinfo=TZ)
KEY = "assistive_device_fitting"
ASSESSMENT_B = "12330102MB0A00004N"
PROVIDER_EXPIRED = "12330102MB0A00005R"


@pytest.fixture
def clock():
    with time_machine.travel(MARCH_3, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def device_pack(settings, db, tmp_path, clock):
    """Deployed on 3 March 2025: the settlement's monthly timer start is next due on 1 April."""
    settings.WORKFLOWS = {
        **settings.WORKFLOWS,
        "FORM_DIRS": [PACK / "forms"],
        "DMN_DIRS": [PACK / "dmn"],
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    for name in (KEY, "assistive_device_settlement"):
        definition_deploy(content=(PACK / "bpmn" / f"{name}.bpmn").read_bytes(), user=None)


@pytest.fixture
def places(org_units):
    """The test county, a second assessment institution and a third service institution."""
    units = dict(org_units)
    for code, name, kind in (
        (ASSESSMENT_B, "县第一人民医院评定门诊", OrgUnitKind.ASSESSMENT),
        (PROVIDER_EXPIRED, "溪口康复服务站", OrgUnitKind.SERVICE),
    ):
        units[code] = org_unit_create(code=code, name=name, kind=kind, parent_code=COUNTY)
    return units


@pytest.fixture
def catalogue(places, clock):
    catalogue_load()
    # X: mobility, personal care, communication, household; Y: orthoses and mobility;
    # the third's agreement expired at the end of last year.
    agreements_load([places[PROVIDER_X], places[PROVIDER_Y], places[PROVIDER_EXPIRED]])


@pytest.fixture
def staff(make_user, places):
    return {
        "village": make_user("village_a1", ("village_officer", VILLAGE_A1)),
        "township": make_user("township_a", ("township_staff", TOWNSHIP_A)),
        "county": make_user("county_clerk", ("county_staff", COUNTY)),
        "assessor": make_user("assessor_a", ("assessor", ASSESSMENT)),
        "assessor_b": make_user("assessor_b", ("assessor", ASSESSMENT_B)),
        "provider": make_user("provider_x", ("provider", PROVIDER_X)),
        "provider_y": make_user("provider_y", ("provider", PROVIDER_Y)),
        "finance": make_user("finance_clerk", ("finance", COUNTY)),
    }


def _person_with_certificate(village, *, name, born, sequence, category=4, issued=None):
    person = make_person(village, name=name, born=born, sequence=sequence)
    certificate_issue(
        user=None,
        person=person,
        category=category,
        grade=2,
        issued_on=issued or date(2020, 6, 1),
    )
    return person


@pytest.fixture
def adult(places):
    return _person_with_certificate(
        places[VILLAGE_A1], name="王建国", born=date(1962, 4, 12), sequence=11
    )


@pytest.fixture
def child(places):
    return _person_with_certificate(
        places[VILLAGE_A1],
        name="李小雨",
        born=date(2016, 9, 1),
        sequence=22,
        issued=date(2022, 3, 1),
    )


def register(user, person, **overrides) -> DeviceApplication:
    fields = {
        "citizen_id": person.citizen_id,
        "reason": "下肢功能障碍，行走困难，需要代步。",
        "requested_devices": ["FZ-YD-01"],
        "needs_assessment": False,
        "contact_phone": "13805710001",
        **overrides,
    }
    return application_register(user=user, **fields)


def open_task(application: DeviceApplication, element: str) -> HumanTask:
    return HumanTask.objects.get(
        instance=application.instance, element_id=element, state=HumanTaskState.OPEN
    )


def complete(application: DeviceApplication, element: str, user, **data) -> DeviceApplication:
    task = open_task(application, element)
    task_claim(task_id=task.pk, user=user)
    task_complete(task_id=task.pk, user=user, data=data)
    application.refresh_from_db()
    return application


def run_jobs() -> int:
    return sum(job_run(job_id=job_id) == "done" for job_id in jobs_sweep())


PLAN_WHEELCHAIR = [{"device_code": "FZ-YD-01", "quantity": 1, "unit_price": 1580}]


def through_checks(application, staff) -> DeviceApplication:
    complete(application, "initial_check", staff["village"], decision="approve", opinion="属实")
    complete(application, "second_check", staff["township"], decision="approve", opinion="同意")
    return application


def through_approval(application, staff, plan=None, *, institution=ASSESSMENT):
    through_checks(application, staff)
    complete(application, "assign_assessment", staff["county"], assessment_institution=institution)
    complete(
        application,
        "record_assessment",
        staff["assessor"] if institution == ASSESSMENT else staff["assessor_b"],
        assessment="双下肢肌力三级，室内外移动需轮椅。",
        plan=plan or PLAN_WHEELCHAIR,
    )
    complete(application, "approve_plan", staff["county"], decision="approve", opinion="同意")
    return application


def fit_and_accept(application, staff, *, provider=PROVIDER_X, when=None) -> DeviceApplication:
    complete(application, "choose_provider", staff["county"], service_institution=provider)
    fitter = staff["provider"] if provider == PROVIDER_X else staff["provider_y"]
    day = (when or timezone.localdate()).isoformat()
    complete(
        application,
        "record_fitting",
        fitter,
        delivered_on=day,
        fitting_notes="座宽42cm，调整脚踏高度。",
        training_notes="上下床转移、坡道推行训练。",
        serial_numbers="LY2025-0001",
    )
    complete(
        application,
        "confirm_acceptance",
        staff["village"],
        acceptance="accepted",
        confirmed_by="person",
    )
    return application


def fire_timers(clock, moment) -> int:
    clock.move_to(moment)
    return timers_fire_due()

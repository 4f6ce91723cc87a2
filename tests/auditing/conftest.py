"""The auditing tests' case: a petition registered in the portal and decided through the API
20 days later (past its 15-day acceptance limit)."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from processes.petitions.services import petition_register
from workflows.audit_origin import audit_origin
from workflows.models import HumanTask
from workflows.services.definitions import definition_deploy
from workflows.services.tasks import task_complete

TZ = timezone.get_current_timezone()
MONDAY = datetime(2025, 3, 3, 9, 30, tzinfo=TZ)
PACK = django_settings.BASE_DIR / "processes"


@pytest.fixture(autouse=True)
def petition_pack(settings, owner):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "FORM_DIRS": [PACK / "forms"]}
    content = (PACK / "bpmn" / "petition_first_receiver.bpmn").read_bytes()
    definition_deploy(content=content, user=owner)


@pytest.fixture
def petition(township_a):
    with time_machine.travel(MONDAY, tick=False) as clock:
        with audit_origin("portal", "10.1.2.3"):
            petition = petition_register(
                user=township_a,
                channel="visit",
                petitioner_name="赵大勇",
                petitioner_id_number="11010519491231002X",
                subject="辅具补贴未发放",
                content="去年申请的轮椅补贴至今未到账。",
            )
        clock.move_to(MONDAY + timedelta(days=20))
        task = HumanTask.objects.get(instance=petition.instance, element_id="decide_acceptance")
        with audit_origin("api", "10.9.9.9"):
            task_complete(task_id=task.pk, user=township_a, data={"decision": "accepted"})
    petition.refresh_from_db()
    return petition

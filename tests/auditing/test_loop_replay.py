"""A case returned for correction again and again: at each moment of its history the replay
shows the check active, then the correction, then the check again; re-execution reproduces it."""

import pytest
from django.conf import settings as django_settings

from tests.conftest import COUNTY, TOWNSHIP_A
from workflows.models import HumanTask
from workflows.selectors.case_replay import case_history, case_verify
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.tasks import task_claim, task_complete

pytestmark = pytest.mark.django_db
LOOP = django_settings.BASE_DIR / "bench" / "fixtures" / "correction_loop.bpmn"


def test_each_round_of_a_correction_loop_replays_as_it_happened(owner, make_user):
    definition_deploy(content=LOOP.read_bytes(), user=owner)
    county = make_user("checker", ("county_staff", COUNTY))
    township = make_user("corrector", ("township_staff", TOWNSHIP_A))
    instance = instance_start(
        process_key="correction_loop", user=township, org_unit=TOWNSHIP_A, variables={}
    )
    for round_number in range(3):
        last = round_number == 2
        check = HumanTask.objects.get(instance=instance, element_id="county_check", state="open")
        task_claim(task_id=check.pk, user=county)
        task_complete(task_id=check.pk, user=county, data={"approved": last})
        if not last:
            fix = HumanTask.objects.get(
                instance=instance, element_id="township_correct", state="open"
            )
            task_complete(task_id=fix.pk, user=township, data={"supplied": f"材料{round_number}"})

    history = case_history(instance=instance)
    completions = [f for f in history.frames if f.kind == "task_completed"]
    active = [sorted(e for e, s in f.states.items() if s == "active") for f in completions]
    assert active == [
        ["township_correct"],
        ["county_check"],
        ["township_correct"],
        ["county_check"],
        [],
    ]
    assert completions[-1].states["approved"] == "completed"
    assert [f.data.get("supplied") for f in completions] == [
        None,
        "材料0",
        "材料0",
        "材料1",
        "材料1",
    ]
    verification = case_verify(history)
    assert verification.intact and verification.reproduces

"""Starting a year's cycle: by county staff (portal, API) or the 2 January timer; one per year."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from processes.medication.models import (
    CycleState,
    EntrySource,
    MedicationCycle,
    TownshipList,
)
from processes.medication.services.cycles import cycle_rules_change
from workflows.exceptions import InvalidInput, NotAllowed
from workflows.models import AuditEvent, InstanceState, ProcessInstance, Timer, TimerState
from workflows.services.instances import instance_start
from workflows.services.timers import timers_fire_due

from .conftest import KEY, TOWNSHIP_A, TOWNSHIP_B, last_year_paid, open_tasks

pytestmark = pytest.mark.django_db


def test_county_staff_start_the_year_with_last_years_recipients_and_a_survey_per_township(
    clock, county_people, county_clerk
):
    last_year_paid(county_people["eligible"])
    instance = instance_start(process_key=KEY, user=county_clerk, variables={"amount": 1200})
    cycle = MedicationCycle.objects.get(year=2025)
    assert (cycle.state, cycle.amount, cycle.instance) == (CycleState.SURVEYING, 1200, instance)
    assert cycle.rules == {
        "include_multiple": True,
        "low_income_statuses": ["dibao", "tekun"],
        "excluded_schemes": ["publicly_funded"],
    }
    assert cycle.entries.filter(source=EntrySource.CONTINUING).count() == 8
    assert set(TownshipList.objects.values_list("township__code", flat=True)) == {
        TOWNSHIP_A,
        TOWNSHIP_B,
    }
    surveys = open_tasks(instance, "survey")
    assert sorted(surveys.values_list("scope", flat=True)) == [TOWNSHIP_A, TOWNSHIP_B]
    assert {t.due_at.date().isoformat() for t in surveys} == {"2025-03-15"}
    assert open_tasks(instance, "reference_data").get().candidate_roles == ["county_staff"]
    # The workflow state holds the cycle and the townships, never the persons.
    assert set(instance.variables) >= {"cycle_id", "townships", "comparison_due"}
    assert "entries" not in instance.serialized_state


def test_a_second_cycle_for_the_same_year_is_refused_by_the_api_with_a_400(
    clock, county_people, county_clerk, api
):
    first = api(county_clerk).post(
        "/api/process-instances/", {"process_key": KEY, "variables": {}}, format="json"
    )
    assert first.status_code == 201
    second = api(county_clerk).post(
        "/api/process-instances/", {"process_key": KEY, "variables": {"year": 2025}}, format="json"
    )
    assert second.status_code == 400
    assert "2025年度的药费补助周期已经存在" in second.json()["detail"]
    assert second.json()["errors"][0]["field"] == "year"
    assert ProcessInstance.objects.count() == 1 and MedicationCycle.objects.count() == 1


def test_the_portal_start_form_refuses_a_second_cycle_in_chinese(
    clock, county_people, county_clerk
):
    client = Client()
    client.force_login(county_clerk)
    response = client.post(f"/start/{KEY}/", {"data": "{}", "org_unit": "330102000000"})
    assert response.status_code == 302
    again = client.post(f"/start/{KEY}/", {"data": '{"year": 2025}', "org_unit": "330102000000"})
    assert again.status_code == 400
    assert "2025年度的药费补助周期已经存在" in again.content.decode()
    assert MedicationCycle.objects.count() == 1


def test_only_county_staff_may_start_the_cycle(clock, county_people, township_a, finance_clerk):
    for user in (township_a, finance_clerk):
        with pytest.raises(NotAllowed):
            instance_start(process_key=KEY, user=user, org_unit="330102000000", variables={})
    assert not MedicationCycle.objects.exists()


def test_the_2_january_timer_opens_the_year_and_a_duplicate_timer_start_ends_without_incident(
    clock, county_people, medication_pack
):
    [plan] = Timer.objects.filter(definition=medication_pack, state=TimerState.WAITING)
    local = timezone.localtime(plan.fire_at)
    assert (local.month, local.day, local.hour) == (1, 2, 8)
    clock.move_to(plan.fire_at + timedelta(seconds=20))
    assert timers_fire_due() == 1
    cycle = MedicationCycle.objects.get()
    assert cycle.year == local.year and cycle.opened_by is None
    assert cycle.instance.state == InstanceState.RUNNING

    # Someone re-plans the timer to fire again the same year: the second start is refused
    # inside the procedure, with the reason recorded, and no incident.
    Timer.objects.filter(definition=medication_pack, state=TimerState.WAITING).update(
        fire_at=plan.fire_at + timedelta(hours=1)
    )
    clock.move_to(plan.fire_at + timedelta(hours=1, seconds=20))
    assert timers_fire_due() == 1
    duplicate = ProcessInstance.objects.exclude(pk=cycle.instance_id).get()
    assert duplicate.state == InstanceState.COMPLETED
    assert "周期已经存在" in duplicate.variables["refusal"]
    assert MedicationCycle.objects.count() == 1
    assert not ProcessInstance.objects.filter(state=InstanceState.INCIDENT).exists()
    event = AuditEvent.objects.get(
        stream=f"medication:{cycle.pk}", element_id="duplicate_start_refused"
    )
    assert event.payload["instance"] == duplicate.pk


def test_the_process_owner_changes_a_cycles_rules_only_before_the_comparison(
    year, owner, county_clerk
):
    year.start()
    with pytest.raises(NotAllowed):
        cycle_rules_change(user=county_clerk, cycle_id=year.cycle.pk, amount="900", rules={})
    with pytest.raises(InvalidInput) as refused:
        cycle_rules_change(
            user=owner, cycle_id=year.cycle.pk, amount="900", rules={"low_income_statuses": []}
        )
    assert "low_income_statuses" in refused.value.fields
    cycle = cycle_rules_change(
        user=owner,
        cycle_id=year.cycle.pk,
        amount="900",
        rules={"excluded_schemes": ["tekun", "publicly_funded"], "include_multiple": False},
    )
    assert cycle.amount == 900 and cycle.rules["excluded_schemes"] == ["tekun", "publicly_funded"]
    assert set(cycle.entries.values_list("amount", flat=True)) == {900}
    year.compared()  # the comparison applies this cycle's rules: 特困 and 多重 now flagged
    flags = dict(
        year.cycle.entries.filter(person__name__in=["罗特困", "林春燕"]).values_list(
            "person__name", "flags__kind"
        )
    )
    assert flags == {"罗特困": "excluded_scheme", "林春燕": "not_psychiatric"}

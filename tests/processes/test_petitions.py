"""Petitions under the first-receiver rule, worked through the services with time moved."""

import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from processes.petitions.models import Petition, PetitionState
from processes.petitions.selectors import can_read_petition, overdue_petitions, petitions_for_user
from processes.petitions.services import (
    petition_register,
    petition_request_re_review,
    petition_request_review,
)
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B
from workflows.exceptions import Conflict, InvalidInput
from workflows.models import AuditEvent, HumanTask, InstanceState, Notification
from workflows.services.deadlines import deadlines_sweep
from workflows.services.definitions import definition_deploy
from workflows.services.tasks import task_claim, task_complete
from workflows.services.timers import timers_fire_due

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("every_case_replays", "a_new_process_each_step"),
]
TZ = timezone.get_current_timezone()
MONDAY = datetime(2025, 3, 3, 9, 30, tzinfo=TZ)
PACK = django_settings.BASE_DIR / "processes"


@pytest.fixture(autouse=True)
def petition_pack(settings, owner):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "FORM_DIRS": [PACK / "forms"]}
    content = (PACK / "bpmn" / "petition_first_receiver.bpmn").read_bytes()
    definition_deploy(content=content, user=owner)


@pytest.fixture
def office(make_user):
    return make_user("xinfang", ("petition_office", COUNTY))


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def register(user, **overrides):
    fields = {
        "channel": "visit",
        "petitioner_name": "赵大勇",
        "petitioner_id_number": "11010519491231002X",
        "subject": "辅具补贴未发放",
        "content": "去年申请的轮椅补贴至今未到账。",
        "notice": "请补充提供购买发票复印件。",
        **overrides,
    }
    return petition_register(user=user, **fields)


def open_task(petition, element):
    return HumanTask.objects.get(instance=petition.instance, element_id=element, state="open")


def complete(petition, element, user, **data):
    task = open_task(petition, element)
    task_complete(task_id=task.pk, user=user, data=data)
    petition.refresh_from_db()
    return petition


def test_registration_makes_the_starter_first_receiver_with_a_15_day_limit(clock, township_a):
    petition = register(township_a)
    assert petition.first_receiver == township_a
    assert petition.number == "XF2025-00001"
    assert petition.notice_given_at == MONDAY
    task = open_task(petition, "decide_acceptance")
    assert task.assignee == township_a
    assert timezone.localtime(task.due_at).date().isoformat() == "2025-03-18"
    assert petition.instance.scope == TOWNSHIP_A


def test_day_14_reminded_not_escalated_day_16_escalated_to_the_petition_office(
    clock, township_a, office
):
    petition = register(township_a)
    clock.move_to(MONDAY + timedelta(days=14))
    assert deadlines_sweep() == (1, 0)
    timers_fire_due()
    assert not HumanTask.objects.filter(element_id="supervise_acceptance").exists()
    assert Notification.objects.filter(reason="reminder", recipient=township_a).exists()

    clock.move_to(MONDAY + timedelta(days=16))
    timers_fire_due()
    assert deadlines_sweep() == (0, 1)
    supervise = open_task(petition, "supervise_acceptance")
    assert supervise.candidate_roles == ["petition_office"]
    assert open_task(petition, "decide_acceptance").escalated_at is not None
    assert list(overdue_petitions()) == [petition]
    escalations = Notification.objects.filter(reason="escalation")
    assert set(escalations.values_list("recipient__username", flat=True)) == {
        "township_a",
        "xinfang",
    }
    complete(petition, "supervise_acceptance", office, instruction="请三日内作出受理决定")
    complete(petition, "decide_acceptance", township_a, decision="accepted")
    assert petition.state == PetitionState.ACCEPTED


def test_transfer_to_two_units_while_the_first_receiver_keeps_the_reply(
    clock, township_a, township_b, county_clerk
):
    petition = register(township_a)
    complete(petition, "decide_acceptance", township_a, decision="accepted")
    assert timezone.localtime(petition.reply_due).date().isoformat() == "2025-05-02"
    complete(
        petition,
        "follow_up",
        township_a,
        action="assign_units",
        units=[TOWNSHIP_B, COUNTY],
        instruction="请核实补贴发放情况",
    )
    reports = HumanTask.objects.filter(element_id="unit_report", state="open")
    assert sorted(reports.values_list("scope", flat=True)) == [COUNTY, TOWNSHIP_B]
    assert can_read_petition(township_b, petition)  # while holding a task on it
    for task in reports:
        user = township_b if task.scope == TOWNSHIP_B else county_clerk
        task_claim(task_id=task.pk, user=user)
        task_complete(task_id=task.pk, user=user, data={"report": f"{user.username} 已核实"})
    assert not can_read_petition(township_b, petition)  # the task is done: no more access
    follow_up = open_task(petition, "follow_up")
    assert follow_up.assignee == township_a  # the reply stays with the first receiver
    assert sorted(petition.assignments.values_list("unit", "report")) == [
        (COUNTY, "county_clerk 已核实"),
        (TOWNSHIP_B, "township_b 已核实"),
    ]
    complete(petition, "follow_up", township_a, action="ready_to_reply")
    complete(
        petition,
        "record_reply",
        township_a,
        reply_text="补贴已于3月发放",
        delivered_on="2025-03-20",
    )
    assert petition.state == PetitionState.REPLIED


def test_an_approved_extension_moves_the_reply_limit_once(clock, township_a, office):
    petition = register(township_a)
    complete(petition, "decide_acceptance", township_a, decision="accepted")
    before = petition.reply_due
    complete(
        petition,
        "follow_up",
        township_a,
        action="request_extension",
        extension_days=30,
        reason="需省级部门出具意见",
    )
    complete(petition, "approve_extension", office, decision="approved")
    assert petition.reply_due == before + timedelta(days=30)
    assert petition.extension_approved_by == office
    task = open_task(petition, "follow_up")
    assert task.due_at == petition.reply_due  # the new limit drives the task and its timer
    with pytest.raises(Conflict, match="已延期过一次"):
        complete(
            petition,
            "follow_up",
            township_a,
            action="request_extension",
            extension_days=10,
            reason="再延",
        )


def test_a_refused_extension_keeps_the_limit_and_a_too_long_one_is_refused(
    clock, township_a, office
):
    petition = register(township_a)
    complete(petition, "decide_acceptance", township_a, decision="accepted")
    before = petition.reply_due
    with pytest.raises(InvalidInput, match="extension_days"):
        complete(
            petition,
            "follow_up",
            township_a,
            action="request_extension",
            extension_days=45,
            reason="太复杂",
        )
    complete(
        petition,
        "follow_up",
        township_a,
        action="request_extension",
        extension_days=20,
        reason="等待鉴定",
    )
    complete(petition, "approve_extension", office, decision="refused", comment="证据已足够")
    assert petition.reply_due == before and petition.extension_days == 0
    assert open_task(petition, "follow_up").due_at == before


def test_reply_overdue_is_supervised_by_the_petition_office(clock, township_a, office):
    petition = register(township_a)
    complete(petition, "decide_acceptance", township_a, decision="accepted")
    clock.move_to(petition.reply_due + timedelta(minutes=1))
    timers_fire_due()
    supervise = open_task(petition, "supervise_reply")
    assert supervise.candidate_roles == ["petition_office"]
    assert open_task(petition, "follow_up")  # handling goes on


def test_review_and_re_review_then_a_repeat_petition_is_warned_and_linked(
    clock, township_a, office
):
    petition = register(township_a)
    complete(petition, "decide_acceptance", township_a, decision="accepted")
    complete(petition, "follow_up", township_a, action="ready_to_reply")
    complete(petition, "record_reply", township_a, reply_text="不予补贴", delivered_on="2025-03-10")
    clock.move_to(MONDAY + timedelta(days=20))
    petition_request_review(petition=petition, user=township_a)
    petition.refresh_from_db()
    assert petition.state == PetitionState.UNDER_REVIEW
    complete(petition, "answer_review", office, answer="维持原答复", delivered_on="2025-03-25")
    assert petition.state == PetitionState.REVIEWED
    petition_request_re_review(petition=petition, user=township_a)
    complete(petition, "answer_re_review", office, answer="复核维持", delivered_on="2025-04-10")
    assert petition.state == PetitionState.CLOSED and petition.final
    petition.instance.refresh_from_db()
    assert petition.instance.state == InstanceState.COMPLETED

    repeat = register(township_a)
    assert repeat.repeat_of == petition  # warned and linked: the matter was closed for good
    variables = repeat.instance.variables
    assert variables["repeat_of"] == petition.number
    assert "依法不再受理" in variables["warning"]


def test_without_a_review_request_the_window_lapses_and_the_case_closes(clock, township_a):
    petition = register(township_a)
    complete(petition, "decide_acceptance", township_a, decision="accepted")
    complete(petition, "follow_up", township_a, action="ready_to_reply")
    complete(petition, "record_reply", township_a, reply_text="已解决", delivered_on="2025-03-05")
    clock.move_to(datetime(2025, 4, 5, 9, 0, tzinfo=TZ))
    timers_fire_due()
    complete(petition, "close_petition", township_a, satisfaction="satisfied")
    assert petition.state == PetitionState.CLOSED and petition.satisfaction == "satisfied"


def test_not_in_remit_tells_the_petitioner_within_5_working_days(clock, township_a):
    petition = register(township_a)
    complete(
        petition, "decide_acceptance", township_a, decision="not_in_remit", remit_body="县人社局"
    )
    task = open_task(petition, "tell_petitioner")
    # Mon 3 March + 5 working days = Mon 10 March, end of day.
    assert timezone.localtime(task.due_at).date().isoformat() == "2025-03-10"
    with pytest.raises(InvalidInput, match="told_on"):
        complete(petition, "tell_petitioner", township_a)
    complete(petition, "tell_petitioner", township_a, told_on="2025-03-04")
    complete(petition, "close_petition", township_a, satisfaction="unknown")
    assert petition.state == PetitionState.CLOSED and petition.remit_body == "县人社局"


def test_an_uninvolved_township_user_sees_nothing(clock, township_a, make_user, api):
    petition = register(township_a)
    colleague = make_user("colleague", ("township_staff", TOWNSHIP_A))  # same township!
    assert not can_read_petition(colleague, petition)
    assert list(petitions_for_user(user=colleague)) == []
    assert list(petitions_for_user(user=township_a)) == [petition]
    response = api(colleague).get(f"/api/process-instances/{petition.instance_id}/")
    assert response.status_code == 404
    history = api(colleague).get(f"/api/process-instances/{petition.instance_id}/history/")
    assert history.status_code == 404
    assert api(colleague).get("/api/tasks/").json()["count"] == 0


def test_every_change_of_the_petition_is_on_its_own_audit_chain(clock, township_a):
    from workflows.services.audit import audit_verify

    petition = register(township_a)
    complete(
        petition,
        "decide_acceptance",
        township_a,
        decision="answered_on_spot",
        answer="已当场解释政策",
    )
    changes = list(
        AuditEvent.objects.filter(stream=f"petition:{petition.pk}").values_list(
            "element_id", "actor"
        )
    )
    assert changes == [("registered", "township_a"), ("acceptance_decided", "township_a")]
    assert audit_verify()[1] == []


def test_the_petition_number_counts_per_year(clock, township_a):
    assert register(township_a).number == "XF2025-00001"
    assert register(township_a, subject="另一事项").number == "XF2025-00002"
    assert Petition.objects.count() == 2


def test_starting_through_the_api_registers_a_petition(clock, township_a, api):
    response = api(township_a).post(
        "/api/process-instances/",
        {
            "process_key": "petition_first_receiver",
            "variables": {
                "channel": "phone",
                "petitioner_name": "钱小红",
                "subject": "无障碍改造进度",
                "content": "家中改造未完工。",
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    petition = Petition.objects.get()
    assert petition.instance_id == response.json()["id"]
    assert (petition.first_receiver, petition.channel) == (township_a, "phone")


def test_a_registration_with_missing_fields_is_refused_field_by_field(clock, township_a, api):
    response = api(township_a).post(
        "/api/process-instances/",
        {"process_key": "petition_first_receiver", "variables": {"channel": "visit"}},
        format="json",
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"petitioner_name", "subject", "content"}
    assert not Petition.objects.exists()


def test_search_and_the_case_page_hide_a_petition_from_the_uninvolved(
    clock, township_a, make_user, api, client
):
    petition = register(township_a)
    colleague = make_user("colleague", ("township_staff", TOWNSHIP_A))
    client.force_login(colleague)
    assert client.get(f"/cases/{petition.instance_id}/").status_code == 404
    page = client.get("/cases/", {"q": petition.number})
    assert list(page.context["page"].object_list) == []
    assert f"/cases/{petition.instance_id}/" not in page.content.decode()
    found = api(colleague).get("/api/process-instances/search/", {"q": petition.number}).json()
    assert found["count"] == 0
    mine = api(township_a).get("/api/process-instances/search/", {"q": petition.number}).json()
    assert [row["id"] for row in mine["results"]] == [petition.instance_id]
    client.force_login(township_a)
    assert client.get(f"/cases/{petition.instance_id}/").status_code == 200


def test_an_id_with_a_wrong_check_digit_is_refused_as_the_medication_survey_refuses_it(
    township_a,
):
    """One check for a citizen ID: the petition form says what the medication survey says."""
    from processes.medication.services.survey import _parse_id

    with pytest.raises(InvalidInput) as refused:
        register(township_a, petitioner_id_number="110105194912310021")
    message = "身份证号 110105194912310021 的校验位不正确：末位应为 X。"
    assert refused.value.fields == {"petitioner_id_number": [message]}
    with pytest.raises(InvalidInput) as survey_refused:
        _parse_id("110105194912310021")
    assert survey_refused.value.message == refused.value.message == message
    assert not Petition.objects.exists()


def test_a_petitioner_may_give_no_id_and_a_given_one_is_stored_checked(township_a):
    assert register(township_a, petitioner_id_number="").petitioner_id_number == ""
    given = register(township_a, petitioner_id_number=" 11010519491231002x ", subject="另一事项")
    assert given.petitioner_id_number == "11010519491231002X"


def test_petition_pages_never_show_the_petitioners_full_id_or_phone(clock, township_a, client):
    petition = register(township_a, petitioner_phone="13805710001")
    task = open_task(petition, "decide_acceptance")
    client.force_login(township_a)
    for url in ("/petitions/", f"/cases/{petition.instance_id}/", f"/tasks/{task.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "11010519491231002X" not in page and "13805710001" not in page, url
    search = client.get("/cases/", {"q": petition.number}).content.decode()
    assert "11010519491231002X" not in search
    assert "赵**" in client.get("/petitions/").content.decode()  # the list masks the name too


def test_the_registration_form_refuses_a_wrong_check_digit_through_the_start_page(
    township_a, client
):
    client.force_login(township_a)
    data = {
        "channel": "visit",
        "petitioner_name": "赵大勇",
        "petitioner_id_number": "110105194912310021",
        "subject": "辅具补贴未发放",
        "content": "去年申请的轮椅补贴至今未到账。",
    }
    response = client.post("/start/petition_first_receiver/", {"data": json.dumps(data)})
    assert response.status_code == 400
    assert response.context["form_errors"] == {
        "petitioner_id_number": ["身份证号 110105194912310021 的校验位不正确：末位应为 X。"]
    }
    assert not Petition.objects.exists()


def test_a_unit_that_is_no_handling_unit_is_refused_and_nothing_is_sent(clock, township_a):
    from processes.petitions.models import HandlingAssignment
    from tests.registry.factories import PROVIDER_X

    petition = register(township_a)
    complete(petition, "decide_acceptance", township_a, decision="accepted")
    follow_up = open_task(petition, "follow_up")
    for units in (["330102999000"], [TOWNSHIP_B, PROVIDER_X]):
        with pytest.raises(InvalidInput) as refused:
            complete(petition, "follow_up", township_a, action="assign_units", units=units)
        assert refused.value.fields["units"] == [f"{units[-1]}：没有这个承办单位，请从列表中选择。"]
    follow_up.refresh_from_db()
    assert follow_up.state == "open"
    assert not HandlingAssignment.objects.filter(petition=petition).exists()
    assert not HumanTask.objects.filter(element_id="unit_report").exists()


def test_the_follow_up_page_offers_units_by_name_and_shows_the_petition(clock, township_a):
    import json

    from django.test import Client

    petition = register(township_a)
    complete(petition, "decide_acceptance", township_a, decision="accepted")
    follow_up = open_task(petition, "follow_up")
    client = Client()
    client.force_login(township_a)
    page = client.get(f"/tasks/{follow_up.pk}/").content.decode()
    data = json.loads(page.split('id="fz-form-data" type="application/json">')[1].split("<")[0])
    options = {o["value"]: o["label"] for o in data["unit_options"]}
    assert options[TOWNSHIP_A] == "城关镇"  # township_a works there
    assert options[TOWNSHIP_B] == "白沙镇（该单位尚无扶助账号）"
    summary = page.split('id="case-summary"')[1].split("</section>")[0]
    assert petition.subject in summary and petition.number in summary
    assert petition.petitioner_id_number not in page
    assert petition.petitioner_id_number[:6] + "********" in summary

"""Due dates: a reminder before, an escalation after, both once; working days and the outbox."""

import json
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import BPMN, COUNTY, TOWNSHIP_A
from workflows import calendar
from workflows.models import AuditKind, CalendarDay, HumanTask, Notification, NotificationState
from workflows.services.deadlines import deadlines_sweep
from workflows.services.instances import instance_start
from workflows.services.notifications import notification_queue, notifications_send_pending

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
START = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday


@pytest.fixture
def due_in_five_days(deploy, township_a, make_user):
    make_user("county_boss", ("county_staff", COUNTY))
    with time_machine.travel(START, tick=False):
        deploy("lanes_and_gateway")  # township_check has camunda:dueDate="P5D"
        instance = instance_start(process_key="lanes_and_gateway", user=township_a)
    return instance.human_tasks.get()


def test_the_task_carries_its_due_date_and_reminder_moment(due_in_five_days):
    assert due_in_five_days.due_at == START + timedelta(days=5)
    assert due_in_five_days.remind_at == START + timedelta(days=4)  # REMINDER_BEFORE P1D
    assert due_in_five_days.escalation_role == "county_staff"


def test_one_reminder_before_the_due_date(due_in_five_days, township_a):
    with time_machine.travel(START + timedelta(days=3), tick=False):
        assert deadlines_sweep() == (0, 0)
    with time_machine.travel(START + timedelta(days=4, hours=1), tick=False):
        assert deadlines_sweep() == (1, 0)
        assert deadlines_sweep() == (0, 0)  # once
    [note] = Notification.objects.filter(reason="reminder")
    assert note.recipient == township_a and note.channel == "sms"
    assert "乡镇初审" in note.body and "2025年3月8日 09:00" in note.body


def test_escalation_on_breach_flags_the_task_and_tells_the_county(due_in_five_days):
    with time_machine.travel(START + timedelta(days=5, minutes=1), tick=False):
        assert deadlines_sweep() == (0, 1)
        assert deadlines_sweep() == (0, 0)
    task = HumanTask.objects.get(pk=due_in_five_days.pk)
    assert task.escalated_at is not None
    told = set(
        Notification.objects.filter(reason="escalation").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"township_a", "county_boss"}
    event = task.instance.audit_events.get(kind=AuditKind.TASK_ESCALATED)
    assert event.element_id == "township_check"


def test_working_days_skip_weekends_holidays_and_count_adjusted_saturdays():
    # 2025 National Day: 1–8 October off; Sunday 28 September and Saturday 11 October worked.
    assert calendar.is_working_day(date(2025, 9, 28))
    assert not calendar.is_working_day(date(2025, 10, 6))
    assert calendar.is_working_day(date(2025, 10, 11))
    assert calendar.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert calendar.add_working_days(date(2025, 9, 30), 2) == date(2025, 10, 10)
    assert calendar.add_working_days(date(2025, 9, 30), 3) == date(2025, 10, 11)


def test_a_county_exception_wins_over_the_national_calendar():
    CalendarDay.objects.create(date=date(2025, 3, 5), is_working_day=False, note="县里停电")
    assert calendar.add_working_days(date(2025, 3, 3), 2) == date(2025, 3, 6)


def test_working_days_in_a_due_date_expression(make_user, township_a):
    from workflows.services.definitions import definition_deploy
    from workflows.services.tasks import task_complete

    source = (BPMN / "lanes_and_gateway.bpmn").read_text(encoding="utf-8")
    xml = source.replace('camunda:dueDate="P5D"', 'camunda:dueDate="${working_days(5)}"')
    owner = make_user("owner2", ("process_owner", ""))
    definition_deploy(content=xml.encode(), user=owner)
    with time_machine.travel(datetime(2025, 9, 26, 10, 0, tzinfo=TZ), tick=False):
        instance = instance_start(process_key="lanes_and_gateway", user=township_a)
    task = instance.human_tasks.get()
    # Fri 26 Sep + 5 working days: Sun 28, Mon 29, Tue 30 Sep, Thu 9, Fri 10 Oct.
    assert timezone.localtime(task.due_at) == datetime(2025, 10, 10, 23, 59, 59, tzinfo=TZ)
    task_complete(task_id=task.pk, user=township_a, data={"approved": False})


def test_the_outbox_sends_through_the_backend_and_retries_failures(township_a, settings):
    settings.WORKFLOWS = {
        **settings.WORKFLOWS,
        "NOTIFICATION_BACKENDS": {
            "sms": "workflows.notifications.FileBackend",
            "email": "workflows.notifications.EmailBackend",
        },
    }
    sms = notification_queue(channel="sms", recipient=township_a, body="您的证件将于2026年到期")
    email = notification_queue(channel="email", recipient=township_a, body="x", subject="y")
    assert notifications_send_pending() == 1
    sms.refresh_from_db()
    email.refresh_from_db()
    assert sms.state == NotificationState.SENT
    assert email.state == NotificationState.PENDING and email.attempts == 1
    assert "no e-mail address" in email.last_error
    outbox = settings.VAR_DIR / "outbox" / "sms.jsonl"
    lines = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    assert lines[-1]["body"] == "您的证件将于2026年到期"


def test_a_notification_needs_a_known_channel_and_a_recipient(db):
    with pytest.raises(ValueError, match="unknown notification channel 'fax'"):
        notification_queue(channel="fax", address="1", body="x")
    with pytest.raises(ValueError, match="needs a recipient or an address"):
        notification_queue(channel="sms", body="x")


def test_reminder_lead_in_working_days(db):
    from workflows.services.assignment import reminder_moment

    due = datetime(2025, 10, 10, 17, 0, tzinfo=TZ)  # Friday after National Day
    # 3 working days before: Thu 9 Oct, (1–8 Oct off), Tue 30 Sep, Mon 29 Sep.
    assert reminder_moment(due, "3WD") == datetime(2025, 9, 29, 17, 0, tzinfo=TZ)
    assert reminder_moment(due, "P1D") == due - timedelta(days=1)
    assert TOWNSHIP_A

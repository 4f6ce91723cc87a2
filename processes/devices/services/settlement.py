"""The monthly settlement: every fitting accepted up to the end of a month and not settled yet
goes, once, onto its institution's statement for that month (an xlsx), and each settled case
hears of it (message ``device_fitting_settled``) so its instance can end.

Exactly once is the database's promise: a settlement line is unique per application. The run is
the async service task of ``assistive_device_settlement.bpmn`` (a timer start on the 1st of every
month), or the same service called by county staff for a past month."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.masking import CITIZEN_ID, mask
from workflows.exceptions import InvalidInput, NotAllowed, WorkflowError
from workflows.models import Subscription
from workflows.services.access import user_has_role
from workflows.services.messages import message_send

from .. import conf
from ..models import DeviceApplication, SettlementLine, SettlementStatement
from ..money import yuan
from .common import SETTLED_MESSAGE, record

logger = logging.getLogger(__name__)


@dataclass
class SettlementRun:
    period: date
    statements: list[SettlementStatement] = field(default_factory=list)
    lines: int = 0
    subsidy_total: Decimal = Decimal("0.00")
    told: int = 0


def month_of(moment: datetime | date) -> date:
    day = timezone.localtime(moment).date() if isinstance(moment, datetime) else moment
    return day.replace(day=1)


def previous_month(moment: datetime | date) -> date:
    first = month_of(moment)
    return (
        first.replace(year=first.year - 1, month=12)
        if first.month == 1
        else first.replace(month=first.month - 1)
    )


def _next_month(first: date) -> date:
    return (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def settlement_run(*, period: date, user=None) -> SettlementRun:
    """Settle every accepted, unsettled fitting accepted before the end of ``period`` (a month
    that has ended). A second run for the same month settles nothing twice."""
    period = period.replace(day=1)
    if user is not None and not user_has_role(user, conf.get("COUNTY_ROLE")):
        raise NotAllowed(_("Only county federation staff may run a settlement."))
    end = _start_of(_next_month(period))
    if end > timezone.now():
        message = _("%(month)s has not ended yet; it can be settled from the 1st of next month.")
        raise InvalidInput(message % {"month": f"{period:%Y-%m}"})
    run = SettlementRun(period=period)
    with transaction.atomic():
        due = list(
            DeviceApplication.objects.select_for_update(of=("self",))
            .filter(accepted_at__lt=end, service_institution__isnull=False, settlement_line=None)
            .select_related("person", "service_institution")
            .order_by("service_institution__code", "accepted_at", "pk")
        )
        by_institution: dict[int, list[DeviceApplication]] = {}
        for application in due:
            by_institution.setdefault(application.service_institution_id, []).append(application)
        for applications in by_institution.values():
            statement = _settle(period, applications, user)
            run.statements.append(statement)
            run.lines += len(applications)
            run.subsidy_total += sum((a.subsidy_granted for a in applications), Decimal("0.00"))
    run.told = tell_settled_cases()
    return run


def _settle(period: date, applications: list[DeviceApplication], user) -> SettlementStatement:
    institution = applications[0].service_institution
    statement, _created = SettlementStatement.objects.select_for_update().get_or_create(
        institution=institution,
        period=period,
        defaults={"number": f"JS{period:%Y%m}-{institution.code[-6:]}-{institution.pk}"},
    )
    SettlementLine.objects.bulk_create(
        SettlementLine(statement=statement, application=a, subsidy=a.subsidy_granted)
        for a in applications
    )
    lines = statement.lines.select_related(
        "application__person", "application__service_institution"
    )
    lines = list(lines.order_by("application__accepted_at", "application__pk"))
    statement.line_count = len(lines)
    statement.subsidy_total = sum((line.subsidy for line in lines), Decimal("0.00"))
    content = statement_xlsx(statement, lines)
    statement.sha256 = hashlib.sha256(content).hexdigest()
    statement.file.save(f"{statement.number}.xlsx", ContentFile(content), save=False)
    statement.save()
    for application in applications:
        record(
            application,
            actor=user,
            change="settled",
            statement=statement.number,
            subsidy=str(application.subsidy_granted),
        )
    return statement


def statement_xlsx(statement: SettlementStatement, lines: list[SettlementLine]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = f"{statement.period:%Y-%m}"
    sheet.append(
        [f"{statement.institution.name} {statement.period:%Y年%m月} 辅助器具适配补贴结算单"]
    )
    sheet.append([f"结算单号：{statement.number}", f"机构代码：{statement.institution.code}"])
    sheet.append(
        [
            "序号",
            "申请编号",
            "姓名",
            "公民身份号码",
            "验收日期",
            "总价（元）",
            "补贴（元）",
            "个人自付（元）",
        ]
    )
    for index, line in enumerate(lines, start=1):
        application = line.application
        sheet.append(
            [
                index,
                application.number,
                application.person.name,
                mask(application.person.citizen_id, CITIZEN_ID),
                timezone.localtime(application.accepted_at).date().isoformat(),
                float(application.price_total),
                float(line.subsidy),
                float(application.self_pay),
            ]
        )
    sheet.append(["合计", "", "", "", "", "", float(statement.subsidy_total), ""])
    sheet.column_dimensions["B"].width = 16
    sheet.column_dimensions["D"].width = 22
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def tell_settled_cases() -> int:
    """Tell every settled case still waiting for it: the message ends its wait. Safe to repeat
    (a case that no longer waits is not told again)."""
    waiting = Subscription.objects.filter(
        kind=Subscription.KIND_MESSAGE, name=SETTLED_MESSAGE, instance__isnull=False
    ).values_list("correlation_key", flat=True)
    numbers = list(
        SettlementLine.objects.filter(application__number__in=waiting)
        .select_related("statement")
        .values_list("application__number", "statement__number")
    )
    told = 0
    for number, statement in numbers:
        try:
            message_send(
                name=SETTLED_MESSAGE,
                correlation_key=number,
                payload={"settlement": statement},
                user=None,
            )
        except WorkflowError as exc:  # suspended, say: told on the next run
            logger.warning("could not tell %s it was settled: %s", number, exc.message)
            continue
        told += 1
    return told


def run_monthly_settlement(variables: dict) -> dict:
    """Service task ``devices_monthly_settlement``: settle the month before the timer fired (or
    before now, when started by hand)."""
    fired = variables.get("started_by_timer")
    moment = datetime.fromisoformat(fired) if fired else timezone.now()
    run = settlement_run(period=previous_month(moment))
    return {
        "period": f"{run.period:%Y-%m}",
        "statements": [s.number for s in run.statements],
        "lines": run.lines,
        "subsidy_total": yuan(run.subsidy_total),
        "told": run.told,
    }

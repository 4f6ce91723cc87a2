"""Demo petitions (信访件), worked through the real services by the demo staff, so a fresh
install has petition cases at several stages for the inbox and for the auditors' replay.

Run after ``deploy_processes`` and ``load_demo``. Idempotent: does nothing when petitions exist.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from processes.petitions.models import Petition
from processes.petitions.services import PROCESS_KEY, petition_register
from workflows.models import HumanTask, HumanTaskState, ProcessDefinition
from workflows.services.tasks import task_claim, task_complete

PETITIONERS = [
    ("赵大勇", "11010519491231002X", "辅具补贴未发放", "去年申请的轮椅补贴至今未到账。"),
    ("钱秀兰", "330102196803150021", "残疾人证换领进度", "换领申请已提交两个月，未收到新证。"),
    ("孙建军", "330102197707070018", "无障碍通道被占用", "小区无障碍坡道长期被车辆占用。"),
]


def _unit_of(username: str) -> str:
    from registry.demo import DEMO_STAFF

    return next(unit for name, _full, _role, unit in DEMO_STAFF if name == username)


def _step(petition: Petition, element: str, user, **data) -> None:
    task = HumanTask.objects.get(
        instance=petition.instance, element_id=element, state=HumanTaskState.OPEN
    )
    if task.assignee_id is None:
        task_claim(task_id=task.pk, user=user)
    task_complete(task_id=task.pk, user=user, data=data)
    petition.refresh_from_db()


class Command(BaseCommand):
    help = "Register three demo petitions and work them to different stages."

    def handle(self, *args, **options):
        if not ProcessDefinition.objects.filter(key=PROCESS_KEY).exists():
            raise CommandError(f"deploy the process pack first ('{PROCESS_KEY}' is not deployed)")
        if Petition.objects.exists():
            self.stdout.write("demo petitions: already there")
            return
        users = {u.username: u for u in get_user_model().objects.all()}
        missing = {"township_a", "township_b", "petition"} - set(users)
        if missing:
            raise CommandError(f"load the demo staff first (missing: {', '.join(sorted(missing))})")
        first, township_b, office = users["township_a"], users["township_b"], users["petition"]

        def register(index: int) -> Petition:
            name, citizen_id, subject, content = PETITIONERS[index]
            return petition_register(
                user=first,
                channel="visit",
                petitioner_name=name,
                petitioner_id_number=citizen_id,
                subject=subject,
                content=content,
                notice="请补充提供相关票据复印件。",
            )

        with transaction.atomic():
            waiting = register(0)  # waits for the acceptance decision

            transferred = register(1)
            _step(transferred, "decide_acceptance", first, decision="accepted")
            _step(
                transferred,
                "follow_up",
                first,
                action="assign_units",
                units=[_unit_of("township_b")],
                instruction="请核实换证进度并反馈",
            )
            _step(transferred, "unit_report", township_b, report="已核实：新证已制作，三日内送达。")
            _step(
                transferred,
                "follow_up",
                first,
                action="request_extension",
                extension_days=30,
                reason="需市级部门出具意见",
            )
            _step(transferred, "approve_extension", office, decision="approved")

            answered = register(2)
            _step(
                answered,
                "decide_acceptance",
                first,
                decision="answered_on_spot",
                answer="已联系物业当场清理坡道，并设置禁停标识。",
            )
            _step(answered, "close_petition", first, satisfaction="satisfied")
        self.stdout.write(
            f"demo petitions: {waiting.number} (awaiting acceptance), {transferred.number} "
            f"(accepted, reply limit extended), {answered.number} (answered on the spot, closed)"
        )

"""Demo users for every role, so a fresh install can be tried at once. Idempotent."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from workflows.services.roles import role_grant

DEMO_PASSWORD = "fuzhu-demo-2025"
COUNTY = "330102000000"

# username, full name, role, org unit ("" = everywhere)
DEMO_STAFF = [
    ("owner", "流程管理员 王芳", "process_owner", ""),
    ("county", "县残联 李明", "county_staff", COUNTY),
    ("township_a", "清波街道残联 张丽", "township_staff", "330102001000"),
    ("township_b", "湖滨街道残联 陈强", "township_staff", "330102002000"),
    ("village_a1", "清波街道某社区专职委员 刘洋", "village_officer", "330102001001"),
    ("finance", "县财政局 赵敏", "finance", COUNTY),
    ("assessor", "县康复评估中心 孙伟", "assessor", "330102900001"),
    ("provider", "县辅具适配中心 周杰", "provider", "330102900101"),
    ("petition", "县残联信访办 吴静", "petition_office", COUNTY),
    ("auditor", "县审计局 郑华", "auditor", ""),
]


class Command(BaseCommand):
    help = "Create demo staff for every role (password printed) and print the logins."

    def handle(self, *args, **options):
        user_model = get_user_model()
        with transaction.atomic():
            for username, full_name, role, org_unit in DEMO_STAFF:
                user, created = user_model.objects.get_or_create(username=username)
                if created:
                    user.last_name = full_name
                    user.set_password(DEMO_PASSWORD)
                    user.is_staff = role == "process_owner"
                    user.save()
                role_grant(user=user, role=role, org_unit=org_unit)
        roles = settings.WORKFLOWS["ROLES"]
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for username, full_name, role, org_unit in DEMO_STAFF:
            where = org_unit or "全县"
            self.stdout.write(f"  {username:<12} {roles[role]:<10} {where:<13} {full_name}")

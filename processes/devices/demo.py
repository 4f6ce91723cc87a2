"""The demo catalogue (a county's basic assistive devices with ceilings and usage periods) and
service agreements with the demo county's service institutions: one covering most categories,
one for orthoses and mobility, and one that has expired. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from registry.models import OrgUnit

from .models import Device, DeviceCategory, ServiceAgreement

MOBILITY, CARE, COMMUNICATION, ORTHOSES, HOUSEHOLD = (
    DeviceCategory.MOBILITY,
    DeviceCategory.PERSONAL_CARE,
    DeviceCategory.COMMUNICATION,
    DeviceCategory.ORTHOSES,
    DeviceCategory.HOUSEHOLD,
)

# code, name, category, ceiling (yuan), usage period (months)
CATALOGUE = [
    ("FZ-YD-01", "手动轮椅车", MOBILITY, "1200.00", 60),
    ("FZ-YD-02", "儿童轮椅车（可调节）", MOBILITY, "3500.00", 36),
    ("FZ-YD-03", "框式助行器", MOBILITY, "300.00", 36),
    ("FZ-YD-04", "肘拐（副）", MOBILITY, "150.00", 24),
    ("FZ-YD-05", "电动轮椅车", MOBILITY, "6000.00", 72),
    ("FZ-ZL-01", "坐便椅", CARE, "300.00", 36),
    ("FZ-ZL-02", "洗澡椅", CARE, "200.00", 36),
    ("FZ-ZL-03", "防压疮坐垫", CARE, "500.00", 24),
    ("FZ-XX-01", "助听器（单耳）", COMMUNICATION, "3000.00", 60),
    ("FZ-XX-02", "儿童助听器（单耳）", COMMUNICATION, "8000.00", 36),
    ("FZ-XX-03", "盲杖", COMMUNICATION, "100.00", 24),
    ("FZ-XX-04", "助视器（手持放大镜）", COMMUNICATION, "400.00", 60),
    ("FZ-JZ-01", "踝足矫形器", ORTHOSES, "2000.00", 12),
    ("FZ-JZ-02", "脊柱侧弯矫形器", ORTHOSES, "5000.00", 12),
    ("FZ-JZ-03", "小腿假肢", ORTHOSES, "12000.00", 48),
    ("FZ-JJ-01", "护理床", HOUSEHOLD, "1800.00", 72),
    ("FZ-JJ-02", "儿童站立架", HOUSEHOLD, "2500.00", 36),
]


@dataclass
class DemoDevices:
    devices: int = 0
    agreements: int = 0
    created: int = 0


def catalogue_load() -> int:
    """The demo catalogue; returns how many items were added."""
    created = 0
    for code, name, category, ceiling, months in CATALOGUE:
        _, made = Device.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "category": category,
                "ceiling": Decimal(ceiling),
                "usage_months": months,
            },
        )
        created += made
    return created


def agreements_load(institutions: list[OrgUnit], *, today: date | None = None) -> int:
    """Agreements with the first three service institutions given: broad, specialised,
    expired."""
    today = today or timezone.localdate()
    start, end = date(today.year - 1, 1, 1), date(today.year + 1, 12, 31)
    plans = [
        ([MOBILITY, CARE, COMMUNICATION, HOUSEHOLD], start, end),
        ([ORTHOSES, MOBILITY], start, end),
        ([MOBILITY, CARE], date(today.year - 3, 1, 1), date(today.year - 1, 12, 31)),
    ]
    created = 0
    for index, (institution, (categories, valid_from, valid_until)) in enumerate(
        zip(institutions, plans, strict=False), start=1
    ):
        _, made = ServiceAgreement.objects.get_or_create(
            number=f"FZXY-{valid_from.year}-{index:03d}",
            defaults={
                "institution": institution,
                "categories": [str(c) for c in categories],
                "signed_on": valid_from,
                "valid_from": valid_from,
                "valid_until": valid_until,
            },
        )
        created += made
    return created


@transaction.atomic
def demo_devices_load() -> DemoDevices:
    from registry.models import OrgUnitKind

    summary = DemoDevices()
    summary.created += catalogue_load()
    services = list(
        OrgUnit.objects.filter(kind=OrgUnitKind.SERVICE, is_active=True).order_by(
            "created_at", "pk"
        )
    )
    summary.created += agreements_load(services)
    summary.devices = Device.objects.count()
    summary.agreements = ServiceAgreement.objects.count()
    return summary

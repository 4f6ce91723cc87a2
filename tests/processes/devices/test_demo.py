"""The demo catalogue and agreements load once, on the demo county, and work with its staff."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from processes.devices.models import Device, ServiceAgreement
from processes.devices.services import rules
from registry.demo import demo_load, institution_codes

pytestmark = pytest.mark.django_db


def test_load_demo_devices_needs_the_demo_county_then_is_idempotent(clock, capsys):
    with pytest.raises(CommandError, match="load_demo"):
        call_command("load_demo_devices")
    demo_load(persons=10)
    call_command("load_demo_devices")
    call_command("load_demo_devices")
    assert "17 items, 3 service agreements (0 added)" in capsys.readouterr().out
    assert Device.objects.count() == 17 and ServiceAgreement.objects.count() == 3
    codes = institution_codes()
    providers = [p.institution.code for p in rules.providers_for({"mobility"}, clock_day())]
    assert providers == sorted([codes[3], codes[4]])  # the third's agreement has expired
    assert [p.institution.code for p in rules.providers_for({"orthoses"}, clock_day())] == [
        codes[4]
    ]


def clock_day():
    from django.utils import timezone

    return timezone.localdate()

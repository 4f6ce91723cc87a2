"""An institution's unified social credit code is checked as every credit code is."""

import pytest
from django.utils import translation

from registry.models import OrgUnit, OrgUnitKind
from registry.services.org_units import org_unit_create
from registry.uscc import uscc_make
from tests.conftest import COUNTY
from workflows.exceptions import InvalidInput

pytestmark = pytest.mark.django_db


def test_a_credit_code_with_a_wrong_check_character_is_refused(org_units):
    good = uscc_make("52330102MJ8800001")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as refused:
        org_unit_create(code=wrong, name="某康复站", kind=OrgUnitKind.SERVICE, parent_code=COUNTY)
    message = f"统一社会信用代码 {wrong} 的校验码不正确：末位应为 {good[-1]}。"
    assert (refused.value.message, refused.value.fields) == (message, {"code": [message]})
    assert not OrgUnit.objects.filter(code=wrong).exists()
    unit = org_unit_create(code=good, name="某康复站", kind=OrgUnitKind.SERVICE, parent_code=COUNTY)
    assert unit.code == good

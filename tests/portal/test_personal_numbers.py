"""Personal numbers on the portal's pages: masked for a township clerk everywhere a case shows
(the inbox, search, the case, its task pages), and checked at the start as everywhere."""

from __future__ import annotations

import json

from registry.masking import CERTIFICATE, CITIZEN_ID, mask
from workflows.models import ProcessInstance
from workflows.services.tasks import task_complete

from .conftest import KEY, VALID_CHECK, applicant


def _shows_masked_only(response, instance, *, typed: str = "") -> str:
    """The page shows the applicant's ID masked, and in full nowhere but where the clerk
    typed it (``typed``: a search box echoes its own query)."""
    assert response.status_code == 200
    page = response.content.decode()
    full = instance.variables["applicant_id"]
    if typed:
        page = page.replace(f'value="{typed}"', "").replace(f"q={typed}", "")
    assert full not in page
    assert mask(full, CITIZEN_ID) in page
    return page


def test_the_inbox_shows_the_applicants_id_masked(start_case, township_a, client_for):
    instance = start_case(township_a)
    _shows_masked_only(client_for(township_a).get("/?tab=group"), instance)


def test_case_search_finds_by_the_full_id_and_shows_it_masked(start_case, township_a, client_for):
    instance = start_case(township_a)
    response = client_for(township_a).get("/cases/", {"q": instance.variables["applicant_id"]})
    assert [i.pk for i in response.context["page"]] == [instance.pk]
    _shows_masked_only(response, instance, typed=instance.variables["applicant_id"])


def test_the_case_page_shows_ids_certificate_numbers_and_phones_masked(
    start_case, township_a, client_for
):
    instance = start_case(township_a)
    task_complete(task_id=instance.human_tasks.get().pk, user=township_a, data=VALID_CHECK)
    page = _shows_masked_only(client_for(township_a).get(f"/cases/{instance.pk}/"), instance)
    certificate = instance.variables["certificate_no"]
    assert certificate not in page and mask(certificate, CERTIFICATE) in page
    assert "13805710001" not in page and "138****0001" in page


def test_the_check_task_page_masks_what_it_does_not_ask_for_and_keeps_the_real_id(
    start_case, township_a, client_for
):
    instance = start_case(township_a)
    task = instance.human_tasks.get()
    client = client_for(township_a)
    page = _shows_masked_only(client.get(f"/tasks/{task.pk}/"), instance)
    assert instance.variables["certificate_no"] not in page
    # form-js posts the read-only fields back as shown: masked. The real ID stays.
    shown = json.loads(
        page.split('id="fz-form-data" type="application/json">')[1].split("</script>")[0]
    )
    assert shown["applicant_id"] == mask(instance.variables["applicant_id"], CITIZEN_ID)
    posted = {**shown, **VALID_CHECK}
    response = client.post(f"/tasks/{task.pk}/", {"data": json.dumps(posted), "action": "complete"})
    assert response.status_code == 302
    instance.refresh_from_db()
    assert instance.variables["applicant_id"] == applicant(1)["applicant_id"]
    assert instance.variables["certificate_no"] == applicant(1)["certificate_no"]


def test_the_county_review_task_page_shows_the_certificate_number_masked(
    start_case, township_a, county_clerk, client_for
):
    instance = start_case(township_a)
    task_complete(task_id=instance.human_tasks.get().pk, user=township_a, data=VALID_CHECK)
    review = instance.human_tasks.get(state="open")
    page = client_for(county_clerk).get(f"/tasks/{review.pk}/").content.decode()
    certificate = instance.variables["certificate_no"]
    assert certificate not in page and mask(certificate, CERTIFICATE) in page


def test_the_renewal_start_refuses_an_id_with_a_wrong_check_digit(renewal, township_a, client_for):
    good = applicant(1)["applicant_id"]
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    data = {**applicant(1), "applicant_id": wrong}
    response = client_for(township_a).post(
        f"/start/{KEY}/", {"data": json.dumps(data), "business_key": "HZ-9"}
    )
    assert response.status_code == 400
    assert response.context["form_errors"] == {
        "applicant_id": [f"身份证号 {wrong} 的校验位不正确：末位应为 {good[17]}。"]
    }
    assert not ProcessInstance.objects.exists()


def test_the_renewal_start_refuses_someone_elses_certificate(renewal, township_a, client_for):
    data = {**applicant(1), "certificate_no": applicant(2)["certificate_no"]}
    response = client_for(township_a).post(
        f"/start/{KEY}/", {"data": json.dumps(data), "business_key": "HZ-9"}
    )
    assert response.status_code == 400
    assert response.context["form_errors"] == {
        "certificate_no": [
            f"残疾人证号 {data['certificate_no']} 属于身份证号 {applicant(2)['applicant_id']}，"
            f"不是本人的身份证号 {data['applicant_id']}。"
        ]
    }


def test_the_api_shows_a_cases_variables_masked_as_its_page_does(start_case, township_a, api):
    instance = start_case(township_a)
    body = api(township_a).get(f"/api/process-instances/{instance.pk}/").json()
    assert body["variables"]["applicant_id"] == mask(instance.variables["applicant_id"], CITIZEN_ID)
    assert body["variables"]["certificate_no"] == mask(
        instance.variables["certificate_no"], CERTIFICATE
    )
    instance.refresh_from_db()
    assert instance.variables["applicant_id"] == applicant(1)["applicant_id"]  # stored in full

"""The portal's screens for the medication subsidy, through Django's test client."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from processes.medication.models import EntryState, MedicationEntry
from tests.registry.factories import VILLAGE_A1

from .conftest import TOWNSHIP_A, TOWNSHIP_B, open_tasks, person, upload
from .test_year import bank_file

pytestmark = pytest.mark.django_db


def client_for(user, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def task_url(instance, element, scope=None):
    tasks = open_tasks(instance, element)
    task = tasks.get(scope=scope) if scope else tasks.get()
    return f"/tasks/{task.pk}/"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_a_township_surveys_in_its_task_page_and_sees_each_check_at_once(
    year, township_a, township_b
):
    year.start()
    newcomer = person(VILLAGE_A1, "新来的")
    poor = person(VILLAGE_A1, "无低保", low_income="none")
    url = task_url(year.instance, "survey", TOWNSHIP_A)
    client = client_for(township_a)
    page = client.get(url)
    assert page.status_code == 200 and "New applicants (0)" in page.content.decode()
    added = client.post(url, {"action": "add", "citizen_id": newcomer.citizen_id}, follow=True)
    assert "新来的 was added and qualifies." in messages_of(added)
    refused = client.post(url, {"action": "add", "citizen_id": poor.citizen_id}, follow=True)
    assert "无低保 was added but does not qualify: no low-income status" in messages_of(refused)
    listed = client.get(url).content.decode()
    assert newcomer.citizen_id not in listed and newcomer.masked_citizen_id in listed
    wrong = client.post(url, {"action": "add", "citizen_id": "110105194912310021"}, follow=True)
    shown = wrong.content.decode()  # the refusal names the number, masked like everywhere
    assert "110105194912310021" not in shown
    assert "The check digit of the citizen ID 110105********0021 is wrong" in shown
    rows = [["姓名", "公民身份号码"], ["错号", "330102198001011239"]]
    report = client.post(url, {"action": "import", "file": upload("名单.csv", rows)})
    assert report.status_code == 200
    assert "名单.csv: 0 added (0 qualify), 1 refused" in report.content.decode()
    # The import report quotes the refused ID masked, in the row and in its reason.
    assert "330102198001011239" not in report.content.decode()
    assert "330102********1239" in report.content.decode()
    assert client_for(township_b).get(url).status_code == 404  # another township's task


def test_the_review_screen_puts_flagged_rows_first_and_keeps_sql_flat(year, township_a):
    year.compared()
    url = task_url(year.instance, "township_review", TOWNSHIP_A)
    client = client_for(township_a)
    with CaptureQueriesContext(connection) as few:
        page = client.get(url)
    body = page.content.decode()
    flagged = year.cycle.entries.filter(township__code=TOWNSHIP_A, flagged=True).first()
    unflagged = year.cycle.entries.filter(township__code=TOWNSHIP_A, flagged=False).first()
    assert body.index(f'id="row-{flagged.pk}"') < body.index(f'id="row-{unflagged.pk}"')
    MedicationEntry.objects.bulk_create(
        MedicationEntry(
            cycle=year.cycle,
            person=person(VILLAGE_A1, f"加{i}"),
            township=flagged.township,
            source="new",
            amount=1000,
            state=EntryState.COMPARED,
        )
        for i in range(20)
    )
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(more) == len(few)  # queries per page do not grow with the rows

    response = client.post(
        url, {"action": "reject", "entry": flagged.pk, "reason": ""}, follow=True
    )
    assert "Give the reason for rejecting." in messages_of(response)
    response = client.post(
        url, {"action": "reject", "entry": flagged.pk, "reason": "已死亡"}, follow=True
    )
    assert f"{flagged.person.name}：rejected" in messages_of(response)
    response = client.post(url, {"action": "bulk_approve"}, follow=True)
    assert any("unflagged rows approved" in m for m in messages_of(response))
    response = client.post(url, {"action": "complete"}, follow=True)
    assert any("are not reviewed yet" in m for m in messages_of(response))
    assert open_tasks(year.instance, "township_review").filter(scope=TOWNSHIP_A).exists()


def test_finance_sees_totals_by_township_and_a_wrong_total_is_refused(year, finance_clerk):
    year.county_approved()
    url = task_url(year.instance, "finance_approval")
    client = client_for(finance_clerk)
    body = client.get(url).content.decode()
    assert 'id="finance-total">8000.00<' in body and "王秀英" not in body
    response = client.post(url, {"decision": "approve", "confirmed_total": "7999"}, follow=True)
    assert any(
        "does not match the list: 8 persons, 8000.00 yuan" in m for m in messages_of(response)
    )
    response = client.post(url, {"decision": "approve", "confirmed_total": "8000.00"})
    assert response.status_code == 302 and response["Location"] == "/"
    entries = client.get(f"/medication/{year.cycle.pk}/entries/?township={TOWNSHIP_A}")
    assert entries.status_code == 403  # finance sees totals, never the persons


def test_finance_downloads_the_bank_file_and_the_county_uploads_the_return_in_its_task(
    year, township_a, finance_clerk
):
    year.paying()
    batch = year.cycle.batches.get()
    client = client_for(year.clerk)
    url = task_url(year.instance, "bank_return")
    page = client.get(url).content.decode()
    assert "YF2025-01.xlsx" in page and 'id="batch-xlsx"' not in page
    download = client_for(finance_clerk).get(f"/medication/batches/{batch.pk}/xlsx/")
    assert download.status_code == 200 and download["Content-Disposition"].endswith(
        'YF2025-01.xlsx"'
    )
    # The file keeps full card numbers: nobody but finance downloads it, not even the county.
    refused = client.get(f"/medication/batches/{batch.pk}/xlsx/")
    assert refused.status_code == 403
    assert "Only finance downloads bank files: they hold full card numbers." in (
        refused.content.decode()
    )
    assert client_for(township_a).get(f"/medication/batches/{batch.pk}/csv/").status_code == 403
    response = client.post(url, {"action": "upload", "file": bank_file(batch)}, follow=True)
    assert any(m.startswith("8 paid, 0 failed") for m in messages_of(response))
    again = client.post(url, {"action": "upload", "file": bank_file(batch)}, follow=True)
    assert any(m.endswith("nothing changed.") for m in messages_of(again))


def test_the_cycle_page_shows_each_role_what_it_may_see(
    year, auditor, township_b, finance_clerk, owner
):
    year.compared()
    url = f"/medication/{year.cycle.pk}/"
    audit = client_for(auditor).get(url).content.decode()
    assert 'id="township-overview"' in audit and 'id="rules-form"' not in audit
    township = client_for(township_b).get(url).content.decode()
    assert "township-overview" not in township and f"township={TOWNSHIP_B}" in township
    assert f"township={TOWNSHIP_A}" not in township
    assert (
        client_for(township_b)
        .get(f"/medication/{year.cycle.pk}/entries/?township={TOWNSHIP_A}")
        .status_code
        == 403
    )
    finance = client_for(finance_clerk).get(url)
    assert finance.status_code == 200 and "township-overview" not in finance.content.decode()
    chinese = client_for(auditor, "zh-hans").get(url).content.decode()
    assert "药费补助" in chinese and "乡镇审核" in chinese
    entry = year.cycle.entries.filter(flagged=True, township__code=TOWNSHIP_B).first()
    from processes.medication.services.review import entry_decide

    entry_decide(user=township_b, entry_id=entry.pk, decision="reject", reason="核实已迁出")
    detail = client_for(auditor).get(f"/medication/entries/{entry.pk}/").content.decode()
    assert "entry_rejected" in detail and "核实已迁出" in detail  # who, what and why


def test_the_closing_report_downloads_as_xlsx(year, township_a):
    from .conftest import complete, run_jobs

    year.paying()
    batch = year.cycle.batches.get()
    from processes.medication.services.payout import bank_return_apply

    bank_return_apply(user=year.clerk, batch_id=batch.pk, upload=bank_file(batch))
    complete(year.instance, "bank_return", year.clerk)
    run_jobs()
    client = client_for(year.clerk)
    page = client.get(task_url(year.instance, "cycle_report"))
    assert 'id="report-paid">8<' in page.content.decode()
    from .test_figures import assert_table_agrees_with_report

    cycle_page = client.get(f"/medication/{year.cycle.pk}/")
    year.refresh()
    assert cycle_page.context["report"] == year.cycle.report  # the report kept at closing
    assert_table_agrees_with_report(cycle_page.context, year.cycle.report)
    report = client.get(f"/medication/{year.cycle.pk}/report.xlsx")
    assert report.status_code == 200 and report.content[:2] == b"PK"
    assert client_for(township_a).get(f"/medication/{year.cycle.pk}/report.xlsx").status_code == 403


def test_every_other_screen_renders_for_its_role(year, township_a, owner):
    from .conftest import complete, run_jobs

    year.start()
    client = client_for(year.clerk, "zh-hans")
    assert "上传比对数据" in client.get(task_url(year.instance, "reference_data")).content.decode()
    start = client.get("/start/medication_subsidy_cycle/")
    assert start.status_code == 200 and "medication_cycle_start" in start.content.decode()
    rules = client_for(owner, "zh-hans").get(f"/medication/{year.cycle.pk}/").content.decode()
    assert 'id="rules-form"' in rules  # the process owner may still change the rules
    assert "2025" in client.get("/medication/").content.decode()
    year.reviewed()
    county = client.get(task_url(year.instance, "county_approval")).content.decode()
    assert 'id="county-overview"' in county and "城关镇" in county
    entries = client.get(f"/medication/{year.cycle.pk}/entries/?township={TOWNSHIP_A}&show=flagged")
    assert entries.status_code == 200 and "比对结果" in entries.content.decode()
    complete(year.instance, "county_approval", year.clerk, decision="approve")
    complete(
        year.instance,
        "finance_approval",
        year.finance,
        decision="approve",
        confirmed_total=str(year.refresh().cycle.county_approved_total),
    )
    run_jobs()
    batch = year.cycle.batches.get()
    failing = [batch.lines.filter(entry__township__code=TOWNSHIP_A).first().citizen_id]
    from processes.medication.services.payout import bank_return_apply

    bank_return_apply(user=year.clerk, batch_id=batch.pk, upload=bank_file(batch, failing=failing))
    complete(year.instance, "bank_return", year.clerk)
    correction = client_for(township_a, "zh-hans").get(
        task_url(year.instance, "account_correction", TOWNSHIP_A)
    )
    assert "账户已销户" in correction.content.decode()

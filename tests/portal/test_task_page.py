"""The task page: who may open it, the form, server-side validation, drafts, documents."""

from __future__ import annotations

import hashlib
import json

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import TOWNSHIP_A
from workflows.models import Attachment, AuditKind, HumanTaskState
from workflows.services.tasks import task_claim

from .conftest import VALID_CHECK

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def post_form(client, task, data: dict, action: str = "complete"):
    return client.post(f"/tasks/{task.pk}/", {"data": json.dumps(data), "action": action})


def test_the_task_page_shows_the_form_schema_the_case_data_and_the_history(
    start_case, township_a, client_for
):
    task = start_case(township_a).human_tasks.get()
    response = client_for(township_a).get(f"/tasks/{task.pk}/")
    assert response.status_code == 200
    assert response.context["schema"]["id"] == "certificate_township_check"
    assert response.context["form_data"]["applicant_name"] == "王秀英"
    body = response.content.decode()
    assert 'id="fz-form-schema"' in body and "dist/form.js" in body
    assert "发起流程" in body  # the timeline's first event


def test_a_task_of_another_township_is_not_found_and_one_of_another_role_is_forbidden(
    start_case, township_a, township_b, county_clerk, client_for
):
    task = start_case(township_a).human_tasks.get()
    assert client_for(township_b).get(f"/tasks/{task.pk}/").status_code == 404
    # The county clerk may read the township's cases but this task is for township staff.
    assert client_for(county_clerk).get(f"/tasks/{task.pk}/").status_code == 403
    assert client_for(township_b).post(f"/tasks/{task.pk}/", {"data": "{}"}).status_code == 404


def test_an_invalid_submission_shows_field_errors_and_keeps_everything_typed(
    start_case, township_a, client_for
):
    task = start_case(township_a).human_tasks.get()
    typed = {**VALID_CHECK, "contact_phone": "12345", "household_size": 99}
    response = post_form(client_for(township_a), task, typed)
    assert response.status_code == 400
    assert response.context["form_errors"] == {
        "contact_phone": ["格式不正确，请按要求填写。"],
        "household_size": ["请填写不大于 20 的数字。"],
    }
    assert response.context["form_data"]["township_opinion"] == typed["township_opinion"]
    assert response.context["form_data"]["contact_phone"] == "12345"
    task.refresh_from_db()
    assert task.state == HumanTaskState.OPEN
    assert task.draft_data == typed  # kept on the task too: reopening the page shows it
    page = client_for(township_a).get(f"/tasks/{task.pk}/")
    assert page.context["form_data"]["household_size"] == 99


def test_missing_required_fields_and_a_foreign_option_are_refused(
    start_case, township_a, client_for
):
    task = start_case(township_a).human_tasks.get()
    response = post_form(client_for(township_a), task, {"township_decision": "maybe"})
    errors = response.context["form_errors"]
    assert errors["contact_phone"] == ["此项为必填项。"]
    assert errors["township_opinion"] == ["此项为必填项。"]
    assert errors["township_decision"] == ["请从选项中选择。"]


def test_save_draft_keeps_work_without_completing(start_case, township_a, client_for):
    task = start_case(township_a).human_tasks.get()
    response = post_form(
        client_for(township_a), task, {"township_opinion": "待补材料"}, action="draft"
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == HumanTaskState.OPEN and task.draft_data == {"township_opinion": "待补材料"}


def test_a_valid_submission_completes_the_task_and_moves_the_case_on(
    start_case, township_a, client_for
):
    instance = start_case(township_a)
    task = instance.human_tasks.get()
    response = post_form(client_for(township_a), task, VALID_CHECK)
    assert response.status_code == 302 and response.url == "/"
    task.refresh_from_db()
    assert task.state == HumanTaskState.COMPLETED and task.completed_by == township_a
    assert instance.human_tasks.get(state=HumanTaskState.OPEN).element_id == "county_review"


def test_a_task_claimed_by_a_colleague_cannot_be_completed(
    start_case, township_a, make_user, client_for
):
    colleague = make_user("colleague", ("township_staff", TOWNSHIP_A))
    task = start_case(township_a).human_tasks.get()
    task_claim(task_id=task.pk, user=colleague)
    response = post_form(client_for(township_a), task, VALID_CHECK)
    assert response.status_code == 409
    task.refresh_from_db()
    assert task.state == HumanTaskState.OPEN


def test_documents_are_stored_with_their_checksum_and_audited(
    start_case, township_a, township_b, client_for
):
    instance = start_case(township_a)
    task = instance.human_tasks.get()
    upload = SimpleUploadedFile("原证扫描.pdf", PDF, content_type="application/pdf")
    response = client_for(township_a).post(f"/tasks/{task.pk}/documents/", {"file": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.filename == "原证扫描.pdf" and attachment.content_type == "application/pdf"
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert attachment.size == len(PDF) and attachment.task == task
    event = instance.audit_events.order_by("-sequence").first()
    assert event.kind == AuditKind.DOCUMENT_ATTACHED
    assert event.payload["sha256"] == attachment.sha256
    download = client_for(township_a).get(f"/documents/{attachment.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert client_for(township_b).get(f"/documents/{attachment.pk}/").status_code == 404


def test_documents_of_other_types_or_too_large_are_refused(
    start_case, township_a, client_for, settings
):
    task = start_case(township_a).human_tasks.get()
    client = client_for(township_a)
    fake = SimpleUploadedFile("证明.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(f"/tasks/{task.pk}/documents/", {"file": fake}, follow=True)
    assert "只能上传 PDF、JPEG 或 PNG 文件。" in response.content.decode()
    settings.WORKFLOWS = {**settings.WORKFLOWS, "ATTACHMENT_MAX_BYTES": 32}
    big = SimpleUploadedFile("照片.png", PNG, content_type="image/png")
    response = client.post(f"/tasks/{task.pk}/documents/", {"file": big}, follow=True)
    assert "上限为 32 字节" in response.content.decode()
    assert not Attachment.objects.exists()


def test_a_registered_task_view_renders_tasks_of_its_form_key(
    deploy, township_a, client_for, owner
):
    from django.http import HttpResponse

    from portal import task_views
    from workflows.services.instances import instance_start

    @task_views.task_view("township_check", label="测试名单审核")
    def list_review(request, task):
        return HttpResponse(f"list review of {task.name}")

    try:
        deploy("lanes_and_gateway")
        task = instance_start(process_key="lanes_and_gateway", user=township_a).human_tasks.get()
        response = client_for(township_a).get(f"/tasks/{task.pk}/")
        assert response.content.decode() == "list review of 乡镇初审"
    finally:
        task_views.unregister("township_check")

"""Deploying diagrams: every bad input refused with every problem listed and nothing written;
good input versioned by content. Each refusal is checked through the service and the API."""

import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from tests.conftest import BPMN, TOWNSHIP_A
from workflows import conf, extensions
from workflows.exceptions import DeploymentRefused, NotAllowed
from workflows.models import AuditEvent, AuditKind, HumanTaskState, ProcessDefinition
from workflows.services.definitions import definition_deploy
from workflows.services.instances import instance_start
from workflows.services.tasks import task_complete

pytestmark = pytest.mark.django_db

URL = "/api/process-definitions/"
ROLES = (
    "process_owner, county_staff, township_staff, village_officer, finance, assessor, provider, "
    "petition_office, auditor"
)
NOT_UTF8 = "the file is not UTF-8 text (it may be saved as GBK or UTF-16): save it as UTF-8"
STREET_LANE = (
    "lane '街道办' maps to no role: name the lane after a role (process_owner 流程管理员, "
    "county_staff 县残联工作人员, township_staff 乡镇残联工作人员, village_officer 村社区专职委员, "
    "finance 县财政局, assessor 评估机构, provider 服务机构, petition_office 信访办, auditor 审计)"
)
DTD_REFUSED = (
    "the file contains a <!DOCTYPE> or <!ENTITY> declaration, which diagrams may not contain "
    "(it can hide an entity bomb or read files on the server); export the diagram again from "
    "the modeler"
)


def fixture(name: str) -> bytes:
    return (BPMN / f"{name}.bpmn").read_bytes()


def written() -> tuple[int, int]:
    return ProcessDefinition.objects.count(), AuditEvent.objects.count()


def upload(client, content: bytes, name: str = "diagram.bpmn"):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the language a user chose
    return client.post(URL, {"file": SimpleUploadedFile(name, content)}, format="multipart")


@pytest.fixture(autouse=True)
def in_english():
    """These tests read the English messages; test_deploy_rules.py reads the Chinese ones."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def only_the_tests_handlers(monkeypatch):
    """The messages list the registered handlers: keep the process pack's out of them."""
    monkeypatch.setattr(extensions, "_handlers", {})


@pytest.fixture(params=["service", "api"])
def refuse(request, owner, api):
    """Deploy through the service or the API; assert it was refused (a 400, never a 500) and
    nothing was written; return the problems as (message, element, line)."""

    def deploy(content: bytes) -> list[tuple[str, str, int | None]]:
        before = written()
        if request.param == "service":
            with pytest.raises(DeploymentRefused) as refused:
                definition_deploy(content=content, user=owner)
            errors = [p.as_dict() for p in refused.value.problems]
        else:
            response = upload(api(owner), content)
            assert response.status_code == 400, response.content
            body = response.json()
            assert body["detail"].startswith("the diagram was not deployed: ")
            errors = body["errors"]
        assert written() == before
        return [(e["message"], e["element"], e["line"]) for e in errors]

    return deploy


# --- Files that are not (safe) diagrams -------------------------------------------------------


def test_a_file_that_is_not_xml_is_refused(refuse):
    not_xml = "name,amount\n张三,1000\n".encode()
    assert refuse(not_xml) == [
        (
            "the file is not well-formed XML: Start tag expected, '<' not found, line 1, column 1",
            "",
            1,
        )
    ]


def test_an_empty_file_is_refused(refuse):
    assert refuse(b"  \n") == [("the file is empty", "", None)]


def test_truncated_xml_is_refused_with_the_line_where_it_breaks(refuse):
    truncated = fixture("service_task")[:600]
    assert refuse(truncated) == [
        (
            "the file is not well-formed XML: Specification mandates value for attribute "
            "sourceRe, line 7, column 40",
            "",
            7,
        )
    ]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <bpmn:process id="p" name="&lol9;" isExecutable="true" />
</bpmn:definitions>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE definitions [ <!ENTITY passwd SYSTEM "file:///etc/passwd"> ]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">
  <bpmn:process id="p" name="&passwd;" isExecutable="true" />
</bpmn:definitions>
"""


@pytest.fixture
def xml_parser_never_runs(monkeypatch):
    def parse(*args, **kwargs):
        raise AssertionError("the XML parser must not see this file")

    monkeypatch.setattr("workflows.engine.parser.etree.fromstring", parse)


@pytest.mark.usefixtures("xml_parser_never_runs")
def test_xml_bomb_is_refused_before_any_entity_is_expanded(refuse):
    started = time.monotonic()
    assert refuse(BILLION_LAUGHS) == [(DTD_REFUSED, "", None)]
    assert time.monotonic() - started < 1


@pytest.mark.usefixtures("xml_parser_never_runs")
def test_xml_bomb_in_utf16_cannot_slip_past_the_check(refuse):
    bomb = BILLION_LAUGHS.replace(b'version="1.0"', b'version="1.0" encoding="UTF-16"')
    assert refuse(bomb.decode().encode("utf-16")) == [(NOT_UTF8, "", None)]


@pytest.mark.usefixtures("xml_parser_never_runs")
def test_an_external_entity_is_refused_and_the_file_it_names_is_never_read(refuse):
    assert refuse(EXTERNAL_ENTITY) == [(DTD_REFUSED, "", None)]


def test_a_diagram_saved_as_gbk_is_refused_instead_of_crashing_the_deploy(refuse):
    gbk = fixture("script_task").replace(b'encoding="UTF-8"', b'encoding="GBK"')
    assert refuse(gbk.decode().encode("gbk")) == [(NOT_UTF8, "", None)]


def test_a_utf8_file_that_declares_another_encoding_is_refused(refuse):
    latin = fixture("script_task").replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    assert refuse(latin) == [('the file declares encoding="ISO-8859-1": save it as UTF-8', "", 1)]


def padded_to(size: int) -> bytes:
    """A valid diagram, made ``size`` bytes long with an XML comment."""
    content = fixture("script_task")
    return content + b"<!--" + b"x" * (size - len(content) - 7) + b"-->"


def test_a_file_over_the_configured_size_limit_is_refused(settings, owner, api):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_BPMN_BYTES": 2_000}
    big = padded_to(2_001)
    before = written()
    with pytest.raises(DeploymentRefused) as refused:
        definition_deploy(content=big, user=owner)
    assert refused.value.problems[0].as_dict() == {
        "message": "the file is 2,001 bytes; the limit is 2,000 bytes",
        "element": "",
        "line": None,
    }
    response = upload(api(owner), big)
    assert (response.status_code, response.json()) == (
        400,
        {
            "detail": "the diagram was not deployed: the file is 2,001 bytes; the limit is 2,000 "
            "bytes",
            "errors": [
                {
                    "message": "the file is 2,001 bytes; the limit is 2,000 bytes",
                    "element": "",
                    "line": None,
                }
            ],
        },
    )
    assert written() == before


def test_a_file_over_the_default_limit_of_5_mb_is_refused(owner, api):
    assert conf.get("MAX_BPMN_BYTES") == 5 * 1024 * 1024
    big = padded_to(5 * 1024 * 1024 + 1)
    before = written()
    with pytest.raises(DeploymentRefused) as refused:
        definition_deploy(content=big, user=owner)
    assert [p.message for p in refused.value.problems] == [
        "the file is 5,242,881 bytes; the limit is 5,242,880 bytes"
    ]
    response = upload(api(owner), big)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "message": "the file is 5,242,881 bytes; the limit is 5,242,880 bytes",
            "element": "",
            "line": None,
        }
    ]
    assert written() == before


def test_a_file_just_under_the_limit_is_read(settings, owner):
    settings.WORKFLOWS = {**settings.WORKFLOWS, "MAX_BPMN_BYTES": 2_000}
    assert definition_deploy(content=padded_to(2_000), user=owner).created


def test_xml_that_is_not_bpmn_is_refused(refuse):
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>\n'
    assert refuse(svg) == [
        (
            "the file is not a BPMN 2.0 diagram: its root element is <svg>, not <bpmn:definitions>",
            "",
            2,
        )
    ]


def test_a_diagram_without_an_executable_process_is_refused(refuse):
    assert refuse(fixture("bad_not_executable")) == [
        (
            "the process is not executable: tick 'Executable' on the process in the modeler "
            '(isExecutable="true")',
            "bad_not_executable",
            3,
        )
    ]


def test_a_diagram_without_any_process_is_refused(refuse):
    empty = b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"/>'
    assert refuse(empty) == [("the diagram contains no process", "", None)]


def test_a_process_id_or_name_too_long_to_store_is_refused(refuse):
    long_id, long_name = "p" * 201, "名" * 301
    content = (
        fixture("script_task")
        .replace(b'id="script_task"', f'id="{long_id}"'.encode())
        .replace("计算补助".encode(), long_name.encode())
    )
    assert refuse(content) == [
        ("the process id is 201 characters long; the limit is 200", long_id, 3),
        ("the process name is 301 characters long; the limit is 300", long_id, 3),
    ]


# --- Who does the work ------------------------------------------------------------------------


def test_a_lane_that_maps_to_no_role_is_refused(refuse):
    assert refuse(fixture("bad_lane_without_role")) == [(STREET_LANE, "check", 13)]


def test_a_candidate_group_that_is_no_role_is_refused(refuse):
    assert refuse(fixture("bad_candidate_group")) == [
        (f"candidate group 'mayor' is not a role (roles: {ROLES})", "check", 6)
    ]


def test_a_user_task_nobody_can_do_is_refused(refuse):
    assert refuse(fixture("bad_task_for_nobody")) == [
        (
            "nobody can do this task: put it in a lane or give it candidate groups, candidate "
            "users or an assignee",
            "check",
            6,
        )
    ]


def test_an_element_id_with_a_quote_is_checked_like_any_other(refuse):
    quoted = fixture("bad_task_for_nobody").replace(b'"check"', b'"check\'s"')
    assert [(element, line) for _, element, line in refuse(quoted)] == [("check's", 6)]


# --- Handlers, code, forms and called processes -----------------------------------------------


def test_a_service_task_without_a_registered_handler_is_refused(refuse, test_handler):
    assert refuse(fixture("bad_service_unregistered")) == [
        (
            "service task handler 'send_sms' is not registered (registered handlers: test_lookup)",
            "notify",
            6,
        )
    ]


def test_a_service_task_that_names_no_handler_is_refused(refuse):
    assert refuse(fixture("bad_service_without_topic")) == [
        (
            "this service task names no handler: set its topic (camunda:topic) to a registered "
            "handler (no handlers are registered)",
            "notify",
            6,
        )
    ]


def test_a_script_that_imports_is_refused_at_the_line_of_the_import(refuse):
    assert refuse(fixture("bad_script_import")) == [
        ("script: imports are not allowed", "compute", 8)
    ]


def test_a_script_that_opens_files_is_refused(refuse):
    assert refuse(fixture("bad_script_open")) == [
        ("script: the name 'open' is not allowed", "compute", 8)
    ]


def test_a_condition_that_walks_to_subclasses_is_refused(refuse):
    assert refuse(fixture("bad_condition_escape")) == [
        ("condition: the attribute '__subclasses__' is not allowed", "f_yes", 8)
    ]


def test_a_condition_with_a_syntax_error_is_refused(refuse):
    assert refuse(fixture("bad_condition_syntax")) == [
        ("condition: syntax error: invalid syntax", "f_yes", 8)
    ]


def test_an_unknown_form_key_is_refused(refuse):
    assert refuse(fixture("bad_form_key")) == [("form 'no_such_form' does not exist", "check", 6)]


def test_calling_a_process_that_is_not_deployed_is_refused(refuse):
    assert refuse(fixture("bad_call_undeployed")) == [
        (
            "this call activity calls process 'review_elsewhere', which is not deployed: deploy "
            "the diagram of 'review_elsewhere' first",
            "call_review",
            6,
        )
    ]


def test_every_problem_of_a_diagram_is_listed_top_to_bottom(owner, api):
    before = written()
    response = upload(api(owner), fixture("bad_several_problems"))
    assert response.status_code == 400
    lane = STREET_LANE
    candidate_group = f"candidate group 'mayor' is not a role (roles: {ROLES})"
    form = "form 'no_such_form' does not exist"
    assert response.json() == {
        "detail": f"the diagram was not deployed: {lane}; {candidate_group}; {form}",
        "errors": [
            {"message": lane, "element": "receive", "line": 11},
            {"message": candidate_group, "element": "review", "line": 13},
            {"message": form, "element": "review", "line": 13},
            {
                "message": "condition: the attribute '__subclasses__' is not allowed",
                "element": "f_escape",
                "line": 17,
            },
            {
                "message": "condition: syntax error: invalid syntax",
                "element": "f_broken",
                "line": 20,
            },
            {
                "message": "service task handler 'send_sms' is not registered "
                "(no handlers are registered)",
                "element": "notify",
                "line": 23,
            },
            {"message": "script: imports are not allowed", "element": "compute", "line": 27},
            {
                "message": "this call activity calls process 'review_elsewhere', which is not "
                "deployed: deploy the diagram of 'review_elsewhere' first",
                "element": "call_review",
                "line": 30,
            },
        ],
    }
    assert written() == before


# --- Versions ---------------------------------------------------------------------------------


def deployed_events() -> int:
    return AuditEvent.objects.filter(kind=AuditKind.DEFINITION_DEPLOYED).count()


def test_deploying_the_same_content_twice_creates_nothing(owner, api):
    first = upload(api(owner), fixture("lanes_and_gateway"))
    assert (first.status_code, first.json()) == (
        201,
        {"key": "lanes_and_gateway", "version": 1, "created": True, "warnings": []},
    )
    before = written()
    again = upload(api(owner), fixture("lanes_and_gateway"), name="renamed.bpmn")
    assert (again.status_code, again.json()) == (
        200,
        {"key": "lanes_and_gateway", "version": 1, "created": False, "warnings": []},
    )
    service = definition_deploy(content=fixture("lanes_and_gateway"), user=owner)
    assert (service.created, service.definition.version) == (False, 1)
    assert written() == before
    assert deployed_events() == 1


def test_changed_content_becomes_version_2(owner):
    v1 = definition_deploy(content=fixture("lanes_and_gateway"), user=owner)
    changed = fixture("lanes_and_gateway").replace("县级复核".encode(), "县级复核（新）".encode())
    v2 = definition_deploy(content=changed, user=owner)
    assert (v2.created, v2.definition.key, v2.definition.version) == (True, "lanes_and_gateway", 2)
    assert v2.definition.sha256 != v1.definition.sha256
    assert deployed_events() == 2


def test_a_running_instance_stays_on_version_1_while_new_ones_start_on_version_2(owner, township_a):
    definition_deploy(content=fixture("lanes_and_gateway"), user=owner)
    old = instance_start(process_key="lanes_and_gateway", user=township_a)
    changed = fixture("lanes_and_gateway").replace("两级审核".encode(), "两级审核（新）".encode())
    assert definition_deploy(content=changed, user=owner).definition.version == 2

    new = instance_start(process_key="lanes_and_gateway", user=township_a)
    old.refresh_from_db()
    assert (old.definition.version, new.definition.version) == (1, 2)

    [task] = old.human_tasks.filter(state=HumanTaskState.OPEN)
    task_complete(task_id=task.pk, user=township_a, data={"approved": False})
    old.refresh_from_db()
    assert (old.definition.version, old.state) == (1, "completed")
    assert old.scope == new.scope == TOWNSHIP_A


# --- Who may deploy, and the list -------------------------------------------------------------


def test_only_process_owners_may_deploy(api, county_clerk):
    before = written()
    response = upload(api(county_clerk), fixture("lanes_and_gateway"))
    assert (response.status_code, response.json()) == (
        403,
        {"detail": "only process owners may deploy diagrams"},
    )
    with pytest.raises(NotAllowed, match="only process owners may deploy diagrams"):
        definition_deploy(content=fixture("lanes_and_gateway"), user=county_clerk)
    assert written() == before


def test_an_upload_without_a_file_is_refused(api, owner):
    response = api(owner).post(URL, {"diagram": "x"}, format="multipart")
    assert (response.status_code, response.json()) == (
        400,
        {
            "detail": "请以 multipart 字段“file”上传流程图。",
            "errors": [{"field": "file", "message": "没有收到文件。"}],
        },
    )


def test_the_list_shows_key_version_and_name_of_every_version(api, owner, township_a):
    definition_deploy(content=fixture("lanes_and_gateway"), user=owner)
    v2 = fixture("lanes_and_gateway") + b"<!-- v2 -->\n"
    definition_deploy(content=v2, user=owner)
    definition_deploy(content=fixture("script_task"), user=owner)
    response = api(township_a).get(URL)
    assert response.status_code == 200
    rows = [
        (d["key"], d["version"], d["name"], d["deployed_by"]) for d in response.json()["results"]
    ]
    assert rows == [
        ("lanes_and_gateway", 2, "两级审核", "owner"),
        ("lanes_and_gateway", 1, "两级审核", "owner"),
        ("script_task", 1, "计算补助", "owner"),
    ]

"""What the modeler shows: procedures, versions, and the lists a process owner picks from.

The element templates (Camunda 7 format, read by bpmn-js-element-templates) turn the handler
registry, the role table and the forms into drop-downs, so nobody types a Python name.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from .. import conf, extensions
from ..exceptions import NotAllowed, NotFound
from ..forms import form_name
from ..models import InstanceState, Procedure, ProcessDefinition, ProcessDraft
from ..scopes import resolver
from ..services.access import reads_everything
from ..services.procedures import is_process_owner

SCHEMA = "https://unpkg.com/@camunda/element-templates-json-schema/resources/schema.json"
_LIVE = [InstanceState.RUNNING, InstanceState.WAITING, InstanceState.SUSPENDED, "incident"]


@dataclass(frozen=True)
class ProcedureRow:
    key: str
    name: str
    latest_version: int | None
    live_cases: int
    draft: ProcessDraft | None


def procedure_rows() -> list[ProcedureRow]:
    """Every procedure: deployed ones (and those only drafted so far)."""
    latest = {
        row["key"]: row
        for row in ProcessDefinition.objects.values("key").annotate(
            version=Max("version"),
            live=Count("instances", filter=Q(instances__state__in=_LIVE)),
        )
    }
    names = dict(ProcessDefinition.objects.order_by("key", "version").values_list("key", "name"))
    drafts = {d.procedure.key: d for d in ProcessDraft.objects.select_related("procedure")}
    keys = sorted(set(latest) | set(drafts) | set(Procedure.objects.values_list("key", flat=True)))
    procedures = {p.key: p for p in Procedure.objects.all()}
    rows = []
    for key in keys:
        name = names.get(key) or (procedures[key].name if key in procedures else key)
        info = latest.get(key)
        rows.append(
            ProcedureRow(
                key,
                name,
                info["version"] if info else None,
                info["live"] if info else 0,
                drafts.get(key),
            )
        )
    return rows


def require_version_reader(user) -> None:
    """Process owners and auditors (whoever reads everything) read the deployed versions."""
    if not (is_process_owner(user) or reads_everything(user)):
        raise NotAllowed(_("Only process owners and auditors read the procedures' versions."))


def procedure_versions(key: str, *, user) -> list[ProcessDefinition]:
    """Newest first, with who deployed each and how many live cases it still has (the diagrams
    themselves are not loaded)."""
    require_version_reader(user)
    versions = list(
        ProcessDefinition.objects.filter(key=key)
        .defer("bpmn_xml", "forms", "decisions")
        .select_related("deployed_by")
        .annotate(live_cases=Count("instances", filter=Q(instances__state__in=_LIVE)))
        .order_by("-version")
    )
    if not versions:
        raise NotFound(_("There is no procedure “%(key)s”.") % {"key": key})
    return versions


def procedure_version(key: str, version: int, *, user) -> ProcessDefinition:
    require_version_reader(user)
    definition = ProcessDefinition.objects.filter(key=key, version=version).first()
    if definition is None:
        raise NotFound(
            _("The procedure “%(key)s” has no version %(version)s.")
            % {"key": key, "version": version}
        )
    return definition


def form_choices(extra: list[str] = ()) -> list[tuple[str, str]]:
    """(form key, label) of every form a task can name: ``.form`` files, portal task views,
    and the draft's own forms."""
    names = {p.stem for d in conf.form_dirs() if d.is_dir() for p in d.glob("*.form")}
    names |= {form_name(n) for n in extra}
    choices = [(name, name) for name in sorted(names)]
    choices += [
        (key, f"{label}（专用页面）") for key, label in sorted(extensions.task_views().items())
    ]
    return choices


def element_templates(extra_forms: list[str] = ()) -> list[dict]:
    """Templates applied to every new user task and service task in the modeler."""
    roles = resolver().roles()
    role_choices = [{"name": "按泳道（泳道名称即角色）", "value": ""}] + [
        {"name": f"{label}（{code}）", "value": code} for code, label in roles.items()
    ]
    forms = [{"name": "无表单", "value": ""}] + [
        {"name": label, "value": key} for key, label in form_choices(extra_forms)
    ]
    handlers = [
        {"name": f"{extensions.get_handler(name).label}（{name}）", "value": name}
        for name in extensions.handler_names()
    ]
    user_task = {
        "$schema": SCHEMA,
        "id": "fuzhu.userTask",
        "name": "扶助 人工任务",
        # Unversioned (bpmn-js-element-templates looks these up by id alone) and the default:
        # every new user task takes it.
        "isDefault": True,
        "appliesTo": ["bpmn:UserTask"],
        "properties": [
            {
                "label": "办理角色",
                "description": "谁来办理；留空则按所在泳道的角色",
                "type": "Dropdown",
                "value": "",
                "choices": role_choices,
                "binding": {"type": "property", "name": "camunda:candidateGroups"},
            },
            {
                "label": "表单",
                "type": "Dropdown",
                "value": "",
                "choices": forms,
                "binding": {"type": "property", "name": "camunda:formKey"},
            },
            {
                "label": "办理期限",
                "description": "ISO 8601 期间，如 P5D（5 天）、PT48H（48 小时）；可留空",
                "type": "String",
                "optional": True,
                "binding": {"type": "property", "name": "camunda:dueDate"},
            },
        ],
    }
    service_task = {
        "$schema": SCHEMA,
        "id": "fuzhu.serviceTask",
        "name": "扶助 自动任务",
        "isDefault": True,
        "appliesTo": ["bpmn:ServiceTask"],
        "properties": [
            {
                "type": "Hidden",
                "value": "external",
                "binding": {"type": "property", "name": "camunda:type"},
            },
            {
                "label": "执行的功能",
                "type": "Dropdown",
                "value": handlers[0]["value"] if handlers else "",
                "choices": handlers or [{"name": "（未注册任何功能）", "value": ""}],
                "binding": {"type": "property", "name": "camunda:topic"},
            },
        ],
    }
    return [user_task, service_task]

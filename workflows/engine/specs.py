"""Task specs that keep what SpiffWorkflow's Camunda parser drops, and their serializers.

SpiffWorkflow 3.2 keeps a user task's lane but not ``camunda:candidateGroups``, ``assignee``,
``candidateUsers``, ``dueDate``, ``followUpDate`` or (without form fields) a usable form key.
``Assignment`` carries them, unevaluated, on the spec; the runtime evaluates them per task.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.camunda.serializer.task_spec import UserTaskConverter
from SpiffWorkflow.camunda.specs.user_task import UserTask


@dataclass
class Assignment:
    """The Camunda 7 assignment attributes of a user task, as written in the diagram."""

    candidate_groups: str = ""
    candidate_users: str = ""
    assignee: str = ""
    due_date: str = ""
    follow_up_date: str = ""
    form_key: str = ""
    priority: str = ""
    scope: str = ""
    lane_id: str = ""
    extra: dict = field(default_factory=dict)


class AssignedUserTask(UserTask):
    """A user task that remembers who should do it and by when."""

    def __init__(self, wf_spec, bpmn_id, form, assignment: Assignment | None = None, **kwargs):
        super().__init__(wf_spec, bpmn_id, form, **kwargs)
        self.assignment = assignment or Assignment()


class HandlerServiceTask(ServiceTask):
    """A service task that runs a registered Python handler, named by ``camunda:topic``."""

    def __init__(self, wf_spec, bpmn_id, topic: str = "", asynchronous: bool = False, **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.asynchronous = asynchronous
        # A manual task waits in READY until the host runs it: here, when its job has finished.
        self.manual = asynchronous

    def _execute(self, task):
        if self.asynchronous:
            result = task.internal_data.pop("job_result", None)
        else:
            # The host installs the handler runner on the script engine (see runtime.py).
            result = task.workflow.script_engine.run_handler(task, self.topic)
        if result:
            task.data.update(result)
        return True


class AssignedUserTaskConverter(UserTaskConverter):
    def to_dict(self, spec):
        dct = super().to_dict(spec)
        dct["assignment"] = asdict(spec.assignment)
        return dct

    def from_dict(self, dct):
        dct["assignment"] = Assignment(**dct.get("assignment", {}))
        return super().from_dict(dct)


class HandlerServiceTaskConverter(TaskSpecConverter):
    def to_dict(self, spec):
        dct = self.get_default_attributes(spec)
        dct["topic"] = spec.topic
        dct["asynchronous"] = spec.asynchronous
        return dct

    def from_dict(self, dct):
        return self.task_spec_from_dict(dct)

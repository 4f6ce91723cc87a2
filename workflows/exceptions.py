"""What services raise; every door (API, portal, commands) maps them to the same answer."""

from __future__ import annotations

from dataclasses import dataclass, field


class WorkflowError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(WorkflowError):
    """Bad input; ``fields`` maps a field name to its messages."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.fields = fields or {}


class NotAllowed(WorkflowError):
    status = 403


class NotFound(WorkflowError):
    status = 404


class Conflict(WorkflowError):
    status = 409


class IncidentRaised(Conflict):
    """The engine failed while applying the request; the instance is now in ``incident``."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram: what, on which element, at which line. ``decision``:
    the problem is in that decision table (element and line are the DMN file's)."""

    message: str
    element: str = ""
    line: int | None = None
    decision: str = ""

    def as_dict(self) -> dict:
        found = {"message": self.message, "element": self.element, "line": self.line}
        return found | ({"decision": self.decision} if self.decision else {})


@dataclass
class DeploymentRefused(WorkflowError):
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        from django.utils.translation import gettext as _

        summary = "; ".join(p.message for p in self.problems[:3])
        super().__init__(_("the diagram was not deployed: %(summary)s") % {"summary": summary})

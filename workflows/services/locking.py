"""Taking an instance for a write: every service that changes a case starts here."""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..exceptions import NotFound
from ..models import ProcessInstance


def lock_instance(instance_id: int) -> ProcessInstance:
    """The instance row, locked for this transaction (a second writer waits, then re-reads)."""
    try:
        return (
            ProcessInstance.objects.select_for_update(of=("self",))
            .select_related("definition")
            .defer("definition__bpmn_xml")
            .get(pk=instance_id)
        )
    except ProcessInstance.DoesNotExist:
        raise NotFound(_("Case %(id)s does not exist.") % {"id": instance_id}) from None

"""The portal's actions in the REST API: drafts, documents, the start catalog, case search,
inbox counts, diagrams and where cases wait. Each view parses, calls a service or selector,
renders; the rules are the services'."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import conf
from ..exceptions import InvalidInput, NotAllowed, NotFound
from ..models import (
    HumanTask,
    HumanTaskState,
    InstanceState,
    ProcessDefinition,
    ProcessInstance,
)
from ..selectors.inbox import DUE_STATES, SEARCH_VARIABLES, inbox_counts
from ..selectors.instances import instance_for_user, instances_visible_to
from ..services.access import user_has_role
from ..services.documents import document_attach, document_for_user, documents_of
from ..services.starting import startable_definitions
from ..services.tasks import task_save_draft
from . import serializers as s


def query_param(request, name: str) -> str | None:
    """A query parameter as text; NUL characters (which no database column can hold) are
    refused as bad input instead of failing in the database."""
    value = request.query_params.get(name)
    if value is not None and "\x00" in value:
        message = _("%(name)s contains a NUL character.") % {"name": name}
        raise InvalidInput(message, {name: [message]})
    return value


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    instance_id = serializers.IntegerField()
    task_id = serializers.IntegerField(allow_null=True)
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    uploaded_at = serializers.DateTimeField()


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    task = serializers.IntegerField(required=False)


class StartableSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    name = serializers.CharField()
    org_units = serializers.ListField(child=serializers.CharField())


class TaskDraftView(APIView):
    """Keep entered data on a task without completing it."""

    @extend_schema(request=s.CompleteInputSerializer, responses=s.TaskSerializer)
    def post(self, request, pk: int):
        if not isinstance(request.data, dict):
            raise InvalidInput(_("The request body must be a JSON object."))
        task = task_save_draft(task_id=pk, user=request.user, data=request.data.get("data", {}))
        return Response(s.TaskSerializer(task).data)


class TaskCountsView(APIView):
    """``{mine, claimable}``: the two counts of the inbox's tabs."""

    @extend_schema(
        responses=inline_serializer(
            "TaskCounts",
            {"mine": serializers.IntegerField(), "claimable": serializers.IntegerField()},
        )
    )
    def get(self, request):
        return Response(inbox_counts(user=request.user))


class StartableView(APIView):
    """The latest version of each procedure the caller may start, and where."""

    @extend_schema(responses=StartableSerializer(many=True))
    def get(self, request):
        rows = [
            {"key": d.key, "version": d.version, "name": d.name, "org_units": scopes}
            for d, scopes in startable_definitions(request.user)
        ]
        return Response(rows)


class DefinitionXmlView(APIView):
    """A deployed version's BPMN XML (for bpmn-js)."""

    @extend_schema(responses={(200, "application/xml"): OpenApiTypes.STR})
    def get(self, request, pk: int):
        definition = ProcessDefinition.objects.filter(pk=pk).only("bpmn_xml").first()
        if definition is None:
            raise NotFound(_("Diagram version %(id)s does not exist.") % {"id": pk})
        return HttpResponse(definition.bpmn_xml, content_type="application/xml; charset=utf-8")


class DefinitionStatisticsView(APIView):
    """How many live cases wait at each step of a procedure (all versions); process owners."""

    @extend_schema(
        responses=inline_serializer(
            "WaitingCounts",
            {
                "key": serializers.CharField(),
                "waiting": serializers.DictField(child=serializers.IntegerField()),
                "incidents": serializers.DictField(child=serializers.IntegerField()),
            },
        )
    )
    def get(self, request, key: str):
        if not user_has_role(request.user, conf.get("OPERATOR_ROLE")):
            raise NotAllowed(_("Only process owners may see these figures."))
        waiting = dict(
            HumanTask.objects.filter(process_key=key, state=HumanTaskState.OPEN)
            .values_list("element_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        incidents = dict(
            ProcessInstance.objects.filter(definition__key=key, state=InstanceState.INCIDENT)
            .values_list("incident_element")
            .annotate(n=Count("id"))
            .order_by()
        )
        return Response({"key": key, "waiting": waiting, "incidents": incidents})


class InstanceSearchView(generics.ListAPIView):
    """Cases the caller may read: ``?q=`` (business key, applicant name or ID),
    ``?process_key=``, ``?state=``. Newest first, paginated."""

    serializer_class = s.InstanceSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("process_key", str),
            OpenApiParameter("state", str, enum=[c for c, _ in InstanceState.choices]),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        user, request = self.request.user, self.request
        params = {n: query_param(request, n) for n in ("q", "process_key", "state")}
        instances = ProcessInstance.objects.filter(
            pk__in=instances_visible_to(user=user).values("pk")
        )
        query = (params.get("q") or "").strip()
        if query:
            match = Q(business_key__icontains=query)
            for name in SEARCH_VARIABLES:
                match |= Q(**{f"variables__{name}__icontains": query})
            instances = instances.filter(match)
        if params.get("process_key"):
            instances = instances.filter(definition__key=params["process_key"])
        if params.get("state") in InstanceState.values:
            instances = instances.filter(state=params["state"])
        return (
            instances.select_related("definition")
            .defer("serialized_state", "definition__bpmn_xml")
            .order_by("-created_at", "-pk")
        )


class InstanceDocumentsView(APIView):
    """A case's documents (GET), or attach one (multipart ``file``, optional ``task``)."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=AttachmentSerializer(many=True))
    def get(self, request, pk: int):
        instance = instance_for_user(instance_id=pk, user=request.user)
        return Response(AttachmentSerializer(documents_of(instance), many=True).data)

    @extend_schema(request=UploadSerializer, responses={201: AttachmentSerializer})
    def post(self, request, pk: int):
        task = request.data.get("task")
        if task not in (None, "") and not str(task).isdigit():
            message = _("task must be a task number.")
            raise InvalidInput(message, {"task": [message]})
        attachment = document_attach(
            instance_id=pk,
            user=request.user,
            upload=request.FILES.get("file"),
            task_id=int(task) if task not in (None, "") else None,
        )
        return Response(AttachmentSerializer(attachment).data, status=201)


class DocumentView(APIView):
    """The document's bytes (its checksum in ``X-Checksum-SHA256``)."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        attachment = document_for_user(attachment_id=pk, user=request.user)
        response = FileResponse(
            attachment.file.open("rb"),
            content_type=attachment.content_type,
            filename=attachment.filename,
        )
        response["X-Checksum-SHA256"] = attachment.sha256
        return response


DUE_PARAMETERS = [
    OpenApiParameter("element_id", str),
    OpenApiParameter("org_unit", str),
    OpenApiParameter("due", str, enum=list(DUE_STATES)),
    OpenApiParameter("q", str),
    OpenApiParameter("order", str, enum=["due", "age"]),
]

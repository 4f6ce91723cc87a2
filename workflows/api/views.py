"""The REST API (its calls: docs/architecture.md). Each view parses input, calls one service or
selector, renders."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ..conf import get as setting
from ..exceptions import DeploymentRefused, InvalidInput, Problem
from ..models import ProcessDefinition
from ..selectors.history import instance_history
from ..selectors.inbox import inbox_for_user
from ..selectors.instances import active_tasks, instance_for_audit, instance_for_user
from ..services import instances as instance_services
from ..services import tasks as task_services
from ..services.audit import audit_export, instance_stream
from ..services.decisions import uploaded_decisions
from ..services.definitions import definition_deploy
from ..services.deploy_checks import too_large
from ..services.messages import message_send, signal_broadcast
from . import serializers as s
from .work import DUE_PARAMETERS, query_param


def _parsed(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in serializer.errors.items()}
        raise InvalidInput(
            _("The request is not valid: %(fields)s") % {"fields": "；".join(fields)}, fields
        )
    return serializer.validated_data


class TokenView(ObtainAuthToken):
    """``{username, password}`` → ``{token}``."""


class DefinitionListView(generics.ListAPIView):
    serializer_class = s.DefinitionSerializer
    queryset = ProcessDefinition.objects.select_related("deployed_by").order_by("key", "-version")
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=s.DeployInputSerializer,
        responses={201: s.DeployResultSerializer, 200: s.DeployResultSerializer},
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(
                _("Upload the diagram as the multipart field “file”."),
                {"file": [_("No file was sent.")]},
            )
        limit = setting("MAX_BPMN_BYTES")
        if upload.size > limit:
            # Refused before reading: the same answer the service gives, without the bytes.
            raise DeploymentRefused(problems=[Problem(too_large(upload.size, limit))])
        comment = str(request.data.get("comment") or "")[:500]
        tables = request.FILES.getlist("decisions")
        for table in tables:
            if table.size > limit:
                message = (
                    f"{table.name}: the file is {table.size:,} bytes; the limit is {limit:,} bytes"
                )
                raise DeploymentRefused(problems=[Problem(message)])
        # Decision tables not sent keep the previous version's (else the server's DMN files).
        decisions = uploaded_decisions([(t.name, t.read()) for t in tables])
        deployment = definition_deploy(
            content=upload.read(), user=request.user, comment=comment, decisions=decisions
        )
        body = {
            "key": deployment.definition.key,
            "version": deployment.definition.version,
            "created": deployment.created,
            "warnings": [w.as_dict() for w in deployment.warnings],
        }
        return Response(
            body, status=status.HTTP_201_CREATED if deployment.created else status.HTTP_200_OK
        )


class InstanceStartView(APIView):
    @extend_schema(request=s.StartInputSerializer, responses={201: s.InstanceSerializer})
    def post(self, request):
        if not isinstance(request.data, dict):
            raise InvalidInput(_("The request body must be a JSON object."))
        data = _parsed(s.StartInputSerializer, request)
        instance = instance_services.instance_start(
            process_key=data["process_key"],
            user=request.user,
            business_key=data["business_key"],
            org_unit=data["org_unit"],
            variables=data["variables"],
        )
        return Response(s.InstanceSerializer(instance).data, status=status.HTTP_201_CREATED)


class InstanceDetailView(APIView):
    @extend_schema(responses=s.InstanceDetailSerializer)
    def get(self, request, pk: int):
        instance = instance_for_user(instance_id=pk, user=request.user)
        instance.active_tasks = active_tasks(instance)
        return Response(s.InstanceDetailSerializer(instance).data)


class InstanceHistoryView(APIView):
    @extend_schema(responses=s.AuditEventSerializer(many=True))
    def get(self, request, pk: int):
        instance = instance_for_user(instance_id=pk, user=request.user)
        return Response(s.AuditEventSerializer(instance_history(instance=instance), many=True).data)


class InstanceHistoryExportView(APIView):
    """The case's audit chain as JSON with its hashes, to verify outside Fuzhu
    (tools/verify_audit_export.py)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        instance = instance_for_audit(instance_id=pk, user=request.user)
        export = audit_export(stream=instance_stream(instance.pk))
        response = Response(export)
        response["Content-Disposition"] = f'attachment; filename="case-{pk}-history.json"'
        return response


class _InstanceOperationView(APIView):
    operation = None

    @extend_schema(request=s.ReasonInputSerializer, responses=s.InstanceSerializer)
    def post(self, request, pk: int):
        data = _parsed(s.ReasonInputSerializer, request)
        instance = self.run(pk, request.user, data["reason"])
        return Response(s.InstanceSerializer(instance).data)


class InstanceSuspendView(_InstanceOperationView):
    def run(self, pk, user, reason):
        return instance_services.instance_suspend(instance_id=pk, user=user, reason=reason)


class InstanceResumeView(_InstanceOperationView):
    def run(self, pk, user, reason):
        return instance_services.instance_resume(instance_id=pk, user=user)


class InstanceRetryView(_InstanceOperationView):
    def run(self, pk, user, reason):
        return instance_services.instance_retry(instance_id=pk, user=user)


class InstanceTerminateView(_InstanceOperationView):
    def run(self, pk, user, reason):
        return instance_services.instance_terminate(instance_id=pk, user=user, reason=reason)


class TaskListView(generics.ListAPIView):
    serializer_class = s.TaskSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("assigned", str, enum=["me"]),
            OpenApiParameter("process_key", str),
            OpenApiParameter("state", str, enum=["open", "claimed", "unclaimed"]),
            *DUE_PARAMETERS,
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        names = ("assigned", "process_key", "state", "element_id", "org_unit", "due", "q", "order")
        params = {name: query_param(self.request, name) for name in names}
        return inbox_for_user(
            user=self.request.user,
            assigned=params.get("assigned"),
            process_key=params.get("process_key"),
            state=params.get("state"),
            element_id=params.get("element_id"),
            org_unit=params.get("org_unit"),
            due=params.get("due"),
            search=params.get("q"),
            order=params.get("order") or "due",
        )


class TaskDetailView(APIView):
    @extend_schema(responses=s.TaskSerializer)
    def get(self, request, pk: int):
        task = get_object_or_404(inbox_for_user(user=request.user), pk=pk)
        return Response(s.TaskSerializer(task).data)


class TaskClaimView(APIView):
    @extend_schema(request=None, responses=s.TaskSerializer)
    def post(self, request, pk: int):
        return Response(
            s.TaskSerializer(task_services.task_claim(task_id=pk, user=request.user)).data
        )


class TaskUnclaimView(APIView):
    @extend_schema(request=None, responses=s.TaskSerializer)
    def post(self, request, pk: int):
        return Response(
            s.TaskSerializer(task_services.task_unclaim(task_id=pk, user=request.user)).data
        )


class TaskCompleteView(APIView):
    @extend_schema(request=s.CompleteInputSerializer, responses=s.TaskSerializer)
    def post(self, request, pk: int):
        if not isinstance(request.data, dict):
            raise InvalidInput(
                _("The request body must be a JSON object."),
                {"data": [_("%(name)s must be a JSON object.") % {"name": "data"}]},
            )
        task = task_services.task_complete(
            task_id=pk, user=request.user, data=request.data.get("data", {})
        )
        return Response(s.TaskSerializer(task).data)


class MessageView(APIView):
    """Deliver a message to the waiting instance(s), or start a procedure that starts with it."""

    @extend_schema(request=s.MessageInputSerializer, responses=s.DeliveryResultSerializer)
    def post(self, request):
        data = _parsed(s.MessageInputSerializer, request)
        delivery = message_send(
            name=data["name"],
            correlation_key=data["correlation_key"],
            payload=data["payload"],
            user=request.user,
        )
        body = {"delivered_to": delivery.delivered_to, "started": delivery.started}
        return Response(body, status=status.HTTP_200_OK)


class SignalView(APIView):
    """Broadcast a signal to every instance waiting for it."""

    @extend_schema(request=s.SignalInputSerializer, responses=s.DeliveryResultSerializer)
    def post(self, request):
        data = _parsed(s.SignalInputSerializer, request)
        delivery = signal_broadcast(name=data["name"], payload=data["payload"], user=request.user)
        return Response({"delivered_to": delivery.delivered_to, "started": []})

"""Shapes of the API's JSON. Input parsing only; rules live in the services."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import extensions
from ..models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance


class DefinitionSerializer(serializers.ModelSerializer):
    deployed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ProcessDefinition
        fields = [
            "id",
            "key",
            "version",
            "name",
            "sha256",
            "deployed_by",
            "deployed_at",
            "comment",
        ]


class DeployInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=500)
    # The .dmn decision tables the diagram names (any number; one decision per file). A table
    # not sent is deployed as the previous version has it, else from the server's DMN_DIRS.
    decisions = serializers.ListField(child=serializers.FileField(), required=False)


class ProblemSerializer(serializers.Serializer):
    message = serializers.CharField()
    element = serializers.CharField(allow_blank=True)
    line = serializers.IntegerField(allow_null=True)


class DeployResultSerializer(serializers.Serializer):
    key = serializers.CharField()
    version = serializers.IntegerField()
    created = serializers.BooleanField()
    warnings = ProblemSerializer(many=True, help_text="what the modeling rules only warn about")


class StartInputSerializer(serializers.Serializer):
    process_key = serializers.CharField()
    business_key = serializers.CharField(required=False, allow_blank=True, default="")
    org_unit = serializers.CharField(required=False, allow_null=True, default=None)
    variables = serializers.JSONField(required=False, default=dict)


class TaskSerializer(serializers.ModelSerializer):
    instance_id = serializers.IntegerField(read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    business_key = serializers.CharField(source="instance.business_key", read_only=True)

    class Meta:
        model = HumanTask
        fields = [
            "id",
            "instance_id",
            "process_key",
            "business_key",
            "element_id",
            "name",
            "lane",
            "candidate_roles",
            "candidate_users",
            "assignee",
            "scope",
            "due_at",
            "follow_up_at",
            "form_key",
            "state",
            "created_at",
            "claimed_at",
            "completed_at",
        ]


class InstanceSerializer(serializers.ModelSerializer):
    process_key = serializers.CharField(source="definition.key", read_only=True)
    version = serializers.IntegerField(source="definition.version", read_only=True)

    class Meta:
        model = ProcessInstance
        fields = ["id", "state", "process_key", "version", "business_key", "scope", "created_at"]


class InstanceDetailSerializer(InstanceSerializer):
    active_tasks = TaskSerializer(many=True, read_only=True)
    variables = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_variables(self, instance: ProcessInstance) -> dict:
        """As the case page shows them (personal numbers masked, when a masker is registered)."""
        return extensions.shown_data(dict(instance.variables or {}))

    class Meta(InstanceSerializer.Meta):
        fields = [
            *InstanceSerializer.Meta.fields,
            "variables",
            "active_tasks",
            "incident_message",
            "incident_element",
            "end_reason",
            "updated_at",
            "ended_at",
        ]


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "sequence",
            "created_at",
            "actor",
            "kind",
            "task_id",
            "element_id",
            "payload",
            "previous_hash",
            "hash",
        ]


class CompleteInputSerializer(serializers.Serializer):
    data = serializers.JSONField(required=False, default=dict)


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class MessageInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    correlation_key = serializers.CharField(required=False, allow_blank=True, default="")
    payload = serializers.JSONField(required=False, default=dict)


class SignalInputSerializer(serializers.Serializer):
    name = serializers.CharField()
    payload = serializers.JSONField(required=False, default=dict)


class DeliveryResultSerializer(serializers.Serializer):
    delivered_to = serializers.ListField(child=serializers.IntegerField())
    started = serializers.ListField(child=serializers.IntegerField())

from django.contrib import admin

from .models import AuditEvent, HumanTask, ProcessDefinition, ProcessInstance, RoleGrant


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    list_display = ["key", "version", "name", "deployed_by", "deployed_at"]
    list_filter = ["key"]
    readonly_fields = [f.name for f in ProcessDefinition._meta.fields]

    def has_add_permission(self, request):
        return False  # deploy through the API, the modeler or deploy_processes: they validate


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(admin.ModelAdmin):
    list_display = ["id", "definition", "business_key", "scope", "state", "created_at"]
    list_filter = ["state", "definition__key"]
    search_fields = ["business_key"]
    readonly_fields = [f.name for f in ProcessInstance._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(HumanTask)
class HumanTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "process_key", "scope", "assignee", "state", "due_at"]
    list_filter = ["state", "process_key"]
    readonly_fields = [f.name for f in HumanTask._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit log is append-only."""

    list_display = ["stream", "sequence", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    search_fields = ["stream", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "scope"]
    list_filter = ["role"]
    search_fields = ["user__username", "scope"]

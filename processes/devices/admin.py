"""The catalogue and the service agreements are kept up in the admin by county staff; the
applications, orders and statements are shown read-only (they change only through the steps)."""

from __future__ import annotations

from django.contrib import admin

from .models import Device, DeviceApplication, ServiceAgreement, SettlementStatement


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "ceiling", "usage_months", "is_active"]
    list_filter = ["category", "is_active"]
    search_fields = ["code", "name"]


@admin.register(ServiceAgreement)
class ServiceAgreementAdmin(admin.ModelAdmin):
    list_display = ["number", "institution", "valid_from", "valid_until", "terminated_on"]
    list_filter = ["valid_until"]
    search_fields = ["number", "institution__name", "institution__code"]
    raw_id_fields = ["institution"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DeviceApplication)
class DeviceApplicationAdmin(ReadOnlyAdmin):
    list_display = ["number", "person", "state", "subsidy_granted", "service_institution"]
    list_filter = ["state", "is_child"]
    search_fields = ["number", "person__name"]


@admin.register(SettlementStatement)
class SettlementStatementAdmin(ReadOnlyAdmin):
    list_display = ["number", "institution", "period", "line_count", "subsidy_total"]

"""Admin screens: org units and memberships are maintained here (through the services, so the
guardian permissions and the audit chain follow); persons and certificates are shown masked."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from workflows import conf as workflows_conf
from workflows.exceptions import InvalidInput

from .models import (
    Certificate,
    ImportBatch,
    Membership,
    OrgUnit,
    Person,
    RegistryEvent,
)
from .services.memberships import membership_check, membership_grant, membership_revoke
from .services.org_units import org_unit_create, org_unit_update, org_unit_validate


class OrgUnitForm(forms.ModelForm):
    parent_code = forms.CharField(
        label="上级代码（机构）",
        required=False,
        help_text="机构所服务的县（区）代码；区划单位由代码推定",
    )

    class Meta:
        model = OrgUnit
        fields = ["code", "name", "kind", "is_active"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not self.errors:
            try:
                org_unit_validate(
                    code=(data.get("code") or "").strip().upper(),
                    name=(data.get("name") or "").strip(),
                    kind=data.get("kind") or "",
                    parent_code=data.get("parent_code") or "",
                )
            except InvalidInput as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(OrgUnit)
class OrgUnitAdmin(GuardedModelAdmin):
    form = OrgUnitForm
    list_display = ["code", "name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    ordering = ["path"]

    def get_readonly_fields(self, request, obj=None):
        return ["code", "kind", "path", "parent"] if obj else ["path", "parent"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            org_unit_update(
                unit=obj, user=request.user, name=data["name"], is_active=data["is_active"]
            )
            return
        created = org_unit_create(
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            parent_code=data.get("parent_code", ""),
            user=request.user,
        )
        obj.pk, obj.path, obj.parent = created.pk, created.path, created.parent
        obj._state.adding = False


class MembershipForm(forms.ModelForm):
    role = forms.ChoiceField(label="角色", choices=())

    class Meta:
        model = Membership
        fields = ["user", "role", "org_unit"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = list(workflows_conf.get("ROLES").items())

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                membership_check(role=data["role"], org_unit=data.get("org_unit"))
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "role", "org_unit", "granted_by", "granted_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "org_unit__code", "org_unit__name"]
    autocomplete_fields = ["org_unit"]

    def has_change_permission(self, request, obj=None):
        return False  # revoke and grant anew: a membership is a fact with a date

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        membership_grant(
            user=data["user"], role=data["role"], org_unit=data["org_unit"], granted_by=request.user
        )
        saved = Membership.objects.get(
            user=data["user"], role=data["role"], org_unit=data["org_unit"]
        )
        obj.pk, obj._state.adding = saved.pk, False

    def delete_model(self, request, obj):
        membership_revoke(membership=obj, revoked_by=request.user)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            membership_revoke(membership=membership, revoked_by=request.user)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["name", "masked_citizen_id", "sex", "birth_date", "household_unit"]
    list_filter = ["low_income_status", "life_status"]
    search_fields = ["name"]
    exclude = ["citizen_id"]
    readonly_fields = ["masked_citizen_id"]
    list_select_related = ["household_unit"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["masked_number", "category", "grade", "issued_on", "valid_until", "status"]
    list_filter = ["status", "category", "grade"]
    exclude = ["number"]
    readonly_fields = ["masked_number"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "uploaded_by", "uploaded_at", "state", "rows_read", "rows_invalid"]
    list_filter = ["state"]


@admin.register(RegistryEvent)
class RegistryEventAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "created_at", "actor", "kind", "subject"]
    list_filter = ["kind"]

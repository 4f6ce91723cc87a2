"""What the registry API shows. Citizen IDs, certificate numbers and card numbers go out
masked; the full numbers only come from the audited ``reveal`` call."""

from __future__ import annotations

from rest_framework import serializers

from ..masking import CERTIFICATE, CITIZEN_ID, mask, mask_data
from ..models import (
    CardKind,
    CardStatus,
    Certificate,
    ImportBatch,
    ImportRow,
    LowIncomeStatus,
    OrgUnit,
    Person,
)


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)
    level = serializers.CharField(read_only=True)

    class Meta:
        model = OrgUnit
        fields = ["code", "name", "kind", "level", "parent", "path", "is_active"]


class UnitRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class CertificateSerializer(serializers.ModelSerializer):
    number = serializers.SerializerMethodField()
    person = serializers.IntegerField(source="person_id")
    category_name = serializers.CharField(source="get_category_display")
    grade_name = serializers.CharField(source="get_grade_display")
    included_categories = serializers.ListField(source="included", child=serializers.IntegerField())

    class Meta:
        model = Certificate
        fields = [
            "id",
            "number",
            "person",
            "category",
            "category_name",
            "grade",
            "grade_name",
            "included_categories",
            "issued_on",
            "valid_until",
            "status",
            "status_reason",
        ]

    def get_number(self, certificate: Certificate) -> str:
        return mask(certificate.number, CERTIFICATE)


class PersonListSerializer(serializers.ModelSerializer):
    citizen_id = serializers.CharField(source="masked_citizen_id")
    household_unit = UnitRefSerializer()
    certificate = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "citizen_id",
            "sex",
            "birth_date",
            "household_unit",
            "low_income_status",
            "life_status",
            "moved_out_on",
            "certificate",
        ]

    def get_certificate(self, person: Person) -> dict | None:
        live = getattr(person, "live_certificates", None)
        if live is None:
            live = list(person.certificates.filter(status__in=["valid", "expiring", "expired"]))
        return CertificateSerializer(live[0]).data if live else None


class PersonDetailSerializer(PersonListSerializer):
    card_account = serializers.SerializerMethodField()
    certificates = serializers.SerializerMethodField()
    phone = serializers.CharField(source="masked_phone", read_only=True)  # in full: reveal

    class Meta(PersonListSerializer.Meta):
        fields = [
            *PersonListSerializer.Meta.fields,
            "phone",
            "low_income_since",
            "low_income_until",
            "publicly_funded",
            "deceased_on",
            "card_account",
            "certificates",
        ]

    def get_card_account(self, person: Person) -> dict | None:
        card = getattr(person, "card_account", None)
        if card is None:
            return None
        return {
            "kind": card.kind,
            "bank_name": card.bank_name,
            "number": card.masked_number,
            "status": card.status,
        }

    def get_certificates(self, person: Person) -> list[dict]:
        return CertificateSerializer(
            person.certificates.order_by("-issued_on", "-pk"), many=True
        ).data


class PersonCreateSerializer(serializers.Serializer):
    citizen_id = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=50)
    household_unit = serializers.CharField(max_length=32, help_text="village/community code")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    low_income_status = serializers.ChoiceField(LowIncomeStatus.choices, required=False)
    low_income_since = serializers.DateField(required=False, allow_null=True)
    low_income_until = serializers.DateField(required=False, allow_null=True)
    publicly_funded = serializers.BooleanField(required=False)


class PersonUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False)
    household_unit = serializers.CharField(max_length=32, required=False)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    low_income_status = serializers.ChoiceField(LowIncomeStatus.choices, required=False)
    low_income_since = serializers.DateField(required=False, allow_null=True)
    low_income_until = serializers.DateField(required=False, allow_null=True)
    publicly_funded = serializers.BooleanField(required=False)
    deceased_on = serializers.DateField(required=False, allow_null=True)
    moved_out_on = serializers.DateField(required=False, allow_null=True)


class RevealedCertificateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class RevealSerializer(serializers.Serializer):
    citizen_id = serializers.CharField()
    card_number = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    certificates = RevealedCertificateSerializer(many=True)


class CardInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(CardKind.choices)
    number = serializers.CharField(max_length=40)
    bank_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(CardStatus.choices, required=False)


class CertificateIssueSerializer(serializers.Serializer):
    category = serializers.IntegerField()
    grade = serializers.IntegerField()
    issued_on = serializers.DateField()
    included_categories = serializers.ListField(child=serializers.IntegerField(), required=False)
    number = serializers.CharField(max_length=24, required=False, allow_blank=True)


class CertificateCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class CertificateRenewSerializer(serializers.Serializer):
    issued_on = serializers.DateField()


class CertificateReissueSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)
    category = serializers.IntegerField(required=False)
    grade = serializers.IntegerField(required=False)
    included_categories = serializers.ListField(child=serializers.IntegerField(), required=False)
    issued_on = serializers.DateField(required=False)


class ImportBatchSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "file_name",
            "file_format",
            "encoding",
            "state",
            "message",
            "percent",
            "rows_read",
            "rows_valid",
            "rows_invalid",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "uploaded_at",
            "checked_at",
            "committed_at",
        ]


class ImportRowSerializer(serializers.ModelSerializer):
    citizen_id = serializers.SerializerMethodField()
    problems = serializers.SerializerMethodField()

    class Meta:
        model = ImportRow
        fields = ["row_number", "citizen_id", "problems", "outcome"]

    def get_citizen_id(self, row: ImportRow) -> str:
        return mask(row.citizen_id, CITIZEN_ID)

    def get_problems(self, row: ImportRow) -> list:
        """The report quotes what the file held: its numbers masked like everywhere else."""
        return mask_data(row.problems or [])


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()

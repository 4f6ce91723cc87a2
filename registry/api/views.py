"""The registry's REST API. Each view parses input, calls one service or selector, renders."""

from __future__ import annotations

import tempfile

from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from workflows.exceptions import InvalidInput, NotFound

from ..models import ImportBatch, ImportRow, ImportRowOutcome, OrgUnit
from ..selectors import exports
from ..selectors.persons import (
    certificate_for_user,
    certificates_for_user,
    person_for_user,
    persons_for_user,
)
from ..services import certificates as certificate_services
from ..services import imports as import_services
from ..services import persons as person_services
from ..services.access import reach_for
from . import serializers as s


def _parsed(serializer_class, request) -> dict:
    if not isinstance(request.data, dict):
        raise InvalidInput(gettext("The request body must be a JSON object."))
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in serializer.errors.items()}
        raise InvalidInput(
            gettext("The request is not valid: %(fields)s") % {"fields": "；".join(fields)}, fields
        )
    return serializer.validated_data


def _unit(code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        message = gettext("No village or community has the code %(code)s.") % {"code": code}
        raise InvalidInput(message, {"household_unit": [message]})
    return unit


class OrgUnitListView(generics.ListAPIView):
    """Org units (not personal data: every signed-in staff member may list them)."""

    serializer_class = s.OrgUnitSerializer

    @extend_schema(parameters=[OpenApiParameter("kind"), OpenApiParameter("parent")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        units = OrgUnit.objects.select_related("parent").order_by("path")
        if kind := self.request.query_params.get("kind"):
            units = units.filter(kind=kind)
        if parent := self.request.query_params.get("parent"):
            units = units.filter(parent__code=parent)
        return units


class PersonListView(generics.ListAPIView):
    serializer_class = s.PersonListSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("search", description="name part, or ID start/end digits"),
            OpenApiParameter("org_unit", description="a unit's code: persons in it and below"),
            OpenApiParameter("category", int),
            OpenApiParameter("low_income_status"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        category = params.get("category")
        return persons_for_user(
            user=self.request.user,
            search=params.get("search", ""),
            org_unit=params.get("org_unit", ""),
            category=int(category) if category and category.isdigit() else None,
            low_income_status=params.get("low_income_status", ""),
        )

    @extend_schema(request=s.PersonCreateSerializer, responses={201: s.PersonDetailSerializer})
    def post(self, request):
        data = _parsed(s.PersonCreateSerializer, request)
        unit = _unit(data.pop("household_unit"))
        person = person_services.person_create(user=request.user, household_unit=unit, **data)
        return Response(s.PersonDetailSerializer(person).data, status=status.HTTP_201_CREATED)


class PersonDetailView(APIView):
    @extend_schema(responses=s.PersonDetailSerializer)
    def get(self, request, pk: int):
        person = person_for_user(user=request.user, pk=pk)
        return Response(s.PersonDetailSerializer(person).data)

    @extend_schema(request=s.PersonUpdateSerializer, responses=s.PersonDetailSerializer)
    def patch(self, request, pk: int):
        reach = reach_for(request.user)
        person = person_for_user(user=request.user, pk=pk, reach=reach)
        data = _parsed(s.PersonUpdateSerializer, request)
        if "household_unit" in data:
            data["household_unit"] = _unit(data["household_unit"])
        person = person_services.person_update(
            user=request.user, person=person, reach=reach, **data
        )
        return Response(s.PersonDetailSerializer(person).data)


class PersonRevealView(APIView):
    """The full citizen ID and card number (for the roles that need them). Recorded."""

    @extend_schema(request=None, responses=s.RevealSerializer)
    def post(self, request, pk: int):
        reach = reach_for(request.user)
        person = person_for_user(user=request.user, pk=pk, reach=reach)
        shown = person_services.person_reveal(user=request.user, person=person, reach=reach)
        return Response(s.RevealSerializer(shown).data)


class PersonCardView(APIView):
    @extend_schema(request=s.CardInputSerializer, responses=s.PersonDetailSerializer)
    def put(self, request, pk: int):
        person = person_for_user(user=request.user, pk=pk)
        data = _parsed(s.CardInputSerializer, request)
        person_services.card_account_set(user=request.user, person=person, **data)
        person = person_for_user(user=request.user, pk=pk)
        return Response(s.PersonDetailSerializer(person).data)


class PersonCertificatesView(APIView):
    @extend_schema(request=s.CertificateIssueSerializer, responses={201: s.CertificateSerializer})
    def post(self, request, pk: int):
        person = person_for_user(user=request.user, pk=pk)
        data = _parsed(s.CertificateIssueSerializer, request)
        certificate = certificate_services.certificate_issue(
            user=request.user, person=person, **data
        )
        return Response(s.CertificateSerializer(certificate).data, status=status.HTTP_201_CREATED)


class CertificateListView(generics.ListAPIView):
    serializer_class = s.CertificateSerializer

    def get_queryset(self):
        certificates = certificates_for_user(user=self.request.user)
        if wanted := self.request.query_params.get("status"):
            certificates = certificates.filter(status=wanted)
        return certificates


class CertificateDetailView(APIView):
    @extend_schema(responses=s.CertificateSerializer)
    def get(self, request, pk: int):
        return Response(
            s.CertificateSerializer(certificate_for_user(user=request.user, pk=pk)).data
        )


class _CertificateAction(APIView):
    input_serializer: type = s.CertificateCancelSerializer

    def act(self, request, certificate, data):  # pragma: no cover - overridden
        raise NotImplementedError

    def post(self, request, pk: int):
        certificate = certificate_for_user(user=request.user, pk=pk)
        data = _parsed(self.input_serializer, request)
        return Response(s.CertificateSerializer(self.act(request, certificate, data)).data)


@extend_schema(request=s.CertificateCancelSerializer, responses=s.CertificateSerializer)
class CertificateCancelView(_CertificateAction):
    input_serializer = s.CertificateCancelSerializer

    def act(self, request, certificate, data):
        return certificate_services.certificate_cancel(
            user=request.user, certificate=certificate, reason=data["reason"]
        )


@extend_schema(request=s.CertificateRenewSerializer, responses=s.CertificateSerializer)
class CertificateRenewView(_CertificateAction):
    input_serializer = s.CertificateRenewSerializer

    def act(self, request, certificate, data):
        return certificate_services.certificate_renew(
            user=request.user, certificate=certificate, issued_on=data["issued_on"]
        )


@extend_schema(request=s.CertificateReissueSerializer, responses=s.CertificateSerializer)
class CertificateReissueView(_CertificateAction):
    input_serializer = s.CertificateReissueSerializer

    def act(self, request, certificate, data):
        return certificate_services.certificate_reissue(
            user=request.user, certificate=certificate, **data
        )


def _batch_for(user, pk: int) -> ImportBatch:
    batch = ImportBatch.objects.filter(pk=pk).first()
    if batch is None or (batch.uploaded_by_id != user.pk and not user.is_superuser):
        raise NotFound(gettext("No such import."))
    return batch


class ImportListView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=s.ImportUploadSerializer, responses={201: s.ImportBatchSerializer})
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(
                gettext("Upload the file as the multipart field “file”."),
                {"file": [gettext("No file was sent.")]},
            )
        batch = import_services.import_batch_create(
            user=request.user, file_name=upload.name, chunks=upload.chunks()
        )
        return Response(s.ImportBatchSerializer(batch).data, status=status.HTTP_201_CREATED)


class ImportDetailView(APIView):
    @extend_schema(responses=s.ImportBatchSerializer)
    def get(self, request, pk: int):
        return Response(s.ImportBatchSerializer(_batch_for(request.user, pk)).data)


class ImportRowsView(generics.ListAPIView):
    """The per-row report (``?problems=1``: only the refused rows)."""

    serializer_class = s.ImportRowSerializer

    def get_queryset(self):
        batch = _batch_for(self.request.user, self.kwargs["pk"])
        rows = ImportRow.objects.filter(batch=batch).order_by("row_number")
        if self.request.query_params.get("problems"):
            rows = rows.filter(outcome=ImportRowOutcome.INVALID)
        return rows


class ImportCommitView(APIView):
    """ "Import all valid rows"; 202 while it runs (poll the batch for progress)."""

    @extend_schema(request=None, responses={202: s.ImportBatchSerializer})
    def post(self, request, pk: int):
        batch = import_services.import_batch_commit(
            user=request.user, batch=_batch_for(request.user, pk)
        )
        return Response(s.ImportBatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class ExportView(APIView):
    """The registry in the import's layout: ``?type=csv`` (default) or ``xlsx``."""

    @extend_schema(
        parameters=[OpenApiParameter("type", enum=["csv", "xlsx"]), OpenApiParameter("org_unit")],
        responses={(200, "text/csv"): bytes},
    )
    def get(self, request):
        wanted = request.query_params.get("type", "csv")
        rows = exports.export_rows(
            user=request.user, org_unit=request.query_params.get("org_unit", "")
        )
        if wanted == "xlsx":
            target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
            exports.xlsx_file(rows, target)
            target.seek(0)
            return FileResponse(target, as_attachment=True, filename="registry.xlsx")
        response = StreamingHttpResponse(exports.csv_chunks(rows), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="registry.csv"'
        return response

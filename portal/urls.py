from django.urls import path

from .views import audit, auth, cases, inbox, modeler, ops, petitions, start, tasks

app_name = "portal"

urlpatterns = [
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("", inbox.inbox, name="home"),
    path("tasks/claim/", inbox.claim_many, name="claim-many"),
    path("tasks/<int:pk>/", tasks.task_page, name="task"),
    path("tasks/<int:pk>/claim/", inbox.claim, name="claim"),
    path("tasks/<int:pk>/unclaim/", inbox.unclaim, name="unclaim"),
    path("tasks/<int:pk>/documents/", tasks.attach, name="task-attach"),
    path("start/", start.catalog, name="start"),
    path("start/<str:key>/", start.start_form, name="start-form"),
    path("cases/", cases.case_search, name="cases"),
    path("cases/<int:pk>/", cases.case_page, name="case"),
    path("cases/<int:pk>/documents/", cases.case_attach, name="case-attach"),
    path("cases/<int:pk>/<str:operation>/", cases.case_operate, name="case-operate"),
    path("documents/<int:pk>/", cases.document_download, name="document"),
    path("definitions/<int:pk>/diagram.bpmn", cases.definition_xml, name="definition-xml"),
    path("petitions/", petitions.petition_list, name="petitions"),
    path(
        "petitions/<int:pk>/<str:kind>/",
        petitions.petition_request,
        name="petition-request",
    ),
    path("audit/", audit.audit_search, name="audit"),
    path("audit/cases/<int:pk>/", audit.case_replay, name="audit-case"),
    path("audit/cases/<int:pk>/history.json", audit.case_history_json, name="audit-case-json"),
    path("audit/cases/<int:pk>/history.pdf", audit.case_history_pdf, name="audit-case-pdf"),
    path("modeler/", modeler.procedure_list, name="modeler-list"),
    path("modeler/<str:key>/", modeler.modeler_page, name="modeler"),
    path("modeler/<str:key>/draft.json", modeler.draft_json, name="modeler-draft"),
    path("modeler/<str:key>/check.json", modeler.check_json, name="modeler-check"),
    path("modeler/<str:key>/deploy.json", modeler.deploy_json, name="modeler-deploy"),
    path("modeler/<str:key>/templates.json", modeler.templates_json, name="modeler-templates"),
    path("modeler/<str:key>/versions/", modeler.version_list, name="modeler-versions"),
    path("modeler/<str:key>/diff/", modeler.version_diff, name="modeler-diff"),
    path("modeler/<str:key>/v<int:version>.bpmn", modeler.version_file, name="modeler-file"),
    path(
        "modeler/<str:key>/v<int:version>/migrate/",
        modeler.version_migrate,
        name="modeler-migrate",
    ),
    path("ops/", ops.overview, name="ops"),
    path("ops/instances/", ops.instance_list, name="ops-instances"),
    path("ops/procedures/<str:key>/", ops.procedure_overlay, name="ops-procedure"),
]

# The medication subsidy's cycle pages (its task pages register themselves as task views).
from .views import medication  # noqa: E402

urlpatterns += [
    path("medication/", medication.cycle_list, name="medication-cycles"),
    path("medication/<int:pk>/", medication.cycle_page, name="medication-cycle"),
    path("medication/<int:pk>/report.xlsx", medication.report_download, name="medication-report"),
    path(
        "medication/templates/<str:layout>.xlsx",
        medication.file_template,
        name="medication-template",
    ),
    path("medication/<int:pk>/entries/", medication.entry_list, name="medication-entries"),
    path("medication/entries/<int:pk>/", medication.entry_page, name="medication-entry"),
    path("medication/batches/<int:pk>/<str:fmt>/", medication.batch_file, name="medication-batch"),
]

# Assistive-device fitting: applications, registration, settlement statements (its task pages
# register themselves as task views).
from .views import devices  # noqa: E402

urlpatterns += [
    path("devices/", devices.application_list, name="device-applications"),
    path("devices/apply/", devices.apply, name="device-apply"),
    path("devices/<int:pk>/", devices.application_page, name="device-application"),
    path("devices/settlements/", devices.statement_list, name="device-statements"),
    path("devices/settlements/<int:pk>.xlsx", devices.statement_file, name="device-statement"),
]

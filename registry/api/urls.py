from django.urls import path

from . import views

urlpatterns = [
    path("org-units/", views.OrgUnitListView.as_view(), name="registry-api-org-units"),
    path("persons/", views.PersonListView.as_view(), name="registry-api-persons"),
    path("persons/<int:pk>/", views.PersonDetailView.as_view(), name="registry-api-person"),
    path("persons/<int:pk>/reveal/", views.PersonRevealView.as_view(), name="registry-api-reveal"),
    path("persons/<int:pk>/card/", views.PersonCardView.as_view(), name="registry-api-card"),
    path(
        "persons/<int:pk>/certificates/",
        views.PersonCertificatesView.as_view(),
        name="registry-api-person-certificates",
    ),
    path("certificates/", views.CertificateListView.as_view(), name="registry-api-certificates"),
    path(
        "certificates/<int:pk>/",
        views.CertificateDetailView.as_view(),
        name="registry-api-certificate",
    ),
    path("certificates/<int:pk>/cancel/", views.CertificateCancelView.as_view()),
    path("certificates/<int:pk>/renew/", views.CertificateRenewView.as_view()),
    path("certificates/<int:pk>/reissue/", views.CertificateReissueView.as_view()),
    path("imports/", views.ImportListView.as_view(), name="registry-api-imports"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="registry-api-import"),
    path("imports/<int:pk>/rows/", views.ImportRowsView.as_view(), name="registry-api-import-rows"),
    path("imports/<int:pk>/commit/", views.ImportCommitView.as_view(), name="registry-api-commit"),
    path("export/", views.ExportView.as_view(), name="registry-api-export"),
]

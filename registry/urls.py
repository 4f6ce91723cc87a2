"""The registry's pages under /registry/ and its API under /api/registry/.

config/urls.py includes this module once: ``path("", include("registry.urls"))``."""

from django.urls import include, path

from . import views

app_name = "registry"

urlpatterns = [
    path("api/registry/", include("registry.api.urls")),
    path("registry/persons/", views.person_list, name="persons"),
    path("registry/persons/<int:pk>/", views.person_detail, name="person"),
    path("registry/imports/", views.import_list, name="imports"),
    path("registry/imports/template.xlsx", views.import_template, name="import-template"),
    path("registry/imports/<int:pk>/", views.import_detail, name="import"),
    path("registry/imports/<int:pk>/commit/", views.import_commit, name="import-commit"),
    path("registry/export/", views.export, name="export"),
    path("registry/reveals/", views.reveal_list, name="reveals"),
]

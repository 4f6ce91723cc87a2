"""The project's URLs plus the registry's (until config/urls.py includes registry.urls)."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

registry_included = any(
    getattr(p, "urlconf_name", None) == "registry.urls"
    or getattr(getattr(p, "urlconf_module", None), "__name__", "") == "registry.urls"
    for p in project_urlpatterns
)
urlpatterns = list(project_urlpatterns)
if not registry_included:
    urlpatterns.insert(0, path("", include("registry.urls")))

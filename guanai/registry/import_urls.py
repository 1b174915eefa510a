"""Roster import and export pages, mounted at ``children/`` before the web app's URLs (no catch-alls here)."""

from django.urls import path

from guanai.registry import import_views

app_name = "registry_io"

urlpatterns = [
    path("import/", import_views.children_import_page, name="import"),
    path("import/<uuid:pk>/errors/", import_views.import_errors, name="import-errors"),
    path("export/", import_views.children_export_view, name="export"),
]

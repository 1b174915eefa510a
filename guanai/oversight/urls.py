from django.urls import path

from guanai.oversight import views

app_name = "oversight"

urlpatterns = [
    # The dashboard has its own path so that the navigation does not highlight it on every oversight page.
    path("", views.dashboard, name="index"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("refresh/", views.refresh, name="refresh"),
    path("annual/", views.annual, name="annual"),
    path("annual/download/", views.annual_download, name="annual-download"),
    path("national/", views.national_export, name="national-export"),
    path("spotchecks/", views.spotchecks, name="spotchecks"),
    path("spotchecks/<int:pk>/", views.spotcheck, name="spotcheck"),
    path("spotchecks/items/<int:pk>/", views.spotcheck_item, name="spotcheck-item"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
    path("milestones/", views.milestones, name="milestones"),
    path("milestones/<int:pk>/evidence/", views.milestone_evidence, name="milestone-evidence"),
]

"""Protection pages, mounted at /protection/."""

from django.urls import path

from guanai.protection import views

app_name = "protection"

urlpatterns = [
    path("", views.index, name="index"),
    path("reports/new/", views.report_new, name="report-new"),
    path("reports/mine/", views.reports_mine, name="mine"),
    path("reports/inbox/", views.inbox, name="inbox"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("routings/<int:pk>/accept/", views.routing_accept, name="routing-accept"),
    path("routings/<int:pk>/transfer/", views.routing_transfer, name="routing-transfer"),
    path("routings/<int:pk>/feedback/", views.routing_feedback, name="routing-feedback"),
    path("regions/", views.regions, name="regions"),
    path("cases/", views.cases, name="cases"),
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/<slug:action>/", views.case_action, name="case-action"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task-complete"),
    path("placements/<int:pk>/end/", views.placement_end, name="placement-end"),
    path("legal/<int:pk>/decide/", views.legal_decide, name="legal-decide"),
    path("legal/<int:pk>/document/", views.legal_document, name="legal-document"),
    path("assess/<int:child_pk>/", views.assessment_new, name="assess"),
    path("assessments/<int:pk>/", views.assessment_detail, name="assessment"),
    path("carer/<int:child_pk>/", views.carer_check, name="carer"),
    path("carer-checks/<int:pk>/action/", views.carer_action, name="carer-action"),
    path("instruments/", views.instruments_admin, name="instruments"),
    path("risk/", views.risk_list, name="risk"),
]

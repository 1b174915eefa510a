"""Protection API, mounted at /api/v1/protection/."""

from django.urls import path

from guanai.protection import api

app_name = "protection_api"

urlpatterns = [
    path("reports/", api.ReportsView.as_view(), name="reports"),
    path("reports/inbox/", api.InboxView.as_view(), name="inbox"),
    path("reports/<int:pk>/", api.ReportDetailView.as_view(), name="report"),
    path("routings/<int:pk>/accept/", api.RoutingAcceptView.as_view(), name="routing-accept"),
    path("routings/<int:pk>/transfer/", api.RoutingTransferView.as_view(), name="routing-transfer"),
    path("routings/<int:pk>/feedback/", api.RoutingFeedbackView.as_view(), name="routing-feedback"),
    path("cases/", api.CasesView.as_view(), name="cases"),
    path("cases/<int:pk>/", api.CaseDetailView.as_view(), name="case"),
    path("cases/<int:pk>/stage/", api.CaseStageView.as_view(), name="case-stage"),
    path("cases/<int:pk>/transfer/", api.CaseTransferView.as_view(), name="case-transfer"),
    path("cases/<int:pk>/notes/", api.CaseNotesView.as_view(), name="case-notes"),
    path("cases/<int:pk>/tasks/", api.CaseTasksView.as_view(), name="case-tasks"),
    path("cases/<int:pk>/close/", api.CaseCloseView.as_view(), name="case-close"),
    path("cases/<int:pk>/close-decision/", api.CaseCloseDecisionView.as_view(), name="case-close-decision"),
    path("cases/<int:pk>/placements/", api.PlacementsView.as_view(), name="case-placements"),
    path("cases/<int:pk>/legal-actions/", api.LegalActionsView.as_view(), name="case-legal"),
    path("tasks/<int:pk>/complete/", api.TaskCompleteView.as_view(), name="task-complete"),
    path("placements/<int:pk>/end/", api.PlacementEndView.as_view(), name="placement-end"),
    path("legal-actions/<int:pk>/decision/", api.LegalDecisionView.as_view(), name="legal-decision"),
    path("instruments/<slug:code>/", api.InstrumentView.as_view(), name="instrument"),
    path("assessments/", api.AssessmentsView.as_view(), name="assessments"),
    path("assessments/<int:pk>/", api.AssessmentDetailView.as_view(), name="assessment"),
    path("carer-checks/", api.CarerChecksView.as_view(), name="carer-checks"),
    path("carer-checks/<int:pk>/actions/", api.CarerActionsView.as_view(), name="carer-actions"),
    path("risk/", api.RiskView.as_view(), name="risk"),
]

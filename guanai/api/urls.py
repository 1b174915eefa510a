from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from guanai.api import views
from guanai.oversight import api as oversight_api
from guanai.visits import api as visits_api

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("v1/me/", views.MeView.as_view(), name="me"),
    path("v1/regions/", views.RegionListView.as_view(), name="regions"),
    path("v1/children/", views.ChildListView.as_view(), name="children"),
    path("v1/children/<int:pk>/", views.ChildDetailView.as_view(), name="child"),
    path("v1/children/<int:pk>/reveal/", views.ChildRevealView.as_view(), name="child-reveal"),
    path("v1/children/<int:pk>/exit/", views.ChildExitView.as_view(), name="child-exit"),
    path("v1/children/<int:pk>/reenter/", views.ChildReenterView.as_view(), name="child-reenter"),
    path("v1/children/<int:pk>/timeline/", views.ChildTimelineView.as_view(), name="child-timeline"),
    path("v1/children/<int:pk>/family/", views.FamilyMemberView.as_view(), name="child-family"),
    path(
        "v1/children/<int:pk>/family/<int:person_pk>/statuses/",
        views.PersonStatusView.as_view(),
        name="person-statuses",
    ),
    path("v1/visits/", visits_api.VisitCreateView.as_view(), name="visits"),
    path("v1/visits/worklist/", visits_api.WorklistView.as_view(), name="worklist"),
    path("v1/visits/completion/", visits_api.CompletionView.as_view(), name="completion"),
    path("v1/oversight/dashboard/", oversight_api.DashboardView.as_view(), name="oversight-dashboard"),
    path("v1/oversight/kpis/", oversight_api.KpiDefinitionsView.as_view(), name="oversight-kpis"),
    path("v1/audit/events/", views.AuditEventListView.as_view(), name="audit-events"),
    path("v1/audit/access/", views.AccessEventListView.as_view(), name="access-events"),
]

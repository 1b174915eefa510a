"""Discovery API, mounted at /api/v1/discovery/."""

from django.urls import path

from guanai.discovery import api

app_name = "discovery_api"

urlpatterns = [
    path("findings/", api.FindingsView.as_view(), name="findings"),
    path("findings/rates/", api.FindingRatesView.as_view(), name="finding-rates"),
    path("findings/<int:pk>/", api.FindingDetailView.as_view(), name="finding"),
    path("findings/<int:pk>/confirm/", api.FindingConfirmView.as_view(), name="finding-confirm"),
    path("findings/<int:pk>/reject/", api.FindingRejectView.as_view(), name="finding-reject"),
    path("review/", api.ReviewQueueView.as_view(), name="review"),
    path("review/<int:pk>/", api.ReviewDecideView.as_view(), name="review-decide"),
]

from django.urls import path

from guanai.discovery import views

app_name = "discovery"

urlpatterns = [
    path("", views.home, name="home"),
    path("batches/<int:pk>/issues.csv", views.batch_issues, name="batch-issues"),
    path("review/", views.review, name="review"),
    path("review/<int:pk>/", views.review_decide, name="review-decide"),
    path("findings/", views.findings, name="findings"),
    path("findings/<int:pk>/", views.finding_detail, name="finding"),
]

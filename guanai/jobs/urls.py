from django.urls import path

from guanai.jobs import views

app_name = "jobs"

urlpatterns = [
    path("", views.job_list, name="list"),
    path("<uuid:pk>/", views.job_detail, name="detail"),
    path("<uuid:pk>/rerun/", views.job_rerun, name="rerun"),
]

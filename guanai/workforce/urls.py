from django.urls import path

from guanai.workforce import views

app_name = "workforce"

urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("staff/new/", views.staff_new, name="staff-new"),
    path("staff/<int:pk>/", views.staff_detail, name="staff"),
    path("trainings/", views.trainings, name="trainings"),
    path("organisations/", views.organisations, name="organisations"),
]

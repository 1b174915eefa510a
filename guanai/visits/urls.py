from django.urls import path

from guanai.visits import views

app_name = "visits"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("new/<int:child_pk>/", views.visit_new, name="new"),
    path("contact/<int:child_pk>/", views.quick_contact, name="contact"),
    path("problems/", views.problems, name="problems"),
    path("problems/<int:pk>/", views.problem_detail, name="problem"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger.xlsx", views.ledger_xlsx, name="ledger-xlsx"),
    path("completion/", views.completion, name="completion"),
    path("worklog/", views.worklog, name="worklog"),
    path("settings/", views.settings_page, name="settings"),
    path("notifications/", views.notifications, name="notifications"),
]

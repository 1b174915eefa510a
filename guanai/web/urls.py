from django.contrib.auth import views as auth_views
from django.urls import path

from guanai.web import views

app_name = "web"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("children/", views.children, name="children"),
    path("children/new/", views.child_new, name="child-new"),
    path("children/<int:pk>/", views.child_detail, name="child"),
    path("children/<int:pk>/edit/", views.child_edit, name="child-edit"),
    path("children/<int:pk>/forms/<str:part>/", views.child_form_part, name="child-form-part"),
    path("children/<int:pk>/exit/", views.child_exit_view, name="child-exit"),
    path("children/<int:pk>/reenter/", views.child_reenter_view, name="child-reenter"),
    path("children/<int:pk>/family/", views.family_add, name="family-add"),
    path("children/<int:pk>/family/<int:person_pk>/status/", views.person_status, name="person-status"),
    path(
        "children/<int:pk>/family/<int:person_pk>/reveal/<str:field>/",
        views.person_reveal_fragment,
        name="person-reveal",
    ),
    path("children/<int:pk>/reveal/", views.child_reveal_fragment, name="child-reveal"),
    path("children/<int:pk>/archive.pdf", views.child_archive_pdf, name="child-pdf"),
    path("children/<int:pk>/archive.xlsx", views.child_archive_xlsx, name="child-xlsx"),
    path("audit/", views.audit, name="audit"),
    path("healthz", views.healthz, name="healthz"),
]

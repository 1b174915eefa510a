from django.contrib.auth import views as auth_views
from django.urls import path

from guanai.web import views

app_name = "web"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("children/", views.children, name="children"),
    path("children/<int:pk>/", views.child_detail, name="child"),
    path("children/<int:pk>/reveal/", views.child_reveal_fragment, name="child-reveal"),
    path("audit/", views.audit, name="audit"),
    path("healthz", views.healthz, name="healthz"),
]

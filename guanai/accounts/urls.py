from django.urls import path

from guanai.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.users, name="users"),
    path("new/", views.user_new, name="user-new"),
    path("<int:pk>/", views.user_detail, name="user"),
    path("<int:pk>/active/", views.user_active, name="user-active"),
    path("<int:pk>/password/", views.user_password, name="user-password"),
]

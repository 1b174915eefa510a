from django.urls import path

app_name = "registry_io"

urlpatterns: list = []

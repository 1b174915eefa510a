from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "guanai.api"
    verbose_name = "接口"

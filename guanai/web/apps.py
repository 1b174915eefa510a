from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "guanai.web"
    verbose_name = "页面"

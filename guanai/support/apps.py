from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "guanai.support"
    verbose_name = "精准帮扶"

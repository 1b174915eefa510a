from django.apps import AppConfig


class WorkforceConfig(AppConfig):
    name = "guanai.workforce"
    verbose_name = "队伍建设"

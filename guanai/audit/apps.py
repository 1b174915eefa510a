from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "guanai.audit"
    verbose_name = "审计"

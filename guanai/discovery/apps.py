from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "guanai.discovery"
    label = "discovery"
    verbose_name = "数据比对与主动发现"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from guanai.discovery import jobs  # noqa: F401 - registers the job kinds

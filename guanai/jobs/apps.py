from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "guanai.jobs"
    verbose_name = "后台任务"

    def ready(self) -> None:
        from guanai.jobs import daily  # noqa: F401  (registers the daily job kinds)

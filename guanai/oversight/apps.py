from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "guanai.oversight"
    verbose_name = "督导评估"

    def ready(self) -> None:
        from guanai.oversight import jobs  # noqa: F401  (registers the job kinds)

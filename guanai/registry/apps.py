from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "guanai.registry"
    verbose_name = "儿童档案"

    def ready(self) -> None:
        # Registers the "children.import" background job kind used by web uploads.
        from guanai.registry import importer  # noqa: F401

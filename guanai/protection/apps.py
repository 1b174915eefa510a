from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "guanai.protection"
    verbose_name = "保护"

    def ready(self) -> None:
        from guanai.protection import jobs  # noqa: F401  (registers the protection.deadlines job kind)
        from guanai.protection.signals import on_facts_changed
        from guanai.registry.signals import facts_changed

        facts_changed.connect(on_facts_changed, dispatch_uid="protection.risk")

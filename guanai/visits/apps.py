from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "guanai.visits"
    verbose_name = "走访"

    def ready(self) -> None:
        from guanai.registry.signals import facts_changed
        from guanai.visits.cadence import on_facts_changed

        facts_changed.connect(on_facts_changed, dispatch_uid="visits.cadence")

from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "guanai.support"
    verbose_name = "精准帮扶"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from guanai.support import jobs  # noqa: F401  (registers the support job kinds)
        from guanai.support.signals import on_visit_saved

        # Visit checklists raise needs without the visits app knowing about support.
        post_save.connect(on_visit_saved, sender="visits.Visit", dispatch_uid="support.visit_needs")

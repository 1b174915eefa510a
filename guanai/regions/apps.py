from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "guanai.regions"
    verbose_name = "行政区划"

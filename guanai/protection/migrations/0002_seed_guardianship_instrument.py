"""Seed the default 家庭监护能力评估 instrument (version 1) from rules/assessment_guardianship_v1.yaml."""

from django.db import migrations


def seed(apps, schema_editor):
    from guanai.protection.seed import seed_default_instrument

    seed_default_instrument(apps.get_model("protection", "Instrument"), apps.get_model("protection", "InstrumentVersion"))


def unseed(apps, schema_editor):
    Instrument = apps.get_model("protection", "Instrument")
    InstrumentVersion = apps.get_model("protection", "InstrumentVersion")
    InstrumentVersion.objects.filter(instrument__code="guardianship", assessments__isnull=True).delete()
    Instrument.objects.filter(code="guardianship", versions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("protection", "0001_protection_initial")]

    operations = [migrations.RunPython(seed, unseed)]

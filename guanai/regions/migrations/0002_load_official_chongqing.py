"""Load the official Chongqing divisions (city, counties, ~1,030 townships) so every database has them."""

from django.db import migrations


def forwards(apps, schema_editor):
    from guanai.regions.services import load_official

    load_official(apps.get_model("regions", "Region"))


def backwards(apps, schema_editor):
    Region = apps.get_model("regions", "Region")
    for level in (5, 4, 3, 2, 1):
        Region.objects.filter(source__in=["official", "historical"], level=level).delete()


class Migration(migrations.Migration):
    dependencies = [("regions", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]

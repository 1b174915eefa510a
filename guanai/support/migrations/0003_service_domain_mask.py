"""Services carry their need domains as bits too, so matching filters by domain in SQL."""

from django.db import migrations, models


def fill(apps, schema_editor):
    from guanai.support.models import domain_mask

    Service = apps.get_model("support", "Service")
    for service in Service.objects.all().only("pk", "domains"):
        Service.objects.filter(pk=service.pk).update(domain_mask=domain_mask(service.domains or []))


class Migration(migrations.Migration):
    dependencies = [("support", "0002_benefit_standards")]

    operations = [
        migrations.AddField(
            model_name="service",
            name="domain_mask",
            field=models.PositiveIntegerField(default=0, verbose_name="需求领域位图"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]

"""Chongqing's benefit standards (DOMAIN.md §4), loaded once; an administrator edits them afterwards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import migrations

# (item, effective from, 元/人/月, source). "–" in DOMAIN.md (not found) carries the last value, so no row.
STANDARDS = [
    ("urban_dibao", dt.date(2024, 8, 1), "750", "渝民发〔2024〕9号"),
    ("urban_dibao", dt.date(2025, 7, 1), "770", "渝民规〔2025〕6号"),
    ("rural_dibao", dt.date(2024, 8, 1), "610", "渝民发〔2024〕9号"),
    ("rural_dibao", dt.date(2025, 7, 1), "630", "渝民规〔2025〕6号"),
    ("tekun", dt.date(2024, 8, 1), "975", "渝民发〔2024〕9号"),
    ("tekun", dt.date(2025, 7, 1), "1001", "渝民规〔2025〕6号"),
    ("orphan_institution", dt.date(2024, 8, 1), "1825", "渝民发〔2024〕9号"),
    ("orphan_institution", dt.date(2025, 7, 1), "1851", "渝民规〔2025〕6号"),
    ("orphan_institution", dt.date(2026, 1, 1), "2000", "渝民规〔2025〕15号"),
    ("orphan_community", dt.date(2024, 8, 1), "1625", "渝民发〔2024〕9号"),
    ("orphan_community", dt.date(2025, 7, 1), "1651", "渝民规〔2025〕6号"),
]


def load(apps, schema_editor):
    BenefitStandard = apps.get_model("support", "BenefitStandard")
    for item, day, amount, source in STANDARDS:
        BenefitStandard.objects.get_or_create(
            item=item, effective_from=day, defaults={"monthly_amount": Decimal(amount), "source": source}
        )


def unload(apps, schema_editor):
    BenefitStandard = apps.get_model("support", "BenefitStandard")
    for item, day, _amount, _source in STANDARDS:
        BenefitStandard.objects.filter(item=item, effective_from=day, updated_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]

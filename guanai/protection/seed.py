"""The default guardianship instrument, seeded from rules/assessment_guardianship_v1.yaml.

Used by the data migration (with historical models) and by tests whose transactional flush emptied the tables.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from guanai import rules
from guanai.protection.instrument import validate

DEFAULT_FILE = "assessment_guardianship_v1"


def seed_default_instrument(instrument_model: Any, version_model: Any) -> None:
    """Create the instrument and its version 1 unless present. Idempotent."""
    data = rules.load(DEFAULT_FILE)
    spec = data["instrument"]
    instrument, _ = instrument_model.objects.get_or_create(code=spec["code"], defaults={"name": spec["name"]})
    if not version_model.objects.filter(instrument=instrument).exists():
        version_model.objects.create(
            instrument=instrument,
            version=1,
            definition=validate(data["definition"]),
            source=str(data["source"])[:300],
            published_at=timezone.now(),
        )

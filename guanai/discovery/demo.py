"""Demo data for data comparison: the five department rosters for the demo population (with the documented noise),
imported and compared once, so that 数据比对 and 比对线索 have something to show."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from guanai.discovery.engine import discovery_run
from guanai.discovery.importer import roster_import
from guanai.discovery.roster_seed import rosters_write
from guanai.lib import rosters

log = logging.getLogger("guanai.discovery")


def demo_discovery_seed(*, today: dt.date) -> dict[str, int]:
    """Write, import and compare the demo rosters (idempotent: a roster file already imported is skipped)."""
    folder = settings.VAR_DIR / "demo-rosters"
    rosters_write(folder, on=today, seed=2024)
    imported = {}
    for source in rosters.SOURCES:
        result = roster_import(path=folder / f"{source}.csv", source=source)
        imported[source] = result.batch.rows_kept if result.created else 0
    run = discovery_run(on=today)
    log.info("demo discovery: rosters %s, run %s", imported, run.pk)
    return imported

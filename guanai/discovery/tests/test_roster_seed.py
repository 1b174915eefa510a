"""``guanai seed --rosters``: the five rosters with noise and the ground truth apart, and the pipeline on them."""

from __future__ import annotations

import csv
import datetime as dt

from django.core.management import call_command

from guanai.discovery.engine import discovery_run
from guanai.discovery.importer import roster_import
from guanai.discovery.models import Link
from guanai.lib.rosters import TEMPLATES
from guanai.registry.models import Child

ON = dt.date(2026, 6, 1)


def test_seeded_rosters_carry_the_contract_headers_and_link_back_to_their_children(db, tmp_path):
    call_command(
        "seed", "--children", "150", "--districts", "500230", "--rosters", str(tmp_path), "--rosters-on", str(ON)
    )
    for source, columns in TEMPLATES.items():
        with (tmp_path / f"{source}.csv").open(encoding="utf-8-sig") as fh:
            assert next(csv.reader(fh)) == [c.header for c in columns]
    assert (tmp_path / "truth" / "links.csv").exists() and (tmp_path / "truth" / "noise.json").exists()
    for source in TEMPLATES:
        roster_import(path=tmp_path / f"{source}.csv", source=source)
    discovery_run(on=ON)
    numbers = dict(Child.objects.values_list("pk", "child_no"))
    predicted = {
        (s, n, numbers[c])
        for s, n, c in Link.objects.filter(child__isnull=False, state="accepted").values_list(
            "row__source", "row__row_no", "child_id"
        )
    }
    with (tmp_path / "truth" / "links.csv").open(encoding="utf-8") as fh:
        truth = {(r["来源"], int(r["来源行号"]), r["儿童编号"]) for r in csv.DictReader(fh) if r["儿童编号"]}
    assert predicted <= truth  # no false link
    assert len(predicted) >= 0.95 * len(truth)

"""House invariants checked on the source: reads of children's data go through scoped selectors."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
SCOPED_MODELS = ["Child", "ChildRelation", "Household", "Person", "PersonStatus", "BenefitEnrolment"]
UNSCOPED = re.compile(r"\b(" + "|".join(SCOPED_MODELS) + r")\.objects\b")
# Where unscoped access is legitimate: selectors apply the scope; services, the group refresh, the visit cadence
# and the importer
# work on rows selected through them or checked against the actor's scope; the generator and key rotation are
# operator tools; tests build fixtures. Benefit eligibility computes over the whole registry for the discovery
# rule and the KPI (support/eligibility.py); its callers scope what they show. Oversight's KPI calculators return
# only aggregate counts per region.
ALLOWED = re.compile(
    r"(selectors\.py|services\.py|groups\.py|cadence\.py|importer\.py|eligibility\.py|seed[a-z_]*\.py|demo[a-z_]*\.py|pii_rotation\.py"
    r"|oversight/calculators\.py"
    r"|/tests/|/migrations/|/management/)"
)


def test_no_view_api_or_job_reads_childrens_tables_directly():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if ALLOWED.search("/" + rel):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if UNSCOPED.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert offenders == [], "read children's data through registry.selectors:\n" + "\n".join(offenders)

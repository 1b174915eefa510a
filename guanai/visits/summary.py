"""The maintained per-child visit summary (visits.ChildVisitState) — reads, checks and a set-wise rebuild.

Triggers created by migration visits.0002 keep the summary in the same transaction as any write to
``registry_child`` or ``visits_visit``; this module only reads it, compares it with a recomputation from the
visits (tests, ``guanai visits summary --check``) and rebuilds it set-wise (repair)."""

from __future__ import annotations

from django.db import connection, transaction

from guanai.visits.models import VISIT_MODES, ChildVisitState

COLUMNS = tuple(f"last_{m}_on" for m in VISIT_MODES)
_MAX_BY_MODE = ", ".join(f"max(CASE WHEN v.mode = '{m}' THEN v.visited_on END) AS {m}" for m in VISIT_MODES)
_RECOMPUTED = f"""
SELECT c.id AS child_id, c.village_id AS village_code, c.status <> 'exited' AS on_roll,
       {", ".join(f"a.{m} AS last_{m}_on" for m in VISIT_MODES)}
FROM registry_child c
LEFT JOIN (SELECT v.child_id, {_MAX_BY_MODE} FROM visits_visit v GROUP BY v.child_id) a ON a.child_id = c.id
"""  # noqa: S608 - constant identifiers only


def state_mismatches(limit: int = 20) -> list[int]:
    """Children whose summary row differs from a recomputation from registry_child and visits_visit (or is
    missing or orphaned). Empty when the summary is right."""
    cols = ("village_code", "on_roll", *COLUMNS)
    differs = " OR ".join(f"NOT COALESCE(r.{c} = s.{c}, r.{c} IS NULL AND s.{c} IS NULL)" for c in cols)
    sql = f"""
        SELECT r.child_id FROM ({_RECOMPUTED}) r
        LEFT JOIN visits_childvisitstate s ON s.child_id = r.child_id
        WHERE s.child_id IS NULL OR {differs}
        UNION
        SELECT s.child_id FROM visits_childvisitstate s
        WHERE NOT EXISTS (SELECT 1 FROM registry_child c WHERE c.id = s.child_id)
        ORDER BY 1 LIMIT {int(limit)}
    """  # noqa: S608 - constant identifiers and an int
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


@transaction.atomic
def state_rebuild() -> int:
    """Recompute the whole summary from registry_child and visits_visit (one INSERT … SELECT). Returns rows."""
    ChildVisitState.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO visits_childvisitstate (child_id, village_code, on_roll, {', '.join(COLUMNS)}) "  # noqa: S608
            f"SELECT child_id, village_code, on_roll, {', '.join(COLUMNS)} FROM ({_RECOMPUTED}) r"
        )
        return cursor.rowcount

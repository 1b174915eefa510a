"""visits.ChildVisitState: a per-child summary (village, on the roll, latest visit date per mode) kept by
database triggers on registry_child and visits_visit (PostgreSQL: statement-level with transition tables, so
bulk writes stay set-based; SQLite: row-level). Backfilled set-wise from the existing visits; the index is
built after the backfill. See docs/visits.md "Summary for worklists and completion"."""

from django.db import migrations, models

MODES = ("phone", "video", "home", "school", "other")
COLS = ", ".join(f"last_{m}_on" for m in MODES)
MAX_BY_MODE = ", ".join(f"max(CASE WHEN v.mode = '{m}' THEN v.visited_on END) AS {m}" for m in MODES)

BACKFILL = f"""
INSERT INTO visits_childvisitstate (child_id, village_code, on_roll, {COLS})
SELECT c.id, c.village_id, c.status <> 'exited', {", ".join(f"a.{m}" for m in MODES)}
FROM registry_child c
LEFT JOIN (SELECT v.child_id, {MAX_BY_MODE} FROM visits_visit v GROUP BY v.child_id) a ON a.child_id = c.id
"""

PG_FORWARD = f"""
CREATE FUNCTION visits_state_child_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO visits_childvisitstate (child_id, village_code, on_roll)
    SELECT n.id, n.village_id, n.status <> 'exited' FROM visits_new_rows n
    ON CONFLICT (child_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER visits_state_child_ins AFTER INSERT ON registry_child
    REFERENCING NEW TABLE AS visits_new_rows FOR EACH STATEMENT EXECUTE FUNCTION visits_state_child_ins();

CREATE FUNCTION visits_state_child_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits_childvisitstate s SET village_code = n.village_id, on_roll = (n.status <> 'exited')
    FROM visits_new_rows n
    WHERE s.child_id = n.id AND (s.village_code <> n.village_id OR s.on_roll <> (n.status <> 'exited'));
    RETURN NULL;
END $$;
CREATE TRIGGER visits_state_child_upd AFTER UPDATE ON registry_child
    REFERENCING NEW TABLE AS visits_new_rows FOR EACH STATEMENT EXECUTE FUNCTION visits_state_child_upd();

CREATE FUNCTION visits_state_visit_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visits_childvisitstate s SET {", ".join(f"last_{m}_on = GREATEST(s.last_{m}_on, a.{m})" for m in MODES)}
    FROM (SELECT v.child_id, {MAX_BY_MODE} FROM visits_new_rows v GROUP BY v.child_id) a
    WHERE s.child_id = a.child_id;
    RETURN NULL;
END $$;
CREATE TRIGGER visits_state_visit_ins AFTER INSERT ON visits_visit
    REFERENCING NEW TABLE AS visits_new_rows FOR EACH STATEMENT EXECUTE FUNCTION visits_state_visit_ins();

CREATE FUNCTION visits_state_recompute(ids bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE visits_childvisitstate s SET {", ".join(f"last_{m}_on = a.{m}" for m in MODES)}
    FROM (SELECT i.child_id, {MAX_BY_MODE}
          FROM unnest(ids) AS i(child_id) LEFT JOIN visits_visit v ON v.child_id = i.child_id
          GROUP BY i.child_id) a
    WHERE s.child_id = a.child_id;
$$;
CREATE FUNCTION visits_state_visit_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM visits_state_recompute(ARRAY(SELECT child_id FROM visits_old_rows UNION SELECT child_id FROM visits_new_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER visits_state_visit_upd AFTER UPDATE ON visits_visit
    REFERENCING OLD TABLE AS visits_old_rows NEW TABLE AS visits_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION visits_state_visit_upd();
CREATE FUNCTION visits_state_visit_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM visits_state_recompute(ARRAY(SELECT DISTINCT child_id FROM visits_old_rows));
    RETURN NULL;
END $$;
CREATE TRIGGER visits_state_visit_del AFTER DELETE ON visits_visit
    REFERENCING OLD TABLE AS visits_old_rows FOR EACH STATEMENT EXECUTE FUNCTION visits_state_visit_del();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS visits_state_child_ins ON registry_child;
DROP TRIGGER IF EXISTS visits_state_child_upd ON registry_child;
DROP TRIGGER IF EXISTS visits_state_visit_ins ON visits_visit;
DROP TRIGGER IF EXISTS visits_state_visit_upd ON visits_visit;
DROP TRIGGER IF EXISTS visits_state_visit_del ON visits_visit;
DROP FUNCTION IF EXISTS visits_state_child_ins(), visits_state_child_upd(), visits_state_visit_ins(),
    visits_state_visit_upd(), visits_state_visit_del(), visits_state_recompute(bigint[]);
"""


def _sqlite_recompute(child: str) -> str:
    sets = ", ".join(
        f"last_{m}_on = (SELECT max(v.visited_on) FROM visits_visit v WHERE v.child_id = {child} AND v.mode = '{m}')"
        for m in MODES
    )
    return f"UPDATE visits_childvisitstate SET {sets} WHERE child_id = {child};"


SQLITE_FORWARD = [
    """CREATE TRIGGER visits_state_child_ins AFTER INSERT ON registry_child BEGIN
        INSERT OR IGNORE INTO visits_childvisitstate (child_id, village_code, on_roll)
        VALUES (NEW.id, NEW.village_id, NEW.status <> 'exited');
    END""",
    """CREATE TRIGGER visits_state_child_upd AFTER UPDATE OF village_id, status ON registry_child BEGIN
        UPDATE visits_childvisitstate SET village_code = NEW.village_id, on_roll = (NEW.status <> 'exited')
        WHERE child_id = NEW.id;
    END""",
    "CREATE TRIGGER visits_state_visit_ins AFTER INSERT ON visits_visit BEGIN UPDATE visits_childvisitstate SET "
    + ", ".join(
        f"last_{m}_on = CASE WHEN NEW.mode = '{m}' AND (last_{m}_on IS NULL OR last_{m}_on < NEW.visited_on) "
        f"THEN NEW.visited_on ELSE last_{m}_on END"
        for m in MODES
    )
    + " WHERE child_id = NEW.child_id; END",
    "CREATE TRIGGER visits_state_visit_upd AFTER UPDATE ON visits_visit BEGIN "
    + _sqlite_recompute("OLD.child_id")
    + _sqlite_recompute("NEW.child_id")
    + " END",
    "CREATE TRIGGER visits_state_visit_del AFTER DELETE ON visits_visit BEGIN " + _sqlite_recompute("OLD.child_id") + " END",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("visits_state_child_ins", "visits_state_child_upd", "visits_state_visit_ins",
                 "visits_state_visit_upd", "visits_state_visit_del")
]


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute(BACKFILL)
            cursor.execute(PG_FORWARD)
        else:
            cursor.execute(BACKFILL)
            for sql in SQLITE_FORWARD:
                cursor.execute(sql)


def backward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for sql in [PG_BACKWARD] if schema_editor.connection.vendor == "postgresql" else SQLITE_BACKWARD:
            cursor.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0002_groups_timeline_exit_proposal'),
        ('visits', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='ChildVisitState',
            fields=[
                ('child', models.OneToOneField(on_delete=models.deletion.CASCADE, primary_key=True, related_name='visit_state', serialize=False, to='registry.child')),
                ('village_code', models.CharField(max_length=12)),
                ('on_roll', models.BooleanField(default=True)),
                ('last_phone_on', models.DateField(null=True)),
                ('last_video_on', models.DateField(null=True)),
                ('last_home_on', models.DateField(null=True)),
                ('last_school_on', models.DateField(null=True)),
                ('last_other_on', models.DateField(null=True)),
            ],
            options={
                'verbose_name': '走访汇总',
                'verbose_name_plural': '走访汇总',
            },
        ),
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name='childvisitstate',
            index=models.Index(condition=models.Q(('on_roll', True)), fields=['village_code'], include=('last_phone_on', 'last_video_on', 'last_home_on', 'last_school_on', 'last_other_on'), name='visitstate_village'),
        ),
    ]

"""Oversight benchmark: recompute every KPI for every region, the city dashboard from snapshots, and the annual
report of the largest district — on PostgreSQL with (by default) 1,000,000 children.

    .venv/bin/python -m bench.oversight [--children N] [--months 6] [--keep] [--reuse DIR] [--record]

Set-up (not measured): `seed_demo` over 4 districts; children put on the roll ~2 years ago and a visit history
of `--months` months written set-wise (bench.visits); care groups written set-wise for 58 % of the children (the
KPIs only count them; group derivation itself is benchmarked in "Registry"); a workforce ledger — a director
appointed to 90 % of the villages, a supervisor per township, a district training attended by 85 % of the
directors, two organisations per district; mandatory reports with routings (bench.visits has none).

Measured: `kpi_refresh` of all active KPIs for all regions (target ≤ 2 minutes); then 11 earlier months of
snapshots are copied from the fresh ones with SQL (the dashboard's cost depends on the number of snapshot rows it
reads, not their values) and the city dashboard is timed through Django's test client (page and API, target
p95 ≤ 300 ms); then the annual report of the largest district, PDF and Excel (target ≤ 30 s each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from typing import Any

from bench import common as c

SECTION = "## Oversight"
INTRO = __doc__.split("\n\n", 1)[1].strip()


def _execute(sql: str, params: Any = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount or 0)


def synthetic_groups(ws: c.Workspace) -> None:
    if ws.state.get("synthetic_groups"):
        return
    started = time.perf_counter()
    _execute(
        """INSERT INTO registry_childgroup (child_id, code, explanation, rule_id, rule_version, source, derived_on)
           SELECT id, CASE WHEN id % 5 = 0 THEN 'difficulty_living' ELSE 'rural_left_behind' END, '基准测试', 'bench',
                  1, 'bench', CURRENT_DATE
           FROM registry_child WHERE id % 100 < 58
           ON CONFLICT DO NOTHING"""
    )
    ws.state["synthetic_groups"] = time.perf_counter() - started
    ws.save()


def workforce(ws: c.Workspace, today: dt.date) -> dict[str, Any]:
    """A ledger for the seeded districts, written with bulk_create (a few thousand rows)."""
    if ws.state.get("workforce"):
        return dict(ws.state["workforce"])
    import random

    from guanai.regions.models import Region
    from guanai.workforce.models import (
        Appointment,
        SocialOrganisation,
        StaffProfile,
        TrainingAttendance,
        TrainingEvent,
    )

    rng = random.Random(2024)
    started = time.perf_counter()
    villages = list(Region.objects.filter(level=5).values_list("code", flat=True))
    townships = sorted({v[:9].ljust(12, "0") for v in villages})
    people = [
        StaffProfile(kind="director", name=f"主任{i}", home_region_id=v[:6].ljust(12, "0"))
        for i, v in enumerate(villages)
        if rng.random() < 0.9
    ]
    supervisors = [
        StaffProfile(kind="supervisor", name=f"督导{i}", home_region_id=t[:6].ljust(12, "0"))
        for i, t in enumerate(townships)
    ]
    StaffProfile.objects.bulk_create(people + supervisors, batch_size=2000)
    covered = [v for v in villages if rng.random() < 0.9][: len(people)]
    Appointment.objects.bulk_create(
        [Appointment(profile=p, region_id=v, start=dt.date(2024, 3, 1)) for p, v in zip(people, covered, strict=False)]
        + [
            Appointment(profile=s, region_id=t, start=dt.date(2024, 3, 1))
            for s, t in zip(supervisors, townships, strict=True)
        ],
        batch_size=2000,
    )
    for p, v in zip(people, covered, strict=False):
        p.home_region_id = v[:6].ljust(12, "0")
    attendances = []
    for district in ws.state["districts"]:
        code = district.ljust(12, "0")
        event = TrainingEvent.objects.create(
            title="儿童主任培训",
            level="district",
            region_id=code,
            held_on=dt.date(today.year, 4, 1),
            topics=["policy", "single_parent"],
        )
        attendances += [
            TrainingAttendance(event=event, profile=p)
            for p in people
            if p.home_region_id == code and rng.random() < 0.85
        ]
        for i in range(2):
            SocialOrganisation.objects.create(
                name=f"社会组织{district}-{i}", district_id=code, cultivated_year=today.year
            )
    TrainingAttendance.objects.bulk_create(attendances, batch_size=5000)
    result = {
        "directors": len(people),
        "supervisors": len(supervisors),
        "attendances": len(attendances),
        "seconds": time.perf_counter() - started,
    }
    ws.state["workforce"] = result
    ws.save()
    return result


def reports(ws: c.Workspace, today: dt.date, n: int = 20_000) -> None:
    """Mandatory reports and police routings for random children, set-wise."""
    if ws.state.get("reports"):
        return
    user = c.make_user("bench_reporter", "reporter_school", ws.state["districts"][0].ljust(12, "0"))
    _execute(
        """INSERT INTO protection_report (situations, description, region_id, child_id, child_name, child_sex,
                                          child_location, school_involved, reporter_id, reporter_kind,
                                          reporter_identity_enc, status, filed_at, occurred_place)
           SELECT '["abandoned"]', '基准测试', village_id, id, '', '', '', false, %s, 'school', 'x', 'accepted',
                  now() - (random() * interval '300 days'), ''
           FROM registry_child WHERE id %% 50 = 0 LIMIT %s""",
        [user.pk, n],
    )
    _execute(
        """INSERT INTO protection_reportrouting (report_id, department, region_id, status, created_at, accept_due,
                                                 result_due, accepted_at, first_result_at, transfer_reason)
           SELECT id, 'police', substr(region_id, 1, 6) || '000000', 'accepted', filed_at, filed_at + interval '1 day',
                  filed_at + interval '7 days', filed_at + random() * interval '30 hours',
                  filed_at + random() * interval '9 days', ''
           FROM protection_report"""
    )
    ws.state["reports"] = n
    ws.save()


def copy_history(months: int = 11) -> int:
    """Earlier periods' snapshots, copied from the fresh ones (values do not matter to the read path)."""
    sql = """INSERT INTO oversight_kpisnapshot (kpi, region_code, level, period, period_start, period_end, as_of,
                                                numerator, denominator, value, rule_version, computed_at)
             SELECT kpi, region_code, level, to_char(period_start - (%s * interval '1 month'), 'YYYY-MM'),
                    (period_start - (%s * interval '1 month'))::date, period_end, as_of, numerator, denominator,
                    value, rule_version, computed_at
             FROM oversight_kpisnapshot s WHERE s.period ~ '^\\d{4}-\\d{2}$' AND s.period_start = %s
             ON CONFLICT DO NOTHING"""
    from django.utils import timezone

    from guanai.lib.dates import month_start

    start = month_start(timezone.localdate())
    rows = 0
    for back in range(1, months + 1):
        rows += _execute(sql, [back, back, start])
    _execute("ANALYZE oversight_kpisnapshot")
    return rows


def run(ws: c.Workspace, args: argparse.Namespace, today: dt.date) -> dict[str, Any]:
    from django.test import Client

    from guanai.oversight.annual import annual_report_data, annual_report_pdf, annual_report_xlsx, report_region
    from guanai.oversight.services import kpi_refresh

    out: dict[str, Any] = {"load_before": c.load_average()}
    started = time.perf_counter()
    refresh = kpi_refresh(day=today, today=today)
    out["refresh_seconds"] = time.perf_counter() - started
    out["refresh"] = refresh
    out["load_after_refresh"] = c.load_average()
    print(f"kpi_refresh: {out['refresh_seconds']:.1f} s, {refresh['rows']} rows {refresh['seconds']}", file=sys.stderr)
    out["history_rows"] = copy_history()

    city = c.make_user("bench_city", "city_officer", "500000000000")
    client = Client()
    client.force_login(city)

    def page(_: Any) -> None:
        response = client.get("/oversight/")
        assert response.status_code == 200, response.status_code

    def api(_: Any) -> None:
        response = client.get("/api/v1/oversight/dashboard/")
        assert response.status_code == 200, response.status_code

    district = max(ws.state["districts"], key=_children_in)
    stats = [
        c.measure("GET /oversight/ (city officer)", page, range(args.samples), target_ms=300),
        c.measure("GET /api/v1/oversight/dashboard/ (city officer)", api, range(args.samples), target_ms=300),
    ]
    officer = c.make_user(f"bench_officer_{district}", "district_officer", district.ljust(12, "0"))
    client_d = Client()
    client_d.force_login(officer)

    def district_page(_: Any) -> None:
        assert client_d.get("/oversight/").status_code == 200

    stats.append(
        c.measure(f"GET /oversight/ (district officer {district})", district_page, range(args.samples), target_ms=300)
    )
    out["dashboard_queries"] = c.capture(lambda: page(None))
    region = report_region(district)
    timings = []
    for fmt in ("pdf", "xlsx"):
        started = time.perf_counter()
        data = annual_report_data(region, today.year, today=today)
        body = annual_report_pdf(data) if fmt == "pdf" else annual_report_xlsx(data)
        timings.append((fmt, time.perf_counter() - started, len(body)))
    out["report"] = timings
    out["report_district"] = (district, _children_in(district))
    out["stats"] = stats
    out["load_after"] = c.load_average()
    return out


def _children_in(district: str) -> int:
    from guanai.accounts.scope import in_prefix
    from guanai.registry.models import Child

    return Child.objects.filter(in_prefix("village_id", district)).count()


def report(
    ws: c.Workspace, out: dict[str, Any], machine: c.Machine, engine: str, today: dt.date
) -> tuple[list[str], str]:
    sizes = c.table_sizes(["registry_child", "visits_visit", "registry_childgroup", "oversight_kpisnapshot"])
    lines = [f"{engine}, {ws.state['children']:,} children", machine.line(), *c.table(out["stats"])]
    refresh = out["refresh"]
    per_kpi = ", ".join(f"{k} {v:.1f} s" for k, v in refresh["seconds"].items())
    lines.append(f"kpi_refresh: {out['refresh_seconds']:.1f} s ({refresh['rows']:,} rows): {per_kpi}")
    district, n = out["report_district"]
    for fmt, seconds, size in out["report"]:
        lines.append(f"annual report {district} ({n:,} children) {fmt}: {seconds:.2f} s, {size:,} bytes")
    md = [
        f"### {engine}, {ws.state['children']:,} children — {today.isoformat()}",
        "",
        f"Machine: {machine.line()} (other engineers' work may have been running; load after the KPI refresh: "
        f"{out['load_after_refresh']}, after the measures: {out['load_after']}).",
        "Data: " + ", ".join(f"`{k}` {v}" for k, v in sizes.items()) + f"; database {c.database_size()}.",
        f"Set-up: visit history {ws.state['visits']['rows']:,} rows over {ws.state['visits']['months']} months; "
        f"workforce {ws.state['workforce']['directors']:,} directors, {ws.state['workforce']['supervisors']:,} "
        f"supervisors; {ws.state['reports']:,} mandatory reports; {out['history_rows']:,} snapshot rows copied to 11 "
        "earlier months.",
        "",
        "| measure | value | target | |",
        "|---|---:|---|---|",
        f"| recompute all KPIs for all regions (`kpi_refresh`, {refresh['rows']:,} snapshot rows) | "
        f"{out['refresh_seconds']:.1f} s | ≤ 120 s | {'✅' if out['refresh_seconds'] <= 120 else '❌'} |",
    ]
    for fmt, seconds, size in out["report"]:
        md.append(
            f"| annual report {fmt.upper()}, district {district} ({n:,} children; {size:,} bytes) | {seconds:.2f} s | "
            f"≤ 30 s | {'✅' if seconds <= 30 else '❌'} |"
        )
    md += ["", *c.markdown_table(out["stats"]), "", f"Per KPI (s): {per_kpi}.", ""]
    hot = c.hot_queries(out["dashboard_queries"], "oversight_kpisnapshot", n=2)
    if hot:
        md += ["Plans of the dashboard's two slowest snapshot queries:", ""]
        for sql in hot:
            md += [f"`{c.shorten(sql, 300)}`", "", "```", *c.plan_excerpt(c.explain(sql), 12), "```", ""]
    return lines, "\n".join(md)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.oversight", description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--database", default="postgres", help="postgres (default) or postgres://server")
    parser.add_argument("--districts", default=",".join(c.DEFAULT_DISTRICTS))
    parser.add_argument("--months", type=int, default=6, help="months of visit history (default 6)")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", help="a kept work directory")
    parser.add_argument("--record", action="store_true", help=f"write the results into {c.DOCS.name}")
    args = parser.parse_args(argv)
    if args.database == "sqlite":
        raise SystemExit("bench.oversight needs PostgreSQL (the history is written with generate_series)")
    from bench.visits import backdate_children, generate_history

    machine = c.Machine.describe()
    districts = tuple(d.strip() for d in args.districts.split(",") if d.strip())
    with c.Workspace(args.database, keep=args.keep, reuse=args.reuse, prefix="oversight") as ws:
        from django.utils import timezone

        today = timezone.localdate()
        if not ws.state.get("children"):
            print(f"migrating and seeding {args.children:,} children …", file=sys.stderr)
            ws.state["migrate_seconds"] = c.migrate()
            ws.state["seed"] = c.seed_children(args.children, districts)
            ws.state["children"] = args.children
            ws.state["districts"] = list(districts)
            ws.save()
        backdate_children(ws)
        print("visit history …", file=sys.stderr)
        generate_history(ws, today, args.months)
        synthetic_groups(ws)
        workforce(ws, today)
        reports(ws, today)
        c.analyze()
        engine = c.engine_version()
        print("measuring …", file=sys.stderr)
        out = run(ws, args, today)
        lines, block = report(ws, out, machine, engine, today)
        print("\n".join(lines))
        if args.record:
            c.record_section(SECTION, "1-postgresql", block, INTRO)
            print(f"recorded in {c.DOCS}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

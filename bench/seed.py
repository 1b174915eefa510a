"""Benchmark of the synthetic data generator (``guanai seed``): generation rate and end-to-end rate.

    .venv/bin/python -m bench.seed                        # 300,000 children into a fresh SQLite file
    .venv/bin/python -m bench.seed --database postgres    # … into a throwaway PostgreSQL database
    .venv/bin/python -m bench.seed --children 50000 --record

It never touches a developer's database: SQLite runs in a new file under a temporary directory (with its own
development secrets), PostgreSQL in a new database ``guanai_bench_<pid>`` created on the server of
``--database postgres://…`` (default: the server of ``DATABASE_URL`` if that is PostgreSQL, else
``postgres://postgres@127.0.0.1:5432/postgres``) and dropped afterwards.

Measured: generation in memory (``--repeat`` runs, children per second, no database), then one full
``seed_demo`` into the migrated empty database (generation + bulk write in one transaction). The issue asks for
≥ 50,000 children per second of generation. ``--record`` writes the results into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Machine, server_url, with_database

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTION = "## Seed generator"
TARGET = 50_000


def _admin(url: str, sql: str) -> None:
    """Run CREATE/DROP DATABASE on the server's maintenance database."""
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _engine_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return "PostgreSQL " + str(cursor.fetchone()[0]).split()[0]
        cursor.execute("SELECT sqlite_version()")
        return "SQLite " + str(cursor.fetchone()[0])


def run(children: int, repeat: int, workers: int | None, seed_value: int, districts: tuple[str, ...]) -> dict[str, Any]:
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    from guanai.registry import seed

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_seconds = time.perf_counter() - started

    townships = seed.load_townships(seed.resolve_districts(districts))
    plans = seed.plan_villages(townships, seed=seed_value, children=children, per_township=0)
    places = seed.county_codes()
    seed.generate(plans, seed=seed_value, children=1000, places=places, workers=0)  # warm the code tables
    rates = []
    for i in range(repeat):
        started = time.perf_counter()
        seed.generate(plans, seed=seed_value + i, children=children, places=places, workers=workers)
        rates.append(children / (time.perf_counter() - started))

    options = seed.SeedOptions(seed=seed_value, children=children, districts=districts, villages_per_township=0)
    result = seed.seed_demo(options, workers=workers)
    rows = sum(v for k, v in result.counts.items() if k != "villages")
    total = result.generate_seconds + result.write_seconds
    return {
        "engine": _engine_version(),
        "vendor": connection.vendor,
        "migrate_seconds": migrate_seconds,
        "generation_rates": rates,
        "result": result,
        "rows": rows,
        "end_to_end_rate": children / total,
        "rows_per_second": rows / result.write_seconds,
        "workers": workers,
    }


def report(children: int, outcome: dict[str, Any], machine: Machine) -> list[str]:
    result = outcome["result"]
    rates = outcome["generation_rates"]
    counts = result.counts
    lines = [
        f"machine: {machine.cpu}, {machine.cores} cores, {machine.memory} RAM; load average before: {machine.load}",
        f"database: {outcome['engine']}; Python {platform.python_version()}",
        f"data: {children:,} children, {counts['households']:,} households, {counts['people']:,} people, "
        f"{counts['statuses']:,} statuses, {counts['relations']:,} relations, {counts['benefits']:,} benefits, "
        f"{counts['villages']:,} villages ({outcome['rows']:,} rows)",
        "",
        f"{'measure':<44}{'value':>16}",
        f"{'generation, in memory (median of ' + str(len(rates)) + ')':<44}{statistics.median(rates):>12,.0f} /s",
        f"{'generation, in memory (best)':<44}{max(rates):>12,.0f} /s",
        f"{'generation inside seed_demo':<44}{result.children_per_second:>12,.0f} /s",
        f"{'write (bulk, one transaction)':<44}{result.write_seconds:>14.2f} s",
        f"{'rows written per second':<44}{outcome['rows_per_second']:>12,.0f} /s",
        f"{'end to end (generation + write)':<44}{outcome['end_to_end_rate']:>12,.0f} /s",
        "",
        f"generation target {TARGET:,} children/s: " + ("met" if statistics.median(rates) >= TARGET else "NOT met"),
    ]
    return lines


def record(children: int, outcome: dict[str, Any], machine: Machine) -> None:
    """Put this run's row into the results table of the section, replacing an earlier row of the same engine."""
    result = outcome["result"]
    rates = outcome["generation_rates"]
    vendor = "SQLite" if outcome["vendor"] == "sqlite" else "PostgreSQL"
    row = (
        f"| {vendor} | {outcome['engine']} | {children:,} | {outcome['rows']:,} | "
        f"{statistics.median(rates):,.0f} | {result.generate_seconds:.2f} | {result.write_seconds:.2f} | "
        f"{outcome['rows_per_second']:,.0f} | {outcome['end_to_end_rate']:,.0f} | {machine.load.split()[0]} | "
        f"{time.strftime('%Y-%m-%d')} |"
    )
    header = [
        "| database | engine | children | rows | generation children/s (median, in memory) | generation s "
        "(in seed_demo) | write s | rows written/s | end-to-end children/s | load before | date |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    match = re.search(rf"^{re.escape(SECTION)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    body = match.group(1) if match else ""
    # Rows of earlier runs in this table's format (one per engine), except the one this run replaces.
    table = [
        line
        for line in body.splitlines()
        if line.startswith(("| SQLite |", "| PostgreSQL |"))
        and line.count("|") == row.count("|")
        and not line.startswith(f"| {vendor} |")
    ] + [row]
    table.sort()
    machine_line = (
        f"Machine: {machine.cpu}, {machine.cores} cores, {machine.memory} RAM. “load before” is the 1-minute load "
        "average when the run started: other work on the same 2 cores lowers every rate."
    )
    notes = body.split("\n\n<!-- notes -->\n", 1)[1] if "\n\n<!-- notes -->\n" in body else ""
    section = "\n".join(
        [
            SECTION,
            "",
            "`.venv/bin/python -m bench.seed [--database postgres] [--children N] --record` — districts 丰都县 and "
            "万州区, villages made for ~300 children each, seed 2024, fresh migrated database. Generation = all "
            "values of all rows including AES-GCM encryption and blind indexes, column-wise, no database; write = "
            "row assembly, `executemany` (SQLite) or `COPY` (PostgreSQL), rebuilding the secondary indexes (and on "
            "PostgreSQL the foreign keys) dropped for the load, and the commit — one transaction.",
            "",
            machine_line,
            "",
            *header,
            *table,
            "",
            "<!-- notes -->",
            notes.strip("\n"),
            "",
        ]
    )
    text = (
        text[: match.start()] + section + "\n" + text[match.end() :] if match else text.rstrip("\n") + "\n\n" + section
    )
    DOCS.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=300_000)
    parser.add_argument("--database", default="sqlite", help="sqlite (default), postgres, or postgres://server")
    parser.add_argument("--repeat", type=int, default=3, help="in-memory generation runs (default 3)")
    parser.add_argument("--workers", type=int, default=None, help="encryption worker processes (default: auto)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--districts", default="500230,500101")
    parser.add_argument("--record", action="store_true", help=f"write the results into {DOCS.name}")
    args = parser.parse_args(argv)

    machine = Machine.describe()
    workdir = Path(tempfile.mkdtemp(prefix="guanai-bench-"))
    # Before Django is set up: settings read these once. Own secrets and database, never the developer's.
    os.environ["GUANAI_VAR_DIR"] = str(workdir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    for name in ("SECRET_KEY", "GUANAI_FIELD_KEYS", "GUANAI_BLIND_INDEX_KEY"):
        os.environ.pop(name, None)
    server = None
    database = f"guanai_bench_{os.getpid()}"
    if args.database == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        server = server_url(args.database)
        _admin(server, f'CREATE DATABASE "{database}"')
        os.environ["DATABASE_URL"] = with_database(server, database)
    try:
        districts = tuple(d.strip() for d in args.districts.split(",") if d.strip())
        outcome = run(args.children, max(1, args.repeat), args.workers, args.seed, districts)
    finally:
        if server is not None:
            from django.db import connections

            connections.close_all()
            _admin(server, f'DROP DATABASE IF EXISTS "{database}"')
        shutil.rmtree(workdir, ignore_errors=True)
    print("\n".join(report(args.children, outcome, machine)))
    if args.record:
        record(args.children, outcome, machine)
        print(f"recorded in {DOCS}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

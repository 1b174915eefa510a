"""Shared helpers of the speed benchmarks (``bench.registry``, ``bench.visits``): throwaway databases, data,
users, timing, percentiles, EXPLAIN, the machine description and recording into ``docs/benchmarks.md``.

A benchmark never touches a developer's database or secrets. Like ``bench/seed.py``, everything that settings
read once is put into the environment BEFORE ``django.setup()``: a new ``GUANAI_VAR_DIR`` (own development
secrets, own static and media roots) and a ``DATABASE_URL`` pointing at a new SQLite file in that directory
or at a new PostgreSQL database ``guanai_bench_<pid>`` on 127.0.0.1. Both are removed at the end unless
``--keep``; a kept work directory can be given back with ``--reuse DIR`` (no new seed) and removed with

    .venv/bin/python -m bench.common drop DIR

Settings of a benchmark run: ``DJANGO_DEBUG=0`` (DEBUG keeps every query in memory and renders differently),
``GUANAI_ENV=development`` (its ``ALLOWED_HOSTS=*``), ``GUANAI_JOBS_MODE=worker`` (no daily jobs started in the
measuring process).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_DISTRICTS = ("500230", "500101", "500102", "500103")
STATE = "bench.json"


# --- the machine ---------------------------------------------------------------------------------------------


@dataclass
class Machine:
    cpu: str
    cores: int
    memory: str
    load: str
    python: str = field(default_factory=platform.python_version)

    @classmethod
    def describe(cls) -> Machine:
        cpu = platform.processor() or platform.machine()
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        memory = "?"
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemTotal"):
                    memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB"
                    break
        except OSError:
            pass
        return cls(cpu, os.cpu_count() or 1, memory, load_average())

    def line(self) -> str:
        return (
            f"{self.cpu}, {self.cores} cores, {self.memory} RAM, Python {self.python}; load average before: {self.load}"
        )


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def engine_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return "PostgreSQL " + str(cursor.fetchone()[0]).split()[0]
        cursor.execute("SELECT sqlite_version()")
        return "SQLite " + str(cursor.fetchone()[0])


# --- throwaway databases -------------------------------------------------------------------------------------


def server_url(choice: str) -> str:
    if choice.startswith("postgres"):
        if "://" in choice:
            return choice
        env = os.environ.get("DATABASE_URL", "")
        return env if env.startswith("postgres") else DEFAULT_SERVER
    raise SystemExit(f"--database must be 'sqlite', 'postgres' or a postgres:// URL, not {choice!r}")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def admin(url: str, sql: str) -> None:
    """Run CREATE/DROP DATABASE on the server's maintenance database."""
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _environment(workdir: Path, database_url: str) -> None:
    os.environ["GUANAI_VAR_DIR"] = str(workdir)
    os.environ["GUANAI_MEDIA_ROOT"] = str(workdir / "media")
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanai.settings"
    os.environ["GUANAI_ENV"] = "development"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["GUANAI_JOBS_MODE"] = "worker"
    os.environ["DATABASE_URL"] = database_url
    for name in ("SECRET_KEY", "GUANAI_FIELD_KEYS", "GUANAI_BLIND_INDEX_KEY"):
        os.environ.pop(name, None)


class Workspace:
    """A work directory with its own secrets and a throwaway database; ``state`` persists in ``bench.json``.

    ``with Workspace("postgres", keep=False) as ws:`` — Django is set up inside, the database is empty (not
    migrated). With ``reuse=DIR`` the kept work directory and its database are used again and kept.
    """

    def __init__(self, database: str, *, keep: bool = False, reuse: str | None = None, prefix: str = "bench") -> None:
        self.choice = database
        self.keep = keep or bool(reuse)
        self.reuse = Path(reuse) if reuse else None
        self.prefix = prefix
        self.state: dict[str, Any] = {}
        self.server: str | None = None
        self.database: str | None = None

    @property
    def vendor(self) -> str:
        return "sqlite" if self.state["database_url"].startswith("sqlite") else "postgresql"

    def __enter__(self) -> Workspace:
        if self.reuse is not None:
            self.workdir = self.reuse
            self.state = json.loads((self.workdir / STATE).read_text())
            self.server, self.database = self.state.get("server"), self.state.get("database")
        else:
            self.workdir = Path(tempfile.mkdtemp(prefix=f"guanai-{self.prefix}-"))
            if self.choice == "sqlite":
                url = f"sqlite:///{self.workdir / 'bench.sqlite3'}"
            else:
                self.server = server_url(self.choice)
                owner = os.environ.get("GUANAI_BENCH_OWNER", "")  # e.g. "speed": guanai_speed_visits_<pid>
                self.database = f"guanai_{owner + '_' if owner else ''}{self.prefix}_{os.getpid()}"
                admin(self.server, f'CREATE DATABASE "{self.database}"')
                url = with_database(self.server, self.database)
            self.state = {"database_url": url, "server": self.server, "database": self.database}
            self.save()
        _environment(self.workdir, self.state["database_url"])
        import django

        django.setup()
        return self

    def save(self) -> None:
        (self.workdir / STATE).write_text(json.dumps(self.state, indent=2, default=str))

    def __exit__(self, *exc: object) -> None:
        from django.db import connections

        connections.close_all()
        if self.keep:
            self.save()
            print(f"\nkept: {self.workdir} ({self.state['database_url']})")
            print(f"  again:  --reuse {self.workdir}")
            print(f"  remove: .venv/bin/python -m bench.common drop {self.workdir}")
            return
        drop(self.workdir, self.state)


def drop(workdir: Path, state: dict[str, Any] | None = None) -> None:
    state = state if state is not None else json.loads((workdir / STATE).read_text())
    if state.get("server") and state.get("database"):
        if not str(state["database"]).startswith("guanai_"):
            raise SystemExit(f"refusing to drop {state['database']!r}: not a benchmark database")
        admin(state["server"], f'DROP DATABASE IF EXISTS "{state["database"]}" WITH (FORCE)')
    if Path(tempfile.gettempdir()) in workdir.resolve().parents:
        shutil.rmtree(workdir, ignore_errors=True)


# --- data ----------------------------------------------------------------------------------------------------


def migrate() -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    return time.perf_counter() - started


def seed_children(children: int, districts: Sequence[str], seed: int = 2024) -> dict[str, Any]:
    """``seed_demo`` with villages of about 300 children under the real townships of ``districts``."""
    from guanai.registry.seed import SeedOptions, seed_demo

    started = time.perf_counter()
    result = seed_demo(SeedOptions(seed=seed, children=children, districts=tuple(districts), villages_per_township=0))
    return {
        "seconds": time.perf_counter() - started,
        "generate_seconds": result.generate_seconds,
        "write_seconds": result.write_seconds,
        "counts": dict(result.counts),
    }


def derive_groups(today: Any, chunk: int = 20_000, progress: bool = True) -> dict[str, Any]:
    """``groups_refresh`` over every child in chunks (with its listeners: cadence and risk)."""
    from guanai.registry.groups import groups_refresh
    from guanai.registry.models import Child, ChildGroup

    ids = list(Child.objects.order_by("pk").values_list("pk", flat=True))
    started = time.perf_counter()
    changed = 0
    for i in range(0, len(ids), chunk):
        changed += groups_refresh(child_ids=ids[i : i + chunk], today=today)
        if progress:
            done = min(i + chunk, len(ids))
            rate = done / (time.perf_counter() - started)
            print(f"\r  groups: {done:,}/{len(ids):,} children, {rate:,.0f}/s", end="", file=sys.stderr)
    if progress:
        print(file=sys.stderr)
    seconds = time.perf_counter() - started
    return {
        "children": len(ids),
        "changed": changed,
        "groups": ChildGroup.objects.count(),
        "seconds": seconds,
        "seconds_per_100k": seconds / max(1, len(ids)) * 100_000,
    }


def analyze() -> None:
    """Planner statistics; on PostgreSQL also VACUUM (the visibility map autovacuum would set in time)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def busiest_village() -> tuple[str, int]:
    """The village (code) with most children — a director's worst case — and its count."""
    from django.db.models import Count

    from guanai.registry.models import Child

    row = Child.objects.values("village_id").annotate(n=Count("id")).order_by("-n", "village_id").first()
    assert row is not None, "no children"
    return row["village_id"], row["n"]


def make_user(username: str, role: str, region_code: str) -> Any:
    from guanai.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, role=role, region_id=region_code, display_name=username)
        user.set_unusable_password()
        user.save()
    return user


def make_users(village: str) -> dict[str, Any]:
    """A director of ``village``, a supervisor of its township and a district officer of its county."""
    from guanai.regions.models import Region

    township = str(Region.objects.get(code=village).parent_id)
    county = str(Region.objects.get(code=township).parent_id)
    return {
        "director": make_user(f"bench_director_{village}", "director", village),
        "supervisor": make_user(f"bench_supervisor_{township}", "supervisor", township),
        "district": make_user(f"bench_district_{county}", "district_officer", county),
    }


# --- timing --------------------------------------------------------------------------------------------------


@dataclass
class Stats:
    name: str
    times: list[float]  # milliseconds
    target_ms: float | None = None
    target_kind: str = "p95"
    note: str = ""

    def q(self, p: float) -> float:
        return percentile(self.times, p)

    @property
    def p50(self) -> float:
        return self.q(50)

    @property
    def p95(self) -> float:
        return self.q(95)

    @property
    def p99(self) -> float:
        return self.q(99)

    @property
    def met(self) -> bool | None:
        if self.target_ms is None:
            return None
        value = self.p95 if self.target_kind == "p95" else max(self.times)
        return value <= self.target_ms

    @property
    def mark(self) -> str:
        return {True: "✅", False: "❌", None: "—"}[self.met]

    @property
    def target(self) -> str:
        if self.target_ms is None:
            return "—"
        return f"{self.target_kind} ≤ {self.target_ms:g} ms"


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), p in 0–100."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def measure(
    name: str,
    fn: Callable[[Any], object],
    inputs: Iterable[Any],
    *,
    warmup: int = 5,
    target_ms: float | None = None,
    target_kind: str = "p95",
    note: str = "",
) -> Stats:
    """Call ``fn(x)`` for each input (after ``warmup`` calls on the first inputs) and time each call. The note
    also gives the median CPU time of this process per call ("app CPU"): on a machine shared with other work the
    wall time includes waiting for a core, the CPU time does not (the database's own CPU is not in it)."""
    items = list(inputs)
    for x in items[:warmup]:
        fn(x)
    times, cpu = [], []
    for x in items:
        started, started_cpu = time.perf_counter(), time.process_time()
        fn(x)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    cpu_note = f"app CPU p50 {percentile(cpu, 50):.1f} ms"
    return Stats(name, times, target_ms, target_kind, f"{note}; {cpu_note}" if note else cpu_note)


def table(stats: Sequence[Stats]) -> list[str]:
    lines = [f"{'measure':<58}{'n':>6}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}  target"]
    for s in stats:
        lines.append(
            f"{s.name:<58}{len(s.times):>6}{s.p50:>9.1f}{s.p95:>9.1f}{s.p99:>9.1f}{max(s.times):>9.1f}"
            f"  {s.target} {s.mark}"
        )
    return lines


def markdown_table(stats: Sequence[Stats]) -> list[str]:
    lines = [
        "| measure | n | p50 ms | p95 ms | p99 ms | max ms | target | |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for s in stats:
        name = s.name + (f" ({s.note})" if s.note else "")
        lines.append(
            f"| {name} | {len(s.times)} | {s.p50:.1f} | {s.p95:.1f} | {s.p99:.1f} | {max(s.times):.1f} | "
            f"{s.target} | {s.mark} |"
        )
    return lines


# --- SQL and plans -------------------------------------------------------------------------------------------


def capture(fn: Callable[[], object]) -> list[dict[str, Any]]:
    """The queries ``fn`` runs, each with its SQL (parameters inlined) and time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return list(ctx.captured_queries)


def hot_queries(queries: Sequence[dict[str, Any]], contains: str = "", n: int = 2) -> list[str]:
    """The ``n`` slowest captured SELECTs (among those containing ``contains``), in the order they ran.

    Only reads: EXPLAIN ANALYZE executes its statement."""
    reads = [q for q in queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    candidates = [q for q in reads if contains in q["sql"]] or reads
    slowest = sorted(candidates, key=lambda q: -float(q.get("time") or 0))[:n]
    return [q["sql"] for q in queries if any(q is s for s in slowest)]


def explain(sql: str) -> str:
    """EXPLAIN ANALYZE (PostgreSQL, with buffers) or EXPLAIN QUERY PLAN (SQLite) of an inlined query."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return "\n".join(str(r[0]) for r in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        rows = cursor.fetchall()
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + str(detail))
    return "\n".join(lines)


def shorten(sql: str, limit: int = 600) -> str:
    """One line; a long SELECT list becomes ``…`` (the WHERE and ORDER BY are what a plan is about)."""
    text = re.sub(r"\s+", " ", sql)
    head = re.match(r"SELECT (.*?) FROM ", text)
    if head and len(head.group(1)) > 60 and "(SELECT" not in head.group(1):
        text = "SELECT … FROM " + text[head.end() :]
    return text if len(text) <= limit else text[: limit - 1] + "…"


_NOISE = re.compile(
    r"^\s*(Buffers:|Planning:|Worker \d|Options:|Functions:|Buckets:|Cache Key|Cache Mode|Hits:|Full-sort|"
    r"Pre-sorted|Sort Method|Workers Planned|Workers Launched|Batches:|Heap Blocks|Presorted Key|Group Key)"
)


def plan_excerpt(plan: str, lines: int = 14) -> list[str]:
    """The plan without buffer/memory/worker detail lines, at most ``lines`` lines plus the execution time."""
    kept = [line for line in plan.splitlines() if not _NOISE.match(line)]
    tail = [line for line in kept if line.startswith(("Execution Time", "Planning Time", "JIT", "  Timing"))]
    body = [line for line in kept if line not in tail]
    if len(body) > lines:
        body = [*body[:lines], "  …"]
    return body + [line for line in tail if line.startswith(("Execution Time", "  Timing"))]


def table_sizes(tables: Sequence[str]) -> dict[str, str]:
    """Rows and on-disk size (PostgreSQL: table + indexes) of some tables."""
    from django.db import connection

    sizes = {}
    with connection.cursor() as cursor:
        for name in tables:
            cursor.execute(f"SELECT count(*) FROM {name}")  # fixed table names
            rows = cursor.fetchone()[0]
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [name])
                sizes[name] = f"{rows:,} rows, {cursor.fetchone()[0]}"
            else:
                sizes[name] = f"{rows:,} rows"
    return sizes


def database_size() -> str:
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            return str(cursor.fetchone()[0])
    path = Path(settings.DATABASES["default"]["NAME"])
    return f"{path.stat().st_size / 1024 / 1024:,.0f} MB"


# --- recording -----------------------------------------------------------------------------------------------


def record_section(section: str, key: str, block: str, intro: str) -> None:
    """Write ``block`` as the ``key`` part (e.g. the PostgreSQL run) of ``section`` in docs/benchmarks.md.

    Only this section changes; other parts of it (other engines, the notes after ``<!-- notes -->``) and other
    sections are kept. The file is created with this section when it does not exist.
    """
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    match = re.search(rf"^{re.escape(section)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    body = match.group(1) if match else ""
    parts = dict(re.findall(r"<!-- run:(\S+) -->\n(.*?)<!-- /run -->\n", body, flags=re.S))
    parts[key] = block.strip("\n") + "\n"
    notes = body.split("<!-- notes -->\n", 1)[1].strip("\n") if "<!-- notes -->\n" in body else ""
    runs = "\n".join(f"<!-- run:{k} -->\n{v}<!-- /run -->\n" for k, v in sorted(parts.items()))
    new = f"{section}\n\n{intro.strip()}\n\n{runs}\n<!-- notes -->\n{notes}\n\n"
    text = text[: match.start()] + new + text[match.end() :] if match else text.rstrip("\n") + "\n\n" + new
    DOCS.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) == 2 and args[0] == "drop":
        drop(Path(args[1]))
        print(f"dropped {args[1]}")
        return
    raise SystemExit("usage: python -m bench.common drop WORKDIR")


if __name__ == "__main__":
    main()

"""Speed of the registry's read paths at scale: ID-number lookup, the archive page, name/pinyin/initials search
and a village roster, each with the plan of its hot query.

    .venv/bin/python -m bench.registry --children 100000 --database sqlite
    .venv/bin/python -m bench.registry --children 1000000 --database postgres --record
    .venv/bin/python -m bench.registry --database postgres --keep ...        # keep the data for another run
    .venv/bin/python -m bench.registry --reuse /tmp/guanai-registry-XXXX     # measure again, no new seed

Data: ``seed_demo`` (villages of ~300 children under the real townships of ``--districts``), then every
child's groups derived with ``groups_refresh`` in chunks (timed: seconds per 100,000 children), ANALYZE.
Users: a director of the village with most children, a supervisor of its township, a district officer of its
county (``force_login`` on ``django.test.Client``: full requests through middleware, views and templates).
The targets are those of the registry issue. The import rate (≥ 20,000 rows/s) is measured by
``bench/children_import.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import common as c

SECTION = "## Registry"
INTRO = """\
`.venv/bin/python -m bench.registry --children N --database sqlite|postgres [--record]` — `seed_demo` into a
throwaway database (districts 丰都县 500230, 万州区 500101, 涪陵区 500102, 渝中区 500103; villages of ~300
children), groups derived for every child with `groups_refresh`, `VACUUM ANALYZE` (SQLite: `ANALYZE`). Pages
are full requests through `django.test.Client` (middleware, session, view, template; `DJANGO_DEBUG=0`), as a
director of the village with most children, or as the district officer of its county (sizes given per run).
Sampled inputs are real: ID numbers decrypted from random children of the district, names / pinyin / initials of
random children of the district; each timed call is another input (200 calls after 5 warm-up calls). The
import rate (target ≥ 20,000 rows/s) is measured by `bench/children_import.py` (section “Children import”)."""


def _samples(district: Any, director: Any, n: int, rng: random.Random) -> dict[str, list[Any]]:
    from guanai import privacy
    from guanai.lib import pinyin
    from guanai.registry.models import Child
    from guanai.registry.selectors import children_for

    ids = list(children_for(district).exclude(id_number_enc="").values_list("pk", flat=True))
    chosen = rng.sample(ids, min(n, len(ids)))
    rows = list(
        Child.objects.filter(pk__in=chosen).values_list("pk", "id_number_enc", "name", "name_pinyin", "name_initials")
    )
    rng.shuffle(rows)
    village = list(children_for(director).values_list("pk", flat=True))
    return {
        "id_numbers": [privacy.reveal(enc) for _, enc, *_ in rows],
        "surnames": [name[0] for _, _, name, *_ in rows],
        "names": [name for _, _, name, *_ in rows],
        "surname_pinyin": [pinyin.full(name[0]) for _, _, name, *_ in rows],
        "full_pinyin": [full for *_, full, _ in rows],
        "initials": [ini for *_, ini in rows],
        "village_children": [rng.choice(village) for _ in range(n)],
    }


def prepare(ws: c.Workspace, children: int, districts: tuple[str, ...], today: dt.date) -> None:
    """Migrate, seed, derive groups and analyze — once per workspace (a reused one is ready)."""
    if ws.state.get("children"):
        print(f"reusing {ws.state['children']:,} children in {ws.state['database_url']}", file=sys.stderr)
        return
    print(f"migrating {ws.state['database_url']} …", file=sys.stderr)
    ws.state["migrate_seconds"] = c.migrate()
    print(f"seeding {children:,} children in {', '.join(districts)} …", file=sys.stderr)
    ws.state["seed"] = c.seed_children(children, districts)
    ws.state["children"] = children
    ws.state["districts"] = list(districts)
    ws.save()
    print(f"  seeded in {ws.state['seed']['seconds']:.0f} s; deriving groups …", file=sys.stderr)
    ws.state["groups"] = c.derive_groups(today)
    ws.save()
    started = time.perf_counter()
    c.analyze()
    ws.state["analyze_seconds"] = time.perf_counter() - started
    ws.save()


def run(ws: c.Workspace, n: int, seed: int, today: dt.date) -> dict[str, Any]:
    from django.test import Client

    from guanai.registry.selectors import children_for, children_search

    village, village_size = c.busiest_village()
    users = c.make_users(village)
    director, district = users["director"], users["district"]
    rng = random.Random(seed)
    samples = _samples(district, director, n, rng)
    clients = {}
    for key, user in users.items():
        clients[key] = Client()
        clients[key].force_login(user)
    pages = max(1, -(-village_size // 30))

    def get(client: str, url: str) -> Callable[[Any], object]:
        def call(x: Any) -> object:
            response = clients[client].get(url.format(x=x))
            if response.status_code != 200:
                raise RuntimeError(f"{url.format(x=x)} → {response.status_code}")
            return response

        return call

    def lookup(number: str) -> None:
        rows = list(children_search(district, q=number))
        if len(rows) != 1:
            raise RuntimeError(f"ID lookup found {len(rows)} rows")

    # (name, function, inputs, target ms, note, query marker, representative input)
    cases: list[tuple[str, Callable[[Any], object], list[Any], float | None, str]] = [
        ("ID number lookup: children_search(q=ID), fetch row", lookup, samples["id_numbers"], 50, "district officer"),
        (
            "ID number lookup page GET /children/?q=ID",
            get("district", "/children/?q={x}"),
            samples["id_numbers"],
            None,
            "district officer",
        ),
        (
            "archive page GET /children/<pk>/",
            get("director", "/children/{x}/"),
            samples["village_children"],
            50,
            "director",
        ),
        (
            "search GET /children/?q=<surname> (王)",
            get("district", "/children/?q={x}"),
            samples["surnames"],
            150,
            "district officer",
        ),
        (
            "search GET /children/?q=<full name> (王浩宇)",
            get("district", "/children/?q={x}"),
            samples["names"],
            150,
            "district officer",
        ),
        (
            "search GET /children/?q=<surname pinyin> (wang)",
            get("district", "/children/?q={x}"),
            samples["surname_pinyin"],
            150,
            "district officer",
        ),
        (
            "search GET /children/?q=<full pinyin> (wanghaoyu)",
            get("district", "/children/?q={x}"),
            samples["full_pinyin"],
            150,
            "district officer",
        ),
        (
            "search GET /children/?q=<initials> (why)",
            get("district", "/children/?q={x}"),
            samples["initials"],
            150,
            "district officer",
        ),
        (
            "village roster GET /children/?page=k",
            get("director", "/children/?page={x}"),
            [1 + i % pages for i in range(n)],
            100,
            f"director, {village_size} children",
        ),
        (
            "township roster GET /children/",
            get("supervisor", "/children/?page={x}"),
            [1 + i % 5 for i in range(n)],
            None,
            "supervisor",
        ),
    ]
    stats: list[c.Stats] = []
    plans: list[tuple[str, str, str, int]] = []
    for name, fn, inputs, target, note in cases:
        print(f"  {name} …", file=sys.stderr)
        s = c.measure(name, fn, inputs, target_ms=target, note=note)
        stats.append(s)
        first = inputs[0]
        queries = c.capture(lambda: fn(first))  # noqa: B023 — called at once
        for sql in c.hot_queries(queries, contains="registry_child", n=1 if fn is lookup else 2):
            plans.append((name, sql, c.explain(sql), len(queries)))
        s.note = f"{note}; {len(queries)} queries"
    return {
        "stats": stats,
        "plans": plans,
        "village": village,
        "village_size": village_size,
        "district_size": children_for(district).count(),
        "clients": clients,
        "cases": cases,
    }


def profile(outcome: dict[str, Any], workdir: Path, only_missed: bool = True) -> list[Path]:
    """pyinstrument profiles of the measures that missed their target (20 calls each)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: .venv/bin/pip install pyinstrument", file=sys.stderr)
        return []
    written: list[Path] = []
    for (name, fn, inputs, _target, _note), s in zip(outcome["cases"], outcome["stats"], strict=True):
        if only_missed and s.met is not False:
            continue
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for x in inputs[:20]:
            fn(x)
        profiler.stop()
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / f"profile-{len(written) + 1}.txt"
        path.write_text(name + "\n" + profiler.output_text(unicode=True, color=False, show_all=False))
        written.append(path)
        print(f"profile of {name}: {path}", file=sys.stderr)
    return written


def report(ws: c.Workspace, outcome: dict[str, Any], machine: c.Machine, engine: str) -> tuple[list[str], str]:
    state = ws.state
    sizes = c.table_sizes(["registry_child", "registry_person", "registry_childgroup", "registry_timelineevent"])
    groups = state.get("groups", {})
    seed = state.get("seed", {})
    lines = [
        f"machine: {machine.line()}",
        f"database: {engine}, {c.database_size()}",
        "data: " + "; ".join(f"{k} {v}" for k, v in sizes.items()),
        f"seed: {seed.get('seconds', 0):.0f} s; groups derivation: {groups.get('seconds', 0):.0f} s for "
        f"{groups.get('children', 0):,} children = {groups.get('seconds_per_100k', 0):.0f} s per 100,000 children",
        f"director's village {outcome['village']} has {outcome['village_size']} children; "
        f"the district officer's district {outcome['district_size']:,}",
        f"load average after: {c.load_average()}",
        "",
        *c.table(outcome["stats"]),
        "",
    ]
    for name, sql, plan, n_queries in outcome["plans"]:
        lines += [f"--- {name} ({n_queries} queries; a hot one:)", c.shorten(sql, 400), plan, ""]
    md = [
        f"### {engine}, {state.get('children', 0):,} children — {time.strftime('%Y-%m-%d')}",
        "",
        f"Machine: {machine.line()} (other work may have been running on the machine).",
        f"Data: {', '.join(f'`{k}` {v}' for k, v in sizes.items())}; database {c.database_size()}. "
        f"Director's village: {outcome['village_size']} children; the district officer's district "
        f"{outcome['district_size']:,}. Load average after the measures: {c.load_average()}.",
        f"Set-up: seed {seed.get('seconds', 0):.0f} s; group derivation (`groups_refresh` in chunks of 20,000, "
        f"with its cadence and risk listeners) {groups.get('seconds', 0):.0f} s = "
        f"**{groups.get('seconds_per_100k', 0):.0f} s per 100,000 children**.",
        "",
        *c.markdown_table(outcome["stats"]),
        "",
        "Plans of the two slowest queries on `registry_child` of each measure (first input):",
        "",
    ]
    for name, sql, plan, _ in outcome["plans"]:
        md += [f"*{name}* — `{c.shorten(sql, 260)}`", "", "```", *c.plan_excerpt(plan, 12), "```", ""]
    return lines, "\n".join(md)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.registry", description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--database", default="sqlite", help="sqlite (default), postgres, or postgres://server")
    parser.add_argument("--districts", default=",".join(c.DEFAULT_DISTRICTS))
    parser.add_argument("--samples", type=int, default=200, help="timed calls per measure (default 200)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", action="store_true", help="keep the database and work directory")
    parser.add_argument("--reuse", help="a kept work directory: measure again without seeding (kept)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profiles of missed targets")
    parser.add_argument("--record", action="store_true", help=f"write the results into {c.DOCS.name}")
    args = parser.parse_args(argv)

    machine = c.Machine.describe()
    districts = tuple(d.strip() for d in args.districts.split(",") if d.strip())
    with c.Workspace(args.database, keep=args.keep, reuse=args.reuse, prefix="registry") as ws:
        from django.utils import timezone

        today = timezone.localdate()
        prepare(ws, args.children, districts, today)
        engine = c.engine_version()
        print("measuring …", file=sys.stderr)
        outcome = run(ws, args.samples, args.seed, today)
        lines, block = report(ws, outcome, machine, engine)
        print("\n".join(lines))
        if args.profile:
            profile(outcome, Path(tempfile.gettempdir()) / f"guanai-bench-profiles-{os.getpid()}")
        if args.record:
            key = "1-postgresql" if ws.vendor == "postgresql" else "2-sqlite"
            c.record_section(SECTION, key, block, INTRO)
            print(f"recorded in {c.DOCS}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

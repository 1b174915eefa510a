"""Speed of the director's daily work at scale (PostgreSQL): worklists, the district completion table and
recording visits under concurrent load.

    .venv/bin/python -m bench.visits --children 1000000 --record
    .venv/bin/python -m bench.visits --reuse /tmp/guanai-registry-XXXX    # on a kept bench.registry database
    .venv/bin/python -m bench.visits --children 100000 --visits-per-child 10 --duration 20

Data: like ``bench.registry`` (``seed_demo``, groups derived for every child), children put on the roll about
two years ago, then two years of visit history written with set-based SQL (``INSERT … SELECT … FROM
registry_child CROSS JOIN generate_series(…)``, ``gen_random_uuid()``): per child and month a contact (90 %;
phone, video, school, home or other), per quarter a home visit (85 %), and a second contact in some months —
about 30 visits per child over 24 months. The secondary indexes of ``visits_visit`` are dropped during the load
and built again afterwards (a bulk load, not the measured paths), then ``VACUUM ANALYZE``; the load runs with
triggers off, so the per-child visit summary is then rebuilt set-wise (``state_rebuild``).

Measured: ``worklist_for`` (the whole list), ``worklist_page`` (the first page) and ``GET /visits/`` as
directors of the 50 largest villages, ``completion_by_area`` (level 4) for each district, and ``POST
/api/v1/visits/`` (token auth, JSON, unique ``client_key``, each request another child of the client's own
village) against a real server: gunicorn (``-w 4 --threads 4``) on 127.0.0.1 with ``--clients`` concurrent
clients (threads with keep-alive connections, one director each) for ``--duration`` seconds, once without
think time (saturation) and once with ``--think`` seconds of mean think time per client (gunicorn is a
dependency of the project: the production server); ``--no-load`` skips the POST runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import common as c

SECTION = "## Visits"
INTRO = """\
`.venv/bin/python -m bench.visits --children N [--record]` (PostgreSQL only: the history is written with
`generate_series`; `--reuse DIR` runs on a database kept by `bench.registry --keep`). Data as in “Registry”
(`seed_demo` over 4 districts, groups derived), children put on the roll ~2 years before today, then ~30 visits per
child over 24 months written set-wise (`INSERT … SELECT … CROSS JOIN generate_series`, `gen_random_uuid()`): a
contact in 90 % of months (phone, video, school, home, other), a home visit in 85 % of quarters, a second contact
in some months; secondary indexes rebuilt after the load, `VACUUM ANALYZE`. Worklists (`worklist_for` and
`GET /visits/`) are measured for the directors of 50 villages of median size and of the 50 largest villages (the
seed's villages are uneven: median ~265 children, largest ~1,350); the completion table for the district officer
of each district; recording a visit against gunicorn (4 workers × 4 threads, gthread) on 127.0.0.1 with 50
concurrent clients (one director and token each, keep-alive, a different child of the director's village per
request, unique `client_key`), once without think time (saturation) and once with 1 s mean think time per client.
The API's per-user throttle runs but is set high (`API_RATE=1000000/minute`) so that it does not refuse. The
completion table of the largest district is also timed with the query it replaced (per child, EXISTS on
`visits_visit`), interleaved with the new one. Each in-process measure notes the median CPU time of the benchmark
process per call ("app CPU"): the machine is shared, and wall times include waiting for a core."""

PORT = 8787
VISIT_COLUMNS = (
    "id, client_key, child_id, visited_at, visited_on, mode, visitor_id, visitor_name, met, checklist, notes, "
    "latitude, longitude, late_reason, recorded_at"
)
# One row per child × month × kind; kind 1 the month's contact, 2 the quarter's home visit (middle month of a
# calendar quarter), 3 an extra contact. ``keep`` thins them out to realistic completion.
HISTORY_SQL = f"""
INSERT INTO visits_visit ({VISIT_COLUMNS})
SELECT gen_random_uuid(), NULL, g.child_id, g.at, (g.at AT TIME ZONE 'Asia/Shanghai')::date, g.mode,
       %(visitor)s, %(visitor_name)s, '', '{{}}'::jsonb, '', NULL, NULL, '', g.at + interval '3 hours'
FROM (
    SELECT c.id AS child_id, k.kind, random() AS keep,
           extract(month FROM m.start)::int AS month,
           (m.start + make_interval(days => floor(random() * 28)::int) + interval '8 hours'
                    + random() * interval '10 hours') AT TIME ZONE 'Asia/Shanghai' AS at,
           CASE k.kind
               WHEN 2 THEN 'home'
               WHEN 3 THEN 'phone'
               ELSE (ARRAY['phone','phone','phone','phone','phone','phone','phone','video','video',
                           'school','school','home','home','home','other'])[1 + floor(random() * 15)::int]
           END AS mode
    FROM registry_child c
    CROSS JOIN (SELECT %(month0)s::timestamp - make_interval(months => i) AS start
                FROM generate_series(0, %(months)s - 1) AS i) AS m
    CROSS JOIN (VALUES (1), (2), (3)) AS k(kind)
    WHERE c.id >= %(lo)s AND c.id < %(hi)s
) AS g
WHERE g.at <= %(now)s
  AND CASE g.kind WHEN 1 THEN g.keep < 0.90
                  WHEN 2 THEN g.month %% 3 = 2 AND g.keep < 0.85
                  ELSE g.keep < 0.08 END
"""


# --- data ----------------------------------------------------------------------------------------------------


def _execute(sql: str, params: Any = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def backdate_children(ws: c.Workspace) -> None:
    """Put the children on the roll ~2 years ago (spread over a year), so that the history counts."""
    if ws.state.get("backdated"):
        return
    started = time.perf_counter()
    _execute("UPDATE registry_child SET created_at = created_at - interval '25 months' - random() * interval '1 year'")
    _execute("VACUUM ANALYZE registry_child")
    ws.state["backdated"] = time.perf_counter() - started
    ws.save()


def _secondary_indexes() -> list[tuple[str, str]]:
    """(name, CREATE INDEX …) of the indexes of visits_visit that back no constraint."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.tablename = 'visits_visit'
                 AND i.indexname NOT IN (SELECT conname FROM pg_constraint
                                         WHERE conrelid = 'visits_visit'::regclass)
               ORDER BY i.indexname"""
        )
        return [(str(a), str(b)) for a, b in cursor.fetchall()]


def generate_history(ws: c.Workspace, today: dt.date, months: int, chunk: int = 50_000) -> dict[str, Any]:
    """Two years of visits for every child, set-wise; secondary indexes dropped during the load."""
    from django.db import connection
    from django.db.models import Max, Min
    from django.utils import timezone

    from guanai.registry.models import Child

    if ws.state.get("visits"):
        return dict(ws.state["visits"])
    visitor = c.make_user("bench_visitor", "director", c.busiest_village()[0])
    indexes = ws.state.get("visit_indexes") or _secondary_indexes()
    ws.state["visit_indexes"] = indexes
    ws.save()
    started = time.perf_counter()
    for name, _ in indexes:
        _execute(f'DROP INDEX IF EXISTS "{name}"')
    _execute("SET session_replication_role = replica")  # no FK triggers: every reference is valid by construction
    bounds = Child.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    lo, hi = int(bounds["lo"]), int(bounds["hi"])
    month0 = dt.datetime(today.year, today.month, 1)  # noqa: DTZ001 — local wall-clock time, zoned in SQL
    rows = 0
    for start in range(lo, hi + 1, chunk):
        rows += _execute(
            HISTORY_SQL,
            {
                "visitor": visitor.pk,
                "visitor_name": "儿童主任",
                "month0": month0,
                "months": months,
                "lo": start,
                "hi": start + chunk,
                "now": timezone.now(),
            },
        )
        rate = rows / (time.perf_counter() - started)
        print(
            f"\r  visits: {rows:,} rows, children up to {start + chunk:,}, {rate:,.0f} rows/s", end="", file=sys.stderr
        )
    print(file=sys.stderr)
    _execute("SET session_replication_role = origin")
    insert_seconds = time.perf_counter() - started
    started = time.perf_counter()
    _execute("SET maintenance_work_mem = '1GB'")
    for name, ddl in indexes:
        print(f"  index {name} …", file=sys.stderr)
        _execute(ddl)
    index_seconds = time.perf_counter() - started
    started = time.perf_counter()
    connection.close()  # VACUUM cannot run in a transaction block; a fresh autocommit connection
    _execute("VACUUM ANALYZE visits_visit")
    vacuum_seconds = time.perf_counter() - started
    result = {
        "rows": rows,
        "months": months,
        "insert_seconds": insert_seconds,
        "index_seconds": index_seconds,
        "vacuum_seconds": vacuum_seconds,
        "rows_per_second": rows / insert_seconds,
    }
    ws.state["visits"] = result
    ws.save()
    return result


def rebuild_summary(ws: c.Workspace) -> float:
    """The per-child visit summary recomputed set-wise: the history was loaded with triggers off
    (``session_replication_role = replica``), so the summary's triggers did not see it."""
    if ws.state.get("summary_seconds"):
        return float(ws.state["summary_seconds"])
    from django.db import connection

    from guanai.visits.summary import state_rebuild

    started = time.perf_counter()
    state_rebuild()
    connection.close()
    _execute("VACUUM ANALYZE visits_childvisitstate")
    ws.state["summary_seconds"] = time.perf_counter() - started
    ws.save()
    return float(ws.state["summary_seconds"])


# --- users ---------------------------------------------------------------------------------------------------


def villages(n: int, *, typical: bool = False) -> list[tuple[str, int]]:
    """(code, children on the roll) of the ``n`` largest villages, or of ``n`` villages around the median size."""
    from django.db.models import Count

    from guanai.registry.models import Child

    rows = list(
        Child.objects.exclude(status=Child.Status.EXITED)
        .values("village_id")
        .annotate(k=Count("id"))
        .order_by("-k", "village_id")
        .values_list("village_id", "k")
    )
    if typical:
        middle = max(0, len(rows) // 2 - n // 2)
        rows = rows[middle:]
    return [(code, k) for code, k in rows[:n]]


def directors(n: int, *, typical: bool = False) -> list[dict[str, Any]]:
    """Directors of ``n`` villages (the largest, or typical ones), each with a token and the village's children."""
    from rest_framework.authtoken.models import Token

    from guanai.registry.models import Child

    result = []
    for village, size in villages(n, typical=typical):
        user = c.make_user(f"bench_director_{village}", "director", village)
        token, _ = Token.objects.get_or_create(user=user)
        children = list(
            Child.objects.filter(village_id=village).exclude(status=Child.Status.EXITED).values_list("pk", flat=True)
        )
        result.append({"user": user, "village": village, "size": size, "token": token.key, "children": children})
    return result


def district_officers() -> list[tuple[Any, int]]:
    """A district officer per county that has children, with the number of children in it."""
    from django.db.models import Count
    from django.db.models.functions import Substr

    from guanai.registry.models import Child

    counties = (
        Child.objects.exclude(status=Child.Status.EXITED)
        .annotate(county=Substr("village_id", 1, 6))
        .values("county")
        .annotate(k=Count("id"))
        .order_by("-k")
    )
    return [
        (c.make_user(f"bench_district_{r['county']}000000", "district_officer", r["county"] + "000000"), r["k"])
        for r in counties
    ]


# --- the server and the load ---------------------------------------------------------------------------------


@contextmanager
def server(ws: c.Workspace, workers: int, threads: int, port: int = PORT) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn on 127.0.0.1:port with the benchmark's database and secrets; stopped by its pid afterwards."""
    binary = Path(sys.executable).parent / "gunicorn"
    if not binary.exists():
        found = shutil.which("gunicorn")
        if not found:
            raise SystemExit("gunicorn is not installed (a dependency of the project): make lint reinstalls .venv")
        binary = Path(found)
    env = {
        **os.environ,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        # The API's per-user throttle still runs (a cache read and write per request) but does not refuse:
        # clients without think time would reach 600/minute and then spin on cheap 429 answers.
        "API_RATE": "1000000/minute",
    }
    log = (ws.workdir / "gunicorn.log").open("wb")
    command = [
        str(binary), "guanai.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads),
        "--worker-class", "gthread", "--keep-alive", "30", "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=c.ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {proc.returncode}; see {ws.workdir / 'gunicorn.log'}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/v1/me/")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("gunicorn did not answer within 60 s") from None
                time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


CHECKLIST = ["safety", "health", "schooling", "guardianship", "psychological", "living", "needs"]


def _body(child: int, rng: random.Random) -> bytes:
    mode = rng.choices(["phone", "home", "video"], weights=[6, 3, 1])[0]
    items = CHECKLIST if mode == "home" else [*CHECKLIST[:2], "psychological"]
    body = {
        "child": child,
        "mode": mode,
        "visited_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "met": "奶奶" if mode == "home" else "",
        "checklist": {k: {"status": "正常", "note": ""} for k in items},
        "notes": "孩子在家，情况良好。" if mode == "home" else "电话联系，情况正常。",
        "client_key": uuid.uuid4().hex,
    }
    return json.dumps(body, ensure_ascii=False).encode()


def load(
    clients: list[Any], *, duration: float, warmup: float, think: float, port: int = PORT, seed: int = 1
) -> dict[str, Any]:
    """``len(clients)`` threads, each a director posting visits for her village's children until the deadline.

    Latency is measured from sending the request to reading the whole response; requests started during the
    warm-up are not counted. ``think`` is the mean (exponential) pause between a client's requests.
    """
    start = time.monotonic()
    measure_from, stop = start + warmup, start + warmup + duration
    results: list[list[tuple[float, float, int]]] = [[] for _ in clients]
    errors: list[str] = []

    def client(i: int) -> None:
        # A client is one director, or (``rotate``) several in turn: one director alone would be throttled by
        # the API's per-user rate (600/minute) long before the server is saturated.
        specs = clients[i] if isinstance(clients[i], list) else [clients[i]]
        rng = random.Random(seed * 1000 + i)
        queues = []
        for spec in specs:
            children = list(spec["children"])
            rng.shuffle(children)
            headers = {"Authorization": f"Token {spec['token']}", "Content-Type": "application/json"}
            queues.append((children, headers))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        k = 0
        while time.monotonic() < stop:
            children, headers = queues[k % len(queues)]
            body = _body(children[(k // len(queues)) % len(children)], rng)
            k += 1
            t0 = time.monotonic()
            try:
                conn.request("POST", "/api/v1/visits/", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status, payload = 0, repr(exc).encode()
            t1 = time.monotonic()
            results[i].append((t0, (t1 - t0) * 1000, status))
            if status != 201 and len(errors) < 10:
                errors.append(f"{status}: {payload[:200].decode(errors='replace')}")
            if think:
                time.sleep(rng.expovariate(1 / think))
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counted = [(t0, ms, status) for per in results for (t0, ms, status) in per if measure_from <= t0 < stop]
    ok = [ms for _, ms, status in counted if status == 201]
    return {
        "times": ok,
        "requests": len(counted),
        "errors": len(counted) - len(ok),
        "statuses": sorted({status for _, _, status in counted}),
        "throughput": len(ok) / duration,
        "error_samples": errors,
        "per_client": max((len(per) for per in results), default=0),
    }


# --- measures ------------------------------------------------------------------------------------------------


def run(ws: c.Workspace, args: argparse.Namespace, today: dt.date) -> dict[str, Any]:
    from django.test import Client

    from guanai.visits.selectors import completion_by_area, worklist_for, worklist_page

    staff = directors(args.clients)
    officers = district_officers()
    rng = random.Random(args.seed)
    stats: list[c.Stats] = []
    plans: list[tuple[str, str, str, int]] = []
    n = args.samples

    def plan(name: str, fn: Any, contains: str, k: int = 2) -> None:
        queries = c.capture(fn)
        for sql in c.hot_queries(queries, contains=contains, n=k):
            plans.append((name, sql, c.explain(sql), len(queries)))

    # Worklists: directors of typical (median-size) villages and of the largest villages in turn, each call
    # another director; then the largest village alone.
    typical = directors(args.clients, typical=True)
    web: dict[str, Any] = {}
    for d in staff + typical:
        web[d["village"]] = Client()
        web[d["village"]].force_login(d["user"])

    def page(d: dict[str, Any]) -> None:
        response = web[d["village"]].get("/visits/")
        if response.status_code != 200:
            raise RuntimeError(f"/visits/ → {response.status_code}")

    def worklist(d: dict[str, Any]) -> None:
        worklist_for(d["user"], today=today)

    def first_page(d: dict[str, Any]) -> None:
        worklist_page(d["user"], today=today)

    for group, label in ((typical, "typical"), (staff, "largest")):
        order = [group[i % len(group)] for i in range(n)]
        rng.shuffle(order)
        sizes = [d["size"] for d in group]
        note = f"{len(group)} {label} villages, {min(sizes)}–{max(sizes)} children"
        print(f"  worklists, {label} villages …", file=sys.stderr)
        stats.append(c.measure(f"worklist_for(director), {label} villages", worklist, order, target_ms=50, note=note))
        stats.append(
            c.measure(f"worklist_page(director), {label} villages", first_page, order, target_ms=50, note=note)
        )
        stats.append(c.measure(f"GET /visits/, {label} villages", page, order, target_ms=50, note=note))
    largest = staff[0]
    note = f"{largest['size']} children"
    stats.append(c.measure("worklist_for, the largest village", worklist, [largest] * n, target_ms=50, note=note))
    stats.append(c.measure("worklist_page, the largest village", first_page, [largest] * n, target_ms=50, note=note))
    stats.append(c.measure("GET /visits/, the largest village", page, [largest] * n, target_ms=50, note=note))
    plan("worklist_page", lambda: first_page(largest), "CASE WHEN", 2)

    # Completion tables: each district officer, largest district first.
    for officer, size in officers:
        name = f"completion_by_area(level=4), district {officer.region_id[:6]}"
        print(f"  {name} …", file=sys.stderr)
        stats.append(
            c.measure(
                name,
                lambda u: completion_by_area(u, today=today, level=4),
                [officer] * args.completion_samples,
                warmup=2,
                target_ms=300,
                note=f"{size:,} children",
            )
        )
    plan(
        "completion_by_area (largest district)",
        lambda: completion_by_area(officers[0][0], today=today, level=4),
        "visits_childvisitstate",
        1,
    )
    # The same table by the query it replaced (two EXISTS on visits_visit per child), interleaved in time with
    # the new one, so that the comparison holds whatever else the machine is doing.
    big, big_size = officers[0]
    pairs: dict[str, list[float]] = {"new": [], "old": []}
    for _ in range(max(2, args.completion_samples // 3)):
        for label, fn in (("new", completion_by_area), ("old", legacy_completion)):
            started = time.perf_counter()
            fn(big, today=today, level=4)
            pairs[label].append((time.perf_counter() - started) * 1000)
    for label, title in (("old", "the replaced per-child EXISTS query"), ("new", "summary, interleaved with it")):
        stats.append(
            c.Stats(
                f"completion district {big.region_id[:6]}: {title}", pairs[label], 300, note=f"{big_size:,} children"
            )
        )

    # One POST in process (plans and query count), then the real server.
    api = Client()
    poster = staff[0]

    def post_one() -> None:
        response = api.post(
            "/api/v1/visits/",
            data=_body(poster["children"][-1], rng),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {poster['token']}",
        )
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/v1/visits/ → {response.status_code}: {response.content[:200]!r}")

    post_one()
    plan("POST /api/v1/visits/", post_one, "", 2)
    load_results: list[tuple[str, dict[str, Any]]] = []
    if args.no_load:
        return {"stats": stats, "plans": plans, "load": load_results, "staff": staff, "officers": officers}
    with server(ws, args.workers, args.threads):
        single = load([staff], duration=min(20.0, args.duration), warmup=2, think=0)
        stats.append(
            c.Stats(
                "POST /api/v1/visits/, 1 client (gunicorn)",
                single["times"],
                None,
                note=f"{single['throughput']:.0f} req/s",
            )
        )
        load_results.append(("1 client, no think time", single))
        for think, label in ((0.0, "no think time (saturation)"), (args.think, f"think time {args.think:g} s")):
            print(f"  POST /api/v1/visits/ × {len(staff)} clients, {label}, {args.duration:g} s …", file=sys.stderr)
            result = load(staff, duration=args.duration, warmup=args.warmup, think=think, seed=int(think * 10) + 2)
            load_results.append((f"{len(staff)} clients, {label}", result))
            stats.append(
                c.Stats(
                    f"POST /api/v1/visits/, {len(staff)} clients, {label}",
                    result["times"],
                    100,
                    note=f"{result['throughput']:.0f} req/s, {result['errors']} errors",
                )
            )
    return {"stats": stats, "plans": plans, "load": load_results, "staff": staff, "officers": officers}


def report(
    ws: c.Workspace, outcome: dict[str, Any], machine: c.Machine, engine: str, args: argparse.Namespace
) -> tuple[list[str], str]:
    state = ws.state
    sizes = c.table_sizes(["registry_child", "visits_visit", "registry_childgroup", "visits_cadenceperiod"])
    v = state.get("visits", {})
    groups = state.get("groups", {})
    setup = (
        f"visit history: {v.get('rows', 0):,} rows over {v.get('months', 0)} months in "
        f"{v.get('insert_seconds', 0):.0f} s ({v.get('rows_per_second', 0):,.0f} rows/s), indexes rebuilt in "
        f"{v.get('index_seconds', 0):.0f} s, VACUUM ANALYZE {v.get('vacuum_seconds', 0):.0f} s, visit summary "
        f"rebuilt in {state.get('summary_seconds', 0):.0f} s; group derivation "
        f"{groups.get('seconds_per_100k', 0):.0f} s per 100,000 children"
    )
    lines = [
        f"machine: {machine.line()}",
        f"database: {engine}, {c.database_size()}",
        "data: " + "; ".join(f"{k} {val}" for k, val in sizes.items()),
        setup,
        f"server: gunicorn -w {args.workers} --threads {args.threads} (gthread) on 127.0.0.1; load average after: "
        f"{c.load_average()}",
        "",
        *c.table(outcome["stats"]),
        "",
    ]
    for label, r in outcome["load"]:
        lines.append(
            f"load {label}: {r['requests']:,} requests, {r['throughput']:.1f} visits/s recorded, {r['errors']} "
            f"errors (statuses {r['statuses']}), up to {r['per_client']} requests per client"
        )
        lines += [f"    {e}" for e in r["error_samples"][:3]]
    lines.append("")
    for name, sql, plan, n_queries in outcome["plans"]:
        lines += [f"--- {name} ({n_queries} queries; a hot one:)", c.shorten(sql, 500), plan, ""]
    md = [
        f"### {engine}, {state.get('children', 0):,} children, {v.get('rows', 0):,} visits — "
        f"{time.strftime('%Y-%m-%d')}",
        "",
        f"Machine: {machine.line()} (other work may have been running on the machine; load average after the "
        f"measures: {c.load_average()}).",
        f"Data: {', '.join(f'`{k}` {val}' for k, val in sizes.items())}; database {c.database_size()}.",
        f"Set-up: {setup}.",
        f"Server: gunicorn {args.workers} workers × {args.threads} threads (gthread), `DJANGO_DEBUG=0`, database "
        f"on the same 2 cores; load generator (threads, keep-alive) on the same machine; {args.duration:g} s "
        f"measured after {args.warmup:g} s warm-up.",
        "",
        *c.markdown_table(outcome["stats"]),
        "",
    ]
    for label, r in outcome["load"]:
        md.append(
            f"- load, {label}: {r['requests']:,} requests, **{r['throughput']:.1f} visits/s**, {r['errors']} errors"
        )
    md += ["", "Plans (EXPLAIN ANALYZE, BUFFERS) of the hot queries:", ""]
    for name, sql, plan, _ in outcome["plans"]:
        md += [f"*{name}* — `{c.shorten(sql, 300)}`", "", "```", *c.plan_excerpt(plan, 18), "```", ""]
    return lines, "\n".join(md)


def legacy_completion(user: Any, *, today: dt.date, level: int) -> list[dict[str, Any]]:
    """The completion query before visits.ChildVisitState (kept here only to compare): per child on the roll,
    an EXISTS on visits_visit for the month's contact and one for the quarter's home visit."""
    from django.db.models import Count, Exists, OuterRef, Q
    from django.db.models.functions import Substr

    from guanai.lib.dates import month_end, month_start
    from guanai.lib.regioncode import LEVEL_PREFIX_LENGTH
    from guanai.registry.models import Child
    from guanai.registry.selectors import children_for
    from guanai.visits.models import Visit
    from guanai.visits.obligations import period

    n = LEVEL_PREFIX_LENGTH[level]
    m_start, m_end = month_start(today), month_end(today)
    q_start, q_end = period(today, 3)
    contacted = Visit.objects.filter(child=OuterRef("pk"), visited_on__gte=m_start, visited_on__lte=min(m_end, today))
    home = Visit.objects.filter(
        child=OuterRef("pk"), mode="home", visited_on__gte=q_start, visited_on__lte=min(q_end, today)
    )
    rows = (
        children_for(user)
        .exclude(status=Child.Status.EXITED)
        .annotate(area=Substr("village_id", 1, n), c=Exists(contacted), h=Exists(home))
        .values("area")
        .annotate(children=Count("id"), contacted=Count("id", filter=Q(c=True)), home=Count("id", filter=Q(h=True)))
        .order_by("area")
    )
    return [dict(r) for r in rows]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.visits", description=__doc__.split("\n\n")[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--database", default="postgres", help="postgres (default) or postgres://server")
    parser.add_argument("--districts", default=",".join(c.DEFAULT_DISTRICTS))
    parser.add_argument("--months", type=int, default=24, help="months of visit history (default 24)")
    parser.add_argument("--samples", type=int, default=200, help="timed worklist calls (default 200)")
    parser.add_argument("--completion-samples", type=int, default=10)
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients / directors (default 50)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load per run (default 60)")
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--no-load", action="store_true", help="skip the POST load runs against gunicorn")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time of the second load run (s)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", action="store_true", help="keep the database and work directory")
    parser.add_argument("--reuse", help="a kept work directory (of bench.visits or bench.registry), kept")
    parser.add_argument("--record", action="store_true", help=f"write the results into {c.DOCS.name}")
    args = parser.parse_args(argv)
    if args.database == "sqlite":
        raise SystemExit("bench.visits needs PostgreSQL (the history is written with generate_series)")

    from bench.registry import prepare

    machine = c.Machine.describe()
    districts = tuple(d.strip() for d in args.districts.split(",") if d.strip())
    with c.Workspace(args.database, keep=args.keep, reuse=args.reuse, prefix="visits") as ws:
        from django.utils import timezone

        if ws.vendor != "postgresql":
            raise SystemExit("bench.visits needs PostgreSQL")
        today = timezone.localdate()
        prepare(ws, args.children, districts, today)
        backdate_children(ws)
        print("visit history …", file=sys.stderr)
        generate_history(ws, today, args.months)
        print("visit summary …", file=sys.stderr)
        rebuild_summary(ws)
        engine = c.engine_version()
        print("measuring …", file=sys.stderr)
        outcome = run(ws, args, today)
        lines, block = report(ws, outcome, machine, engine, args)
        print("\n".join(lines))
        if args.record:
            c.record_section(SECTION, "1-postgresql", block, INTRO)
            print(f"recorded in {c.DOCS}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

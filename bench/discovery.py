"""Discovery benchmark: link and rule quality on seeded rosters with known truth, this engine against the
``recordlinkage`` toolkit, and end-to-end stage timings at a chosen scale.

    .venv/bin/python -m bench.discovery quality --children 20000 [--database postgres]
    .venv/bin/python -m bench.discovery compare --rows 100000
    .venv/bin/python -m bench.discovery scale --children 300000 --extra 10 --database postgres

``quality``: seed a registry, write the five rosters with noise and ground truth (``guanai seed --rosters``),
import them, run discovery, and score links (precision/recall against the truth, accepted links only; pending
ones are counted apart) and each rule's findings. ``compare``: the same education roster against the registry
through this engine (deterministic + Splink) and through recordlinkage (full-index blocking on birth date or
pinyin, string and date comparisons, threshold on the summed score) — time and F1 on one run. ``scale``: the same
pipeline at a larger size, with each stage timed and the peak memory (RSS) recorded.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import Machine, Workspace, derive_groups, migrate, seed_children

ON = dt.date(2026, 6, 1)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _prepare(children: int, folder: Path, extra: float | None, seed: int) -> dict[str, Any]:
    from guanai.discovery.roster_seed import rosters_write

    timings: dict[str, float] = {}
    timings["migrate"] = migrate()
    seeded = seed_children(children, ("500230", "500101"), seed)
    timings["seed_registry"] = seeded["seconds"]
    timings["derive_groups"] = derive_groups(ON, progress=False)["seconds"]
    t = time.perf_counter()
    written = rosters_write(folder, on=ON, seed=seed, extra=extra)
    timings["write_rosters"] = time.perf_counter() - t
    return {
        "timings": timings,
        "rows": written.rows,
        "truth_findings": written.truth_findings,
        "noise": dict(written.noise),
    }


def _import_all(folder: Path) -> dict[str, float]:
    from guanai.discovery.importer import roster_import

    out = {}
    for source in ("household", "migrant", "education", "disability", "assistance"):
        t = time.perf_counter()
        roster_import(path=folder / f"{source}.csv", source=source)
        out[f"import_{source}"] = time.perf_counter() - t
    return out


def _score_links(folder: Path) -> dict[str, Any]:
    from guanai.discovery.models import Link, RosterRow
    from guanai.registry.models import Child

    numbers = dict(Child.objects.values_list("pk", "child_no"))
    truth: set[tuple[str, int, str]] = set()
    truth_rows: set[tuple[int, int]] = set()
    with (folder / "truth" / "links.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["儿童编号"]:
                truth.add((row["来源"], int(row["来源行号"]), row["儿童编号"]))
            else:
                truth_rows.add((int(row["来源行号"]), int(row["目标行号"])))
    predicted: set[tuple[str, int, str]] = set()
    pending = 0
    for source, row_no, child_id, state in Link.objects.filter(child__isnull=False).values_list(
        "row__source", "row__row_no", "child_id", "state"
    ):
        if state == "accepted":
            predicted.add((source, row_no, numbers[child_id]))
        elif state == "pending":
            pending += 1
    # Roster-to-roster truth is the migrant rows' (a parent's household row); disability and assistance rows are
    # also linked to household rows by ID number, but the generator keeps no truth for those.
    predicted_rows = set(
        Link.objects.filter(target__isnull=False, state="accepted", row__source="migrant").values_list(
            "row__row_no", "target__row_no"
        )
    )
    missed_by_id: dict[str, int] = {}
    linked_rows = {r for r, _ in predicted_rows}
    states = dict(RosterRow.objects.filter(source="migrant").values_list("row_no", "id_state"))
    for r, _t in truth_rows:
        if r not in linked_rows:
            missed_by_id[states.get(r, "?")] = missed_by_id.get(states.get(r, "?"), 0) + 1
    missed_children: dict[str, int] = {}
    child_states = dict(((s, n), st) for s, n, st in RosterRow.objects.values_list("source", "row_no", "id_state"))
    for source, n, _c in truth - predicted:
        key = f"{source}/{child_states.get((source, n), '?')}"
        missed_children[key] = missed_children.get(key, 0) + 1
    tp = len(truth & predicted)
    tp_rows = len(truth_rows & predicted_rows)
    by_source = {}
    for source in ("household", "education", "disability", "assistance"):
        t = {x for x in truth if x[0] == source}
        p = {x for x in predicted if x[0] == source}
        by_source[source] = _pr(len(t & p), len(p), len(t))
    return {
        "child_links": _pr(tp, len(predicted), len(truth)),
        "row_links": _pr(tp_rows, len(predicted_rows), len(truth_rows)),
        "pending": pending,
        "by_source": by_source,
        "missed_row_links_by_id_state": missed_by_id,
        "missed_child_links_by_source_and_id_state": missed_children,
    }


def _pr(tp: int, predicted: int, truth: int) -> dict[str, float | int]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / truth if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "predicted": predicted, "truth": truth, "precision": precision, "recall": recall, "f1": f1}


def _score_findings(folder: Path) -> dict[str, Any]:
    from guanai.discovery.models import Finding

    truth: dict[str, set[str]] = {}
    with (folder / "truth" / "findings.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            truth.setdefault(row["规则"], set()).add(row["对象"])
    found: dict[str, set[str]] = {}
    for f in Finding.objects.select_related("child", "subject_row"):
        if f.child_id and f.child is not None:
            subject = f.child.child_no
        elif f.subject_row is not None:
            subject = f"{f.subject_row.source}:{f.subject_row.row_no}"
        else:
            continue
        found.setdefault(f.rule, set()).add(subject)
    out = {}
    for rule in sorted(set(truth) | set(found)):
        t, p = truth.get(rule, set()), found.get(rule, set())
        out[rule] = _pr(len(t & p), len(p), len(t))
    return out


def quality(args: argparse.Namespace) -> dict[str, Any]:
    with Workspace(args.database, keep=args.keep, prefix="disc") as ws:
        folder = ws.workdir / "rosters"
        prepared = _prepare(args.children, folder, args.extra, args.seed)
        timings = prepared["timings"] | _import_all(folder)
        from guanai.discovery.engine import discovery_run

        t = time.perf_counter()
        run = discovery_run(on=ON)
        timings["discover_run"] = time.perf_counter() - t
        result = {
            "vendor": ws.vendor,
            "children": args.children,
            "rows": prepared["rows"],
            "noise": prepared["noise"],
            "links": _score_links(folder),
            "rules": _score_findings(folder),
            "timings": timings,
            "run_timings": run.timings,
            "peak_mb": _peak_mb(),
        }
    return result


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """Engine vs recordlinkage on one education roster of about ``rows`` rows against the registry."""
    import pandas as pd
    import polars as pl
    import recordlinkage

    children = max(args.rows // 1, 1000)
    with Workspace(args.database, keep=args.keep, prefix="disccmp") as ws:
        folder = ws.workdir / "rosters"
        _prepare(children, folder, 0.0, args.seed)
        from guanai import privacy
        from guanai.discovery import linkage
        from guanai.discovery.importer import roster_import
        from guanai.discovery.models import Link, RosterRow
        from guanai.registry.models import Child

        roster_import(path=folder / "education.csv", source="education")
        truth = set()
        with (folder / "truth" / "links.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["来源"] == "education":
                    truth.add((int(row["来源行号"]), row["儿童编号"]))
        numbers = dict(Child.objects.values_list("pk", "child_no"))

        # --- this engine ------------------------------------------------------------------------------------
        t = time.perf_counter()
        rows = linkage.load_rows()
        kids = linkage.load_children()
        result = linkage.link_all(rows=rows, children=kids)
        engine_seconds = time.perf_counter() - t
        row_no = dict(RosterRow.objects.values_list("pk", "row_no"))
        accepted = result.links.filter((pl.col("kind") == "child") & (pl.col("state") == "accepted"))
        engine_pred = {(row_no[r], numbers[c]) for r, c in accepted.select("row_id", "target_id").iter_rows()}

        # --- recordlinkage ----------------------------------------------------------------------------------
        t = time.perf_counter()
        ring = privacy.keyring()
        left = pd.DataFrame(
            [
                (
                    r.row_no,
                    r.name,
                    r.name_pinyin,
                    r.birth_date,
                    r.sex,
                    ring.decrypt(r.id_number_enc) if r.id_number_enc else None,
                )
                for r in RosterRow.objects.filter(source="education").only(
                    "row_no", "name", "name_pinyin", "birth_date", "sex", "id_number_enc"
                )
            ],
            columns=["row_no", "name", "pinyin", "birth", "sex", "id"],
        ).set_index("row_no")
        right = pd.DataFrame(
            [
                (
                    c.child_no,
                    c.name,
                    c.name_pinyin,
                    c.birth_date,
                    c.sex,
                    ring.decrypt(c.id_number_enc) if c.id_number_enc else None,
                )
                for c in Child.objects.only("child_no", "name", "name_pinyin", "birth_date", "sex", "id_number_enc")
            ],
            columns=["child_no", "name", "pinyin", "birth", "sex", "id"],
        ).set_index("child_no")
        for frame in (left, right):
            frame["birth"] = frame["birth"].astype(str)
        indexer = recordlinkage.Index()
        indexer.block("birth")
        indexer.block("pinyin")
        pairs = indexer.index(left, right)
        comp = recordlinkage.Compare()
        comp.exact("id", "id", label="id")
        comp.string("pinyin", "pinyin", method="jarowinkler", threshold=0.9, label="pinyin")
        comp.string("name", "name", method="levenshtein", threshold=0.6, label="name")
        comp.exact("birth", "birth", label="birth")
        comp.exact("sex", "sex", label="sex")
        features = comp.compute(pairs, left, right)
        score = features["id"] * 3 + features["pinyin"] + features["name"] + features["birth"] + features["sex"] * 0.5
        matched = features[score >= 3.0]
        rl_pred = {(int(a), b) for a, b in matched.index}
        rl_seconds = time.perf_counter() - t
        _ = Link
        return {
            "vendor": ws.vendor,
            "children": children,
            "rows": len(left),
            "engine": {"seconds": engine_seconds, **_pr(len(truth & engine_pred), len(engine_pred), len(truth))},
            "recordlinkage": {
                "seconds": rl_seconds,
                "pairs": len(pairs),
                **_pr(len(truth & rl_pred), len(rl_pred), len(truth)),
            },
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    for name in ("quality", "compare", "scale"):
        p = sub.add_parser(name)
        p.add_argument("--database", default="sqlite")
        p.add_argument("--seed", type=int, default=2024)
        p.add_argument("--keep", action="store_true")
        if name == "compare":
            p.add_argument("--rows", type=int, default=100_000)
        else:
            p.add_argument("--children", type=int, default=20_000)
            p.add_argument("--extra", type=float, default=None, help="unregistered families per registry child")
    args = parser.parse_args(argv)
    machine = Machine.describe()
    print(machine.line(), file=sys.stderr)
    started = time.perf_counter()
    outcome = compare(args) if args.mode == "compare" else quality(args)
    outcome["wall_seconds"] = time.perf_counter() - started
    outcome["peak_mb"] = _peak_mb()
    import json

    print(json.dumps(outcome, ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main()

"""A discovery run (``guanai discover run``): link what has been imported, apply the rules, update findings.

Stages, each timed into the run's record: load (database → polars), link (deterministic + Splink), write links
(bulk), rules (DuckDB), findings (dedup by key, worklist, timeline). Links are recomputed each run from the rows
and the officers' decisions, so they are replaced wholesale; findings persist and are only added to or refreshed
(a closed finding stays closed).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import duckdb
import polars as pl
from django.db import transaction
from django.utils import timezone

from guanai.audit.services import audit_record
from guanai.bulk import bulk_insert
from guanai.discovery import linkage
from guanai.discovery import rules as discovery_rules
from guanai.discovery.frames import query_frame
from guanai.discovery.models import DiscoveryRun, Finding, Link
from guanai.lib import regioncode
from guanai.lib.errors import DomainError
from guanai.registry.models import ChildGroup
from guanai.registry.timeline import timeline_row

log = logging.getLogger("guanai.discovery")
Progress = Callable[[int, int, str], None]
LINK_COLUMNS = [
    "row_id",
    "child_id",
    "target_id",
    "method",
    "probability",
    "explanation",
    "state",
    "region_code",
    "created_at",
]


def latest_rows(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per person and source: when the same valid ID number appears in several batches of a source, the
    newest batch's row stands (an updated roster supersedes the old one)."""
    keyed = rows.filter(pl.col("bidx").is_not_null())
    newest = keyed.sort("batch_id", descending=True).unique(subset=["source", "bidx"], keep="first")
    return pl.concat([newest, rows.filter(pl.col("bidx").is_null())])


def _children_with_groups(prefix: str) -> pl.DataFrame:
    children = linkage.load_children(prefix)
    groups = query_frame(
        f"SELECT CAST(child_id AS TEXT), code FROM {ChildGroup._meta.db_table}",
        {"unique_id": pl.Int64(), "code": pl.String()},
    )
    agg = groups.group_by("unique_id").agg(pl.col("code").str.join(",").alias("groups"))
    return children.join(agg, on="unique_id", how="left")


def _write_links(links: pl.DataFrame, rows: pl.DataFrame, children: pl.DataFrame) -> None:
    now = timezone.now()
    regions = rows.select(pl.col("unique_id").alias("row_id"), pl.col("region_code").alias("row_region"))
    child_regions = children.select(pl.col("unique_id").alias("target_id"), pl.col("region_code").alias("child_region"))
    frame = (
        links.join(regions, on="row_id", how="left")
        .join(child_regions, on="target_id", how="left")
        .with_columns(
            pl.when(pl.col("kind") == "child").then(pl.col("target_id")).otherwise(None).alias("child_id"),
            pl.when(pl.col("kind") == "rows").then(pl.col("target_id")).otherwise(None).alias("target_id"),
            pl.when(pl.col("kind") == "child")
            .then(pl.coalesce("child_region", "row_region"))
            .otherwise(pl.col("row_region"))
            .fill_null("")
            .alias("region_code"),
            pl.lit(now).alias("created_at"),
        )
    )
    Link.objects.all().delete()
    out = frame.select(LINK_COLUMNS)
    for start in range(0, out.height, 50_000):
        bulk_insert(Link, LINK_COLUMNS, list(out.slice(start, 50_000).iter_rows()))


def _responsible(hit: discovery_rules.Hit) -> tuple[str, str]:
    if hit.child_id:
        return "director", hit.region_code
    code = hit.region_code or ""
    if len(code) >= 6 and code[:6].isdigit():
        return "district_officer", code[:6].ljust(12, "0")
    return "district_officer", ""


def _upsert_findings(hits: list[discovery_rules.Hit], run: DiscoveryRun, on: dt.date) -> dict[str, int]:
    ruleset = discovery_rules.ruleset()
    versions = {r["id"]: (int(r["version"]), r["source"]) for r in ruleset["rules"]}
    keys = [h.key for h in hits]
    existing: dict[str, Finding] = {}
    for start in range(0, len(keys), 5000):
        for f in Finding.objects.filter(key__in=keys[start : start + 5000]):
            existing[f.key] = f
    new: list[Finding] = []
    refreshed: list[Finding] = []
    timeline: list[dict[str, Any]] = []
    seen: set[str] = set()
    for h in hits:
        if h.key in seen:
            continue
        seen.add(h.key)
        found = existing.get(h.key)
        if found is not None:
            if found.status == Finding.Status.OPEN:
                found.evidence, found.explanation = h.evidence, h.explanation[:500]
            found.last_seen, found.last_run = on, run
            refreshed.append(found)
            continue
        role, region = _responsible(h)
        version, clause = versions[h.rule]
        new.append(
            Finding(
                key=h.key,
                rule=h.rule,
                rule_version=version,
                source_clause=clause[:200],
                child_id=h.child_id,
                subject_row_id=h.row_id,
                subject_bidx=h.bidx,
                name=h.name[:50],
                region_code=(h.region_code or "")[:12],
                explanation=h.explanation[:500],
                evidence=h.evidence,
                responsible_role=role,
                responsible_region=region,
                first_run=run,
                last_run=run,
                first_seen=on,
                last_seen=on,
            )
        )
    Finding.objects.bulk_create(new, batch_size=2000)
    Finding.objects.bulk_update(refreshed, ["evidence", "explanation", "last_seen", "last_run"], batch_size=2000)
    title = {r["id"]: r["title"] for r in ruleset["rules"]}
    for f in new:
        if f.child_id:
            timeline.append(
                timeline_row(
                    child=f.child_id,
                    kind="discovery.finding",
                    summary=f"数据比对发现：{title[f.rule]}。{f.explanation}",
                    source_type="finding",
                    source_id=f.key[:16],
                    detail={"rule": f.rule},
                )
            )
    if timeline:
        from guanai.registry.models import TimelineEvent

        TimelineEvent.objects.bulk_create([TimelineEvent(**row) for row in timeline], batch_size=2000)
    return {"findings_new": len(new), "findings_seen_again": len(refreshed)}


def discovery_run(
    *,
    actor: Any = None,
    on: dt.date,
    region: str = "",
    retrain: bool = False,
    progress: Progress | None = None,
) -> DiscoveryRun:
    """Link and apply the discovery rules to everything imported (§8, §10, §18)."""
    report = progress or (lambda done, total, message: None)
    prefix = ""
    if region:
        try:
            prefix = regioncode.prefix(region)
        except regioncode.RegionCodeError as exc:
            raise DomainError("bad_region", exc.message) from exc
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    run = DiscoveryRun.objects.create(on=on, region=prefix, rules_version=int(discovery_rules.ruleset()["version"]))

    report(0, 5, "读取名册和儿童档案")
    rows = latest_rows(linkage.load_rows())
    children = _children_with_groups(prefix)
    timings["load"] = round(time.monotonic() - t0, 2)

    t = time.monotonic()
    result = linkage.link_all(rows=rows, children=children, retrain=retrain, progress=lambda d, n, m: report(1, 5, m))
    timings["link"] = round(time.monotonic() - t, 2)
    timings.update(result.timings)

    t = time.monotonic()
    report(2, 5, "写入比对结果")
    with transaction.atomic():
        _write_links(result.links, rows, children)
    timings["write_links"] = round(time.monotonic() - t, 2)

    t = time.monotonic()
    report(3, 5, "运行发现规则")
    con = duckdb.connect(":memory:")
    try:
        discovery_rules.prepare(con, rows, result.links, children)
        hits = discovery_rules.evaluate(con, on, region=prefix)
    finally:
        con.close()
    timings["rules"] = round(time.monotonic() - t, 2)

    t = time.monotonic()
    report(4, 5, "更新发现线索")
    with transaction.atomic():
        counts = _upsert_findings(hits, run, on)
        by_rule: dict[str, int] = {}
        for h in hits:
            by_rule[h.rule] = by_rule.get(h.rule, 0) + 1
        states = result.links.group_by("method", "state").len()
        link_counts = {f"{m}/{s}": int(n) for m, s, n in states.iter_rows()}
        timings["findings"] = round(time.monotonic() - t, 2)
        timings["total"] = round(time.monotonic() - t0, 2)
        summary = (
            f"名册行{rows.height}，儿童{children.height}；链接："
            + "，".join(f"{k} {v}" for k, v in sorted(link_counts.items()))
            + f"；线索：新增{counts['findings_new']}，再次发现{counts['findings_seen_again']}"
            + (("（" + "，".join(f"{k} {v}" for k, v in sorted(by_rule.items())) + "）") if by_rule else "")
        )
        run.stats = {
            "rows": rows.height,
            "children": children.height,
            "links": link_counts,
            "link_detail": result.counts,
            "hits": by_rule,
            **counts,
            "summary": summary,
        }
        run.timings = timings
        run.finished_at = timezone.now()
        run.save(update_fields=["stats", "timings", "finished_at"])
        audit_record(
            actor=actor,
            action="discovery.run",
            object_type="discovery_run",
            object_id=run.pk,
            summary=f"数据比对运行{run.pk}（{on}{'，区划' + prefix if prefix else ''}）：{summary}"[:500],
            after={"stats": json.loads(json.dumps(run.stats, default=str)), "timings": timings},
        )
    report(5, 5, "完成")
    log.info("discovery run %s: %s", run.pk, json.dumps(timings))
    return run

"""The daily job kinds: re-derive groups that change with time, then reminders and escalations."""

from __future__ import annotations

from typing import Any

from guanai.jobs.runner import JobContext, job_kind
from guanai.lib.parse import parse_date


@job_kind("registry.refresh")
def registry_refresh(ctx: JobContext) -> dict[str, Any]:
    from guanai.registry.groups import CHUNK, children_due_for_refresh, groups_refresh

    day = parse_date(ctx.params["day"])
    ids = children_due_for_refresh(day)
    changed = 0
    for start in range(0, len(ids), CHUNK):
        changed += groups_refresh(child_ids=ids[start : start + CHUNK], today=day)
        ctx.progress(min(start + CHUNK, len(ids)), len(ids), "更新儿童类别")
    return {"日期": str(day), "检查儿童": len(ids), "类别变化": changed}


@job_kind("visits.remind")
def visits_remind(ctx: JobContext) -> dict[str, Any]:
    from guanai.visits.services import reminders_run

    day = parse_date(ctx.params["day"])
    return {"日期": str(day), "新通知": reminders_run(today=day)}

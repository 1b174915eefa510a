"""Job kinds of oversight: the daily KPI snapshot refresh and the November reminder of the annual report."""

from __future__ import annotations

from typing import Any

from guanai.jobs.runner import JobContext, job_kind
from guanai.lib.parse import parse_date


@job_kind("oversight.kpi_refresh")
def kpi_refresh_job(ctx: JobContext) -> dict[str, Any]:
    from guanai.oversight.services import kpi_refresh

    day = parse_date(ctx.params["day"])
    result = kpi_refresh(day=day, today=day, progress=lambda done, total, msg: ctx.progress(done, total, msg))
    return {"日期": str(day), "期间": "、".join(result["periods"]), "快照行数": result["rows"]}


@job_kind("oversight.annual_remind")
def annual_remind_job(ctx: JobContext) -> dict[str, Any]:
    from guanai.oversight.services import annual_report_remind

    day = parse_date(ctx.params["day"])
    return {"日期": str(day), "新通知": annual_report_remind(today=day)}

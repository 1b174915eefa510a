"""Background job kinds of discovery: a roster import uploaded in the web, and a discovery run."""

from __future__ import annotations

from typing import Any

from guanai.jobs.runner import JobContext, job_kind


@job_kind("rosters.import")
def rosters_import_job(ctx: JobContext) -> dict[str, Any]:
    from guanai.accounts.models import User
    from guanai.discovery.importer import roster_dir, roster_import

    params = ctx.params
    actor = User.objects.filter(pk=ctx.job.created_by_id).first() if ctx.job.created_by_id else None
    result = roster_import(
        path=roster_dir() / params["path"],
        source=params["source"],
        actor=actor,
        file_name=params.get("file_name"),
        progress=lambda done, total, message: ctx.progress(done, total, message),
    )
    return {
        "batch": result.batch.pk,
        "created": result.created,
        "summary": result.summary(),
        "issues": len(result.issues),
    }


@job_kind("discovery.run")
def discovery_run_job(ctx: JobContext) -> dict[str, Any]:
    import datetime as dt

    from guanai.accounts.models import User
    from guanai.discovery.engine import discovery_run

    params = ctx.params
    actor = User.objects.filter(pk=ctx.job.created_by_id).first() if ctx.job.created_by_id else None
    run = discovery_run(
        actor=actor,
        on=dt.date.fromisoformat(params["on"]),
        region=params.get("region", ""),
        progress=lambda done, total, message: ctx.progress(done, total, message),
    )
    return {
        "run": run.pk,
        "summary": run.stats.get("summary", ""),
        **{k: v for k, v in run.stats.items() if k != "summary"},
    }

"""Support jobs: batch-drafting care plans for a region (progress on the job page) and the daily needs refresh."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from guanai.jobs.runner import JobContext, job_kind


@job_kind("support.plans_draft")
def plans_draft(ctx: JobContext) -> dict[str, Any]:
    from guanai.accounts.models import User
    from guanai.support.services import plans_draft_batch

    params = ctx.params
    actor = User.objects.get(pk=params["actor"])
    on = dt.date.fromisoformat(params["on"])
    result = plans_draft_batch(
        actor=actor, region_code=params["region"], on=on, progress=lambda done, total: ctx.progress(done, total)
    )
    return {"生成方案": result["plans"], "帮扶措施": result["actions"]}


@job_kind("support.needs_refresh")
def needs_refresh(ctx: JobContext) -> dict[str, Any]:
    from guanai.support.services import needs_derive

    result = needs_derive(child_ids=None, on=timezone.localdate())
    return {"新发现需求": result["opened"], "自动关闭": result["closed"]}

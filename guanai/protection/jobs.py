"""The protection deadline job: deliver and escalate reports, remind reassessments and overdue case tasks,
refresh risk grades that change with time. Hourly is enough for the 24-hour acceptance deadline."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from guanai.jobs.runner import JobContext, job_kind


@job_kind("protection.deadlines")
def protection_deadlines(ctx: JobContext) -> dict[str, Any]:
    from guanai.protection.services import (
        case_tasks_remind,
        reassessments_remind,
        reports_escalate,
        risk_refresh_due,
    )

    now = timezone.now()
    today = timezone.localdate(now)
    reports = reports_escalate(now=now)
    return {
        "时间": timezone.localtime(now).strftime("%Y-%m-%d %H:%M"),
        "送达报告通知": reports["delivered"],
        "超期上报": reports["escalated"],
        "复评提醒": reassessments_remind(today=today),
        "逾期任务提醒": case_tasks_remind(today=today),
        "风险等级更新": risk_refresh_due(today=today),
    }

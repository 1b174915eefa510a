from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from guanai.accounts.models import User
from guanai.jobs.models import Job
from guanai.lib.errors import NotFound


def jobs_for(user: User) -> QuerySet[Job]:
    """A user's own jobs: job parameters and results can name files and children of their jurisdiction."""
    return Job.objects.filter(created_by=user)


def job_get(user: User, pk: str) -> Job:
    try:
        return jobs_for(user).get(pk=pk)
    except (Job.DoesNotExist, ValueError, ValidationError):
        raise NotFound("未找到该任务") from None

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from guanai.accounts.current import request_user
from guanai.jobs.runner import job_retry
from guanai.jobs.selectors import job_get, jobs_for


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    return render(request, "jobs/list.html", {"jobs": jobs_for(request_user(request))[:50]})


@login_required
def job_detail(request: HttpRequest, pk: str) -> HttpResponse:
    job = job_get(request_user(request), pk)
    template = "jobs/_progress.html" if request.headers.get("HX-Request") else "jobs/detail.html"
    return render(request, template, {"job": job})


@login_required
@require_POST
def job_rerun(request: HttpRequest, pk: str) -> HttpResponse:
    job = job_retry(job=job_get(request_user(request), pk), actor=request_user(request))
    return redirect("jobs:detail", pk=job.pk)

"""Discovery pages: roster upload and discovery runs (jobs with progress), the review queue, findings.

Thin: parse input, call one service, render. Rules live in services/engine; reads go through selectors.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanai.accounts import roles
from guanai.accounts.current import request_user
from guanai.accounts.models import User
from guanai.discovery import rules as discovery_rules
from guanai.discovery.importer import issues_report, roster_dir
from guanai.discovery.linkage import explain_levels
from guanai.discovery.models import DiscoveryRun, Finding, Link
from guanai.discovery.selectors import batches_for, finding_get, findings_for, link_get, review_queue
from guanai.discovery.services import confirmation_rates, finding_confirm, finding_reject, link_decide, prefill
from guanai.jobs.runner import job_enqueue
from guanai.jobs.selectors import jobs_for
from guanai.lib import rosters
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.registry.models import ChildRelation

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def _require(user: User, permission: str) -> None:
    if not user.can(permission):
        raise PermissionRefused()


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponseBase:
    """Upload a roster, start a run, see the last runs and each rule's confirmation rate."""
    user = request_user(request)
    _require(user, "discovery.run")
    error = ""
    if request.method == "POST" and request.POST.get("action") == "run":
        job = job_enqueue(
            kind="discovery.run",
            title="数据比对与主动发现",
            params={"on": timezone.localdate().isoformat(), "region": ""},
            actor=user,
        )
        return redirect("jobs:detail", pk=job.pk)
    if request.method == "POST":
        upload = request.FILES.get("file")
        source = request.POST.get("source", "")
        suffix = Path(upload.name or "").suffix.lower() if upload else ""
        if source not in rosters.SOURCES:
            error = "请选择名册来源"
        elif upload is None:
            error = "请选择要上传的文件"
        elif suffix not in (".csv", ".xlsx"):
            error = "只能上传.csv或.xlsx文件"
        elif not upload.size:
            error = "文件为空"
        elif upload.size > MAX_UPLOAD_BYTES:
            error = f"文件过大（上限{MAX_UPLOAD_BYTES // 1024 // 1024}MB），请拆分后分批上传"
        else:
            folder = roster_dir()
            folder.mkdir(parents=True, exist_ok=True)
            stored = f"{uuid.uuid4().hex}{suffix}"
            with (folder / stored).open("wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            shown = Path((upload.name or stored).replace("\\", "/")).name[:100]
            job = job_enqueue(
                kind="rosters.import",
                title=f"导入{rosters.SOURCES[source]}名册 {shown}",
                params={"path": stored, "source": source, "file_name": shown},
                actor=user,
            )
            return redirect("jobs:detail", pk=job.pk)
    return render(
        request,
        "discovery/home.html",
        {
            "error": error,
            "sources": rosters.SOURCES,
            "templates": {k: [c.header for c in v] for k, v in rosters.TEMPLATES.items()},
            "batches": batches_for(user)[:20],
            "runs": DiscoveryRun.objects.order_by("-started_at")[:5],
            "jobs": jobs_for(user).filter(kind__in=["rosters.import", "discovery.run"])[:8],
            "rates": confirmation_rates(findings_for(user)),
            "pending": review_queue(user).count(),
        },
    )


@login_required
@require_GET
def batch_issues(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    batch = batches_for(user).filter(pk=pk).first()
    if batch is None:
        raise NotFound()
    response = HttpResponse("\ufeff" + issues_report(batch), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="roster-{batch.pk}-issues.csv"'
    return response


@login_required
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(user, "discovery.run")
    links = list(review_queue(user)[:50])
    return render(
        request,
        "discovery/review.html",
        {"links": links, "total": review_queue(user).count(), "levels": explain_levels()},
    )


@login_required
@require_POST
def review_decide(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = request_user(request)
    link = link_get(user, pk)
    decision = request.POST.get("decision", "")
    try:
        link_decide(actor=user, link_pk=link.pk, decision=decision, note=request.POST.get("note", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已确认是同一人" if decision == "accept" else "已标记为不是同一人")
    return redirect("discovery:review")


@login_required
@require_GET
def findings(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    _require(user, "finding.handle")
    status = request.GET.get("status", "open")
    rule = request.GET.get("rule", "")
    qs = findings_for(user)
    if status in Finding.Status.values:
        qs = qs.filter(status=status)
    if rule:
        qs = qs.filter(rule=rule)
    titles = {r["id"]: r["title"] for r in discovery_rules.ruleset()["rules"]}
    page = Paginator(qs.select_related("child"), 30).get_page(request.GET.get("page"))
    for f in page:
        f.title = titles.get(f.rule, f.rule)  # type: ignore[attr-defined]
    query = urlencode({k: v for k, v in (("status", status), ("rule", rule)) if v})
    return render(
        request,
        "discovery/findings.html",
        {
            "findings": page,
            "page": page,
            "query": query,
            "status": status,
            "rule": rule,
            "titles": titles,
            "statuses": Finding.Status.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def finding_detail(request: HttpRequest, pk: int) -> HttpResponseBase:
    user = request_user(request)
    finding = finding_get(user, pk)
    spec = discovery_rules.rule(finding.rule)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "reject":
                finding_reject(actor=user, pk=finding.pk, reason=request.POST.get("reason", ""))
                messages.success(request, "已排除该线索")
            else:
                outcome = request.POST.get("outcome", "")
                done = finding_confirm(
                    actor=user,
                    pk=finding.pk,
                    outcome=outcome,
                    today=timezone.localdate(),
                    note=request.POST.get("note", ""),
                )
                if done.registered_child_id:
                    messages.success(request, f"已登记建档：{done.registered_child.name}")  # type: ignore[union-attr]
                    return redirect("web:child", pk=done.registered_child_id)
                messages.success(request, "已确认该线索")
            return redirect("discovery:finding", pk=finding.pk)
        except DomainError as exc:
            error = exc.message
    draft = None
    family: list[dict[str, str]] = []
    if finding.status == Finding.Status.OPEN and "registration" in spec.get("outcomes", []) and not finding.child_id:
        try:
            data, members = prefill(finding)
        except DomainError:
            data, members = None, []
        if data is not None:
            draft = data
            family = [
                {
                    "relation": ChildRelation.Relation(m.relation).label,
                    "name": m.name,
                    "statuses": "、".join(s.kind for s in m.statuses),
                }
                for m in members
            ]
    outcomes = [(o, Finding.Outcome(o).label) for o in spec.get("outcomes", [])]
    return render(
        request,
        "discovery/finding.html",
        {
            "f": finding,
            "spec": spec,
            "error": error,
            "draft": draft,
            "family": family,
            "outcomes": outcomes,
            "sources": rosters.SOURCES,
            "responsible_label": roles.get(finding.responsible_role).label,
        },
    )


def pending_count(user: User) -> int:
    return review_queue(user).count() if user.can("discovery.run") else 0


__all__ = ["Link", "pending_count"]

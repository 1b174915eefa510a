"""Pages for the roster import (upload → background job → result or error report) and the roster export.

Thin: check the role, save the upload, enqueue the job; the rules live in ``registry.importer``.
"""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from guanai.accounts.current import request_user
from guanai.accounts.models import User
from guanai.audit.services import access_record
from guanai.jobs.runner import job_enqueue
from guanai.jobs.selectors import job_get, jobs_for
from guanai.lib.errors import NotFound, PermissionRefused
from guanai.registry.exporter import children_export
from guanai.registry.importer import (
    CARE_SLOTS,
    HEADERS,
    REQUIRED_HEADERS,
    error_report_path,
    import_dir,
)
from guanai.registry.models import PersonStatus
from guanai.registry.selectors import children_search

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ALLOWED_SUFFIXES = (".csv", ".xlsx")
# A web export is built in the request; larger rosters are exported by the operator's command.
WEB_EXPORT_LIMIT = 50_000
SAMPLES = Path(settings.BASE_DIR) / "docs" / "samples"
SAMPLE_TYPES = {
    "csv": ("children_sample.csv", "text/csv; charset=utf-8"),
    "xlsx": ("children_sample.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _require_edit(user: User) -> None:
    if not user.can("child.edit"):
        raise PermissionRefused("您的角色无权导入儿童信息")


def _safe_name(name: str) -> str:
    """The uploaded file's name for display only (never used as a path)."""
    base = Path(name.replace("\\", "/")).name
    return re.sub(r"[\x00-\x1f<>:\"|?*]", "", base)[:100] or "名册"


def _sample(kind: str) -> HttpResponseBase:
    file_name, content_type = SAMPLE_TYPES[kind]
    path = SAMPLES / file_name
    if path.exists():
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=f"儿童名册导入模板.{kind}", content_type=content_type
        )
    # Installed without the docs folder: the header row alone is still a usable template.
    body = ("\ufeff" + ",".join(HEADERS) + "\r\n").encode("utf-8")
    return FileResponse(
        io.BytesIO(body), as_attachment=True, filename="儿童名册导入模板.csv", content_type=SAMPLE_TYPES["csv"][1]
    )


@login_required
@require_http_methods(["GET", "POST"])
def children_import_page(request: HttpRequest) -> HttpResponseBase:
    user = request_user(request)
    _require_edit(user)
    sample = request.GET.get("sample", "")
    if request.method == "GET" and sample in SAMPLE_TYPES:
        return _sample(sample)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        suffix = Path(upload.name or "").suffix.lower() if upload else ""
        if upload is None:
            error = "请选择要上传的文件"
        elif suffix not in ALLOWED_SUFFIXES:
            error = "只能上传.csv或.xlsx文件" + ("（旧版.xls请在Excel中另存为.xlsx）" if suffix == ".xls" else "")
        elif upload.size is None or upload.size == 0:
            error = "文件为空"
        elif upload.size > MAX_UPLOAD_BYTES:
            error = f"文件过大（上限{MAX_UPLOAD_BYTES // 1024 // 1024}MB），请拆分后分批上传"
        else:
            folder = import_dir()
            folder.mkdir(parents=True, exist_ok=True)
            stored = f"{uuid.uuid4().hex}{suffix}"  # never the user's name: no path tricks, no collisions
            with (folder / stored).open("wb") as fh:
                for chunk in upload.chunks():
                    fh.write(chunk)
            shown = _safe_name(upload.name or stored)
            job = job_enqueue(
                kind="children.import",
                title=f"导入儿童名册 {shown}",
                params={"path": stored, "file_name": shown},
                actor=user,
            )
            return redirect("jobs:detail", pk=job.pk)
    recent = list(jobs_for(user).filter(kind="children.import")[:10])
    return render(
        request,
        "registry/import.html",
        {
            "error": error,
            "headers": HEADERS,
            "required": REQUIRED_HEADERS,
            "statuses": [label for _, label in PersonStatus.Kind.choices],
            "care_slots": CARE_SLOTS,
            "max_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
            "recent": recent,
        },
        status=400 if error else 200,
    )


@login_required
@require_GET
def import_errors(request: HttpRequest, pk: str) -> HttpResponseBase:
    """The error report of an import, to the user who uploaded it only (jobs are visible to their owner)."""
    job = job_get(request_user(request), pk)
    if job.kind != "children.import":
        raise NotFound("未找到该导入任务")
    stored = Path(str(job.params.get("path", ""))).name
    report = error_report_path(import_dir() / stored)
    if not stored or not report.is_file():
        raise NotFound("没有该任务的错误报告（文件已全部导入，或报告已被清理）")
    shown = Path(str(job.params.get("file_name") or stored)).stem
    return FileResponse(
        report.open("rb"), as_attachment=True, filename=f"{shown}.errors.csv", content_type="text/csv; charset=utf-8"
    )


@login_required
@require_GET
def children_export_view(request: HttpRequest) -> HttpResponseBase:
    """The roster as .xlsx with the roster page's filters. ID numbers and phones are masked unless the role may
    reveal them; every export is recorded in the access log."""
    user = request_user(request)
    if not user.can("child.view"):
        raise PermissionRefused("您的角色无权导出儿童名册")
    get = request.GET
    qs = children_search(
        user,
        q=get.get("q", "").strip(),
        region=get.get("region", "").strip(),
        group=get.get("group", "").strip(),
        status=get.get("status", "").strip(),
        age_band=get.get("age_band", "").strip(),
    )
    count = qs.count()
    if count > WEB_EXPORT_LIMIT:
        return render(
            request,
            "web/error.html",
            {
                "title": "导出范围过大",
                "message": f"符合条件的儿童有{count}名，网页导出上限为{WEB_EXPORT_LIMIT}名。"
                "请按乡镇或村（社区）筛选后分批导出。",
            },
            status=400,
        )
    reveal = user.can("child.reveal")
    buffer = io.BytesIO()
    written = children_export(qs, buffer, reveal=reveal)
    file_name = f"儿童名册-{timezone.localtime():%Y%m%d-%H%M%S}.xlsx"
    access_record(
        actor=user,
        action="children.export",
        object_type="export",
        object_id=f"{file_name[:40]}（{written}名）",
        field="id_number" if reveal else "",
    )
    buffer.seek(0)
    return FileResponse(
        buffer,
        as_attachment=True,
        filename=file_name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

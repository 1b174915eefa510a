"""Oversight services (四(二)): KPI snapshots, archive spot checks and rectification, milestones, the annual
report's narrative and submission, exemplary cases, the November reminder."""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from guanai import rules
from guanai.accounts.models import User
from guanai.accounts.scope import covers, in_prefix
from guanai.audit.services import audit_record
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.oversight.calculators import CALCULATORS, on_roll
from guanai.oversight.kpis import Window, kpis, rule_version, window
from guanai.oversight.models import (
    AnnualReport,
    ExemplaryCase,
    KpiSnapshot,
    MilestoneProgress,
    RectificationTask,
    SpotCheck,
    SpotCheckItem,
)
from guanai.regions.models import Region

log = logging.getLogger("guanai.oversight")
Progress = Callable[[int, int, str], None]


@cache
def oversight_rules() -> dict[str, Any]:
    return rules.load("oversight")


@cache
def milestone_rules() -> list[dict[str, Any]]:
    return list(rules.load("milestones")["milestones"])


# --- KPI snapshots -------------------------------------------------------------------------------------------


def kpi_windows(day: dt.date, today: dt.date) -> dict[str, Window]:
    """The window of each active KPI that contains ``day`` (as of ``today`` at the latest)."""
    return {k.id: window(k.period, day, today) for k in kpis().values() if k.active and k.id in CALCULATORS}


def kpi_refresh(
    *, day: dt.date, today: dt.date, only: Iterable[str] = (), progress: Progress | None = None
) -> dict[str, Any]:
    """Compute every active KPI for the periods containing ``day`` and replace their snapshot rows.

    Idempotent: a (kpi, period) is deleted and rewritten in one transaction, so a dashboard reads either the old
    or the new rows of a KPI, never a mix.
    """
    windows = kpi_windows(day, today)
    if only:
        unknown = set(only) - set(windows)
        if unknown:
            raise DomainError("unknown_kpi", f"未知或暂不计算的指标：{'、'.join(sorted(unknown))}")
        windows = {k: w for k, w in windows.items() if k in set(only)}
    version = rule_version()
    now = timezone.now()
    written, timings = 0, {}
    for index, (kpi_id, w) in enumerate(windows.items()):
        if progress:
            progress(index, len(windows), f"{kpis()[kpi_id].label} {w.label}")
        started = time.monotonic()
        result = CALCULATORS[kpi_id](w)
        rows = [
            KpiSnapshot(
                kpi=kpi_id,
                region_code=code,
                level=level,
                period=w.code,
                period_start=w.start,
                period_end=w.end,
                as_of=w.as_of,
                numerator=num,
                denominator=den,
                value=(round(100.0 * num / den, 2) if den else None) if kpis()[kpi_id].is_rate else float(num),
                rule_version=version,
                computed_at=now,
            )
            for (level, code), (num, den) in result.items()
        ]
        with transaction.atomic():
            KpiSnapshot.objects.filter(kpi=kpi_id, period=w.code).delete()
            KpiSnapshot.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
        timings[kpi_id] = round(time.monotonic() - started, 2)
        log.info("kpi %s %s: %d rows in %.2fs", kpi_id, w.code, len(rows), timings[kpi_id])
    if progress:
        progress(len(windows), len(windows), "完成")
    return {"periods": sorted({w.code for w in windows.values()}), "rows": written, "seconds": timings}


# --- spot checks (§8 每年开展一次抽查) --------------------------------------------------------------------------


def _require_manage(actor: User, code: str) -> None:
    if not actor.can("oversight.manage"):
        raise PermissionRefused("您的角色无权开展督导检查")
    if not covers(actor, code):
        raise PermissionRefused("该区域不在您的管辖范围内")


def stratified_sample(
    population: Mapping[str, list[int]], *, size: int, seed: int, minimum: int = 1
) -> dict[str, list[int]]:
    """A sample of ``size`` ids drawn per stratum (township) in proportion to its size, at least ``minimum``
    from every stratum that has any (largest remainders settle the rounding). Reproducible: the same population,
    size and seed give the same sample on any machine and database."""
    strata = {k: sorted(v) for k, v in sorted(population.items()) if v}
    total = sum(len(v) for v in strata.values())
    if total == 0:
        return {}
    size = min(size, total)
    alloc = {k: min(len(v), minimum) for k, v in strata.items()}
    rest = size - sum(alloc.values())
    if rest > 0:
        shares = {k: rest * len(v) / total for k, v in strata.items()}
        extra = {k: min(int(shares[k]), len(strata[k]) - alloc[k]) for k in strata}
        for k in strata:
            alloc[k] += extra[k]
        left = size - sum(alloc.values())
        order = sorted(strata, key=lambda k: (-(shares[k] - int(shares[k])), k))
        while left > 0:  # largest remainders first; strata already full pass their turn on
            for k in order:
                if left > 0 and alloc[k] < len(strata[k]):
                    alloc[k] += 1
                    left -= 1
    rng = random.Random(seed)
    return {k: sorted(rng.sample(strata[k], alloc[k])) for k in strata if alloc[k]}


@transaction.atomic
def spotcheck_draw(
    *, actor: User, district: str, year: int, size: int | None = None, seed: int | None = None, today: dt.date
) -> SpotCheck:
    """Draw the year's archive sample of a district, stratified by township (§8)."""
    region = Region.objects.filter(code=district, level=Region.Level.COUNTY).first()
    if region is None:
        raise DomainError("unknown_district", f"区县代码{district}不存在")
    _require_manage(actor, region.code)
    cfg = oversight_rules()["spot_check"]
    size = int(size or cfg["default_size"])
    if not 1 <= size <= 2000:
        raise DomainError("bad_size", "样本量应在1到2000之间")
    if seed is None:
        seed = random.SystemRandom().randrange(1, 2**31)
    if SpotCheck.objects.filter(district=region, year=year, status=SpotCheck.Status.OPEN).exists():
        raise DomainError("spotcheck_open", f"{region.name}{year}年度有尚未出结论的抽查，请先完成")
    population: dict[str, list[int]] = defaultdict(list)
    villages: dict[int, str] = {}
    for pk, village in on_roll(today).filter(in_prefix("village_id", region.prefix)).values_list("pk", "village_id"):
        population[village[:9]].append(pk)
        villages[pk] = village
    sample = stratified_sample(population, size=size, seed=seed, minimum=int(cfg["min_per_township"]))
    drawn = sum(len(v) for v in sample.values())
    if drawn == 0:
        raise DomainError("nothing_to_sample", f"{region.name}没有在册儿童档案可供抽查")
    check = SpotCheck.objects.create(
        district=region,
        year=year,
        seed=seed,
        size=drawn,
        population=len(villages),
        drawn_on=today,
        rule_version=int(oversight_rules()["version"]),
        created_by=actor,
    )
    SpotCheckItem.objects.bulk_create(
        [
            SpotCheckItem(spot_check=check, child_id=pk, township_code=t.ljust(12, "0"), village_code=villages[pk])
            for t, ids in sample.items()
            for pk in ids
        ]
    )
    audit_record(
        actor=actor,
        action="spotcheck.draw",
        object_type="spot_check",
        object_id=check.pk,
        summary=f"{region.name}{year}年度档案抽查：从{len(villages)}份档案中抽取{drawn}份（种子{seed}）",
        after={"district": region.code, "year": year, "size": drawn, "seed": seed, "strata": len(sample)},
    )
    return check


def checklist() -> list[dict[str, str]]:
    return list(oversight_rules()["spot_check"]["checklist"])


@transaction.atomic
def spotcheck_review(
    *, actor: User, item: SpotCheckItem, answers: Mapping[str, str], notes: str, today: dt.date
) -> SpotCheckItem:
    """The inspector's checklist for one sampled archive. Every ``fail`` becomes a rectification task for the
    village's responsible director, due in ``rectification_days``."""
    from guanai.workforce.selectors import responsible_director

    item = SpotCheckItem.objects.select_for_update().select_related("spot_check").get(pk=item.pk)
    check = item.spot_check
    _require_manage(actor, check.district_id)
    if check.status != SpotCheck.Status.OPEN:
        raise DomainError("spotcheck_closed", "该抽查已出结论，不能再修改")
    cfg = oversight_rules()["spot_check"]
    items = {c["id"]: c["label"] for c in cfg["checklist"]}
    allowed = set(cfg["answers"])
    clean = {k: v for k, v in answers.items() if v}
    missing = [label for key, label in items.items() if key not in clean]
    if missing:
        raise DomainError("checklist_incomplete", f"请完成检查清单：{'、'.join(missing)}")
    bad = [k for k, v in clean.items() if k not in items or v not in allowed]
    if bad:
        raise DomainError("checklist_bad", f"检查清单有无效项：{'、'.join(bad)}")
    failed = [items[k] for k in items if clean[k] == "fail"]
    if failed and not notes.strip():
        raise DomainError("notes_required", "有不合格项时请填写检查意见（整改要求）")
    item.answers = {k: clean[k] for k in items}
    item.notes = notes.strip()
    item.result = SpotCheckItem.Result.FAILED if failed else SpotCheckItem.Result.PASSED
    item.reviewed_by = actor
    item.reviewed_at = timezone.now()
    item.save(update_fields=["answers", "notes", "result", "reviewed_by", "reviewed_at"])
    item.tasks.filter(status=RectificationTask.Status.OPEN).delete()  # a re-review replaces its open tasks
    if failed:
        RectificationTask.objects.create(
            item=item,
            assignee=responsible_director(item.village_code, today),
            description=f"档案抽查不合格项：{'、'.join(failed)}。{item.notes}",
            due_date=today + dt.timedelta(days=int(cfg["rectification_days"])),
        )
    audit_record(
        actor=actor,
        action="spotcheck.review",
        object_type="spot_check_item",
        object_id=item.pk,
        summary=f"抽查档案检查：{item.get_result_display()}",
        after={"answers": item.answers, "result": item.result},
    )
    return item


@transaction.atomic
def rectification_done(*, actor: User, task: RectificationTask, response: str) -> RectificationTask:
    """The responsible director (or an officer over the village) reports the rectification done."""
    task = RectificationTask.objects.select_for_update().select_related("item").get(pk=task.pk)
    if task.assignee_id != actor.pk and not (actor.can("oversight.manage") and covers(actor, task.item.village_code)):
        raise PermissionRefused("只有责任人或督导部门可以填报整改情况")
    if task.status == RectificationTask.Status.DONE:
        raise DomainError("already_done", "该整改任务已完成")
    if not response.strip():
        raise DomainError("response_required", "请填写整改情况")
    task.status, task.response, task.done_at = RectificationTask.Status.DONE, response.strip(), timezone.now()
    task.save(update_fields=["status", "response", "done_at"])
    audit_record(
        actor=actor,
        action="spotcheck.rectified",
        object_type="rectification",
        object_id=task.pk,
        summary="整改完成",
        after={"response": task.response[:200]},
    )
    return task


def spotcheck_summary(check: SpotCheck, *, today: dt.date) -> dict[str, Any]:
    """Counts per township and in all: sampled, reviewed, passed, failed; tasks open, overdue, done; and the
    failure rate of each checklist item."""
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    item_fail: dict[str, int] = defaultdict(int)
    for township, result, answers in check.items.values_list("township_code", "result", "answers"):
        row = per[township]
        row["sampled"] += 1
        row[result] += 1
        for key, answer in (answers or {}).items():
            if answer == "fail":
                item_fail[key] += 1
    tasks = RectificationTask.objects.filter(item__spot_check=check)
    task_counts = {
        "open": tasks.filter(status=RectificationTask.Status.OPEN, due_date__gte=today).count(),
        "overdue": tasks.filter(status=RectificationTask.Status.OPEN, due_date__lt=today).count(),
        "done": tasks.filter(status=RectificationTask.Status.DONE).count(),
    }
    names = dict(Region.objects.filter(code__in=list(per)).values_list("code", "name"))
    townships: list[dict[str, Any]] = [
        {
            "code": code,
            "name": names.get(code, code),
            "sampled": row["sampled"],
            "reviewed": row["passed"] + row["failed"],
            "passed": row["passed"],
            "failed": row["failed"],
        }
        for code, row in sorted(per.items())
    ]
    total = {k: sum(t[k] for t in townships) for k in ("sampled", "reviewed", "passed", "failed")}
    labels = {c["id"]: c["label"] for c in checklist()}
    return {
        "townships": townships,
        "total": total,
        "tasks": task_counts,
        "items": [{"id": k, "label": labels[k], "failed": item_fail.get(k, 0)} for k in labels],
        "pass_rate": round(100.0 * total["passed"] / total["reviewed"], 1) if total["reviewed"] else None,
    }


@transaction.atomic
def spotcheck_close(*, actor: User, check: SpotCheck, summary: str, today: dt.date) -> SpotCheck:
    check = SpotCheck.objects.select_for_update().get(pk=check.pk)
    _require_manage(actor, check.district_id)
    if check.status == SpotCheck.Status.CLOSED:
        raise DomainError("spotcheck_closed", "该抽查已出结论")
    pending = check.items.filter(result=SpotCheckItem.Result.PENDING).count()
    if pending:
        raise DomainError("spotcheck_pending", f"还有{pending}份抽查档案未检查")
    if not summary.strip():
        raise DomainError("summary_required", "请填写抽查结论")
    check.status, check.summary, check.closed_at = SpotCheck.Status.CLOSED, summary.strip(), timezone.now()
    check.save(update_fields=["status", "summary", "closed_at"])
    figures = spotcheck_summary(check, today=today)
    audit_record(
        actor=actor,
        action="spotcheck.close",
        object_type="spot_check",
        object_id=check.pk,
        summary=f"抽查结论：合格{figures['total']['passed']}份，不合格{figures['total']['failed']}份",
        after={"total": figures["total"], "tasks": figures["tasks"]},
    )
    return check


# --- milestones, the annual report, exemplary cases ----------------------------------------------------------


@transaction.atomic
def milestone_update(
    *,
    actor: User,
    district: str,
    milestone: str,
    done_on: dt.date | None,
    note: str,
    evidence: UploadedFile | None = None,
) -> MilestoneProgress:
    """Record a district's progress on one milestone of the plan (三), with an evidence file."""
    known = {m["id"]: m for m in milestone_rules()}
    if milestone not in known:
        raise DomainError("unknown_milestone", f"未知的工作节点：{milestone}")
    region = Region.objects.filter(code=district, level=Region.Level.COUNTY).first()
    if region is None:
        raise DomainError("unknown_district", f"区县代码{district}不存在")
    _require_manage(actor, region.code)
    filename = (evidence.name or "") if evidence is not None else ""
    if evidence is not None:
        if (evidence.size or 0) > 20 * 1024 * 1024:
            raise DomainError("evidence_too_large", "佐证材料不能超过20MB")
        if not filename.lower().endswith((".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".doc", ".xls")):
            raise DomainError("evidence_type", "佐证材料应为PDF、图片、Word或Excel文件")
    if done_on is not None and done_on > timezone.localdate():
        raise DomainError("future_date", "完成日期不能晚于今天")
    progress, _ = MilestoneProgress.objects.get_or_create(
        milestone=milestone, district=region, defaults={"updated_by": actor}
    )
    progress.done_on, progress.note, progress.updated_by = done_on, note.strip(), actor
    fields = ["done_on", "note", "updated_by", "updated_at"]
    if evidence is not None:
        progress.evidence.save(filename, evidence, save=False)
        progress.evidence_name = filename[:200]
        fields += ["evidence", "evidence_name"]
    progress.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="milestone.update",
        object_type="milestone",
        object_id=progress.pk,
        summary=f"{region.name}「{known[milestone]['label']}」{'完成于' + str(done_on) if done_on else '未完成'}",
        after={"milestone": milestone, "done_on": str(done_on or ""), "evidence": progress.evidence_name},
    )
    return progress


def _report_region(code: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None or region.level not in (Region.Level.PROVINCE, Region.Level.COUNTY):
        raise DomainError("bad_report_region", "年度进展报告按区县或全市编制，请选择区县或全市")
    return region


@transaction.atomic
def annual_report_save(
    *,
    actor: User,
    region: str,
    year: int,
    inspection: str = "",
    highlights: str = "",
    problems: str = "",
    measures: str = "",
) -> AnnualReport:
    place = _report_region(region)
    _require_manage(actor, place.code)
    report, _ = AnnualReport.objects.select_for_update().get_or_create(region=place, year=year)
    if report.submitted_at is not None:
        raise DomainError("report_submitted", "年度报告已报送，不能再修改")
    report.inspection, report.highlights = inspection.strip(), highlights.strip()
    report.problems, report.measures = problems.strip(), measures.strip()
    report.save()
    audit_record(
        actor=actor,
        action="annual_report.edit",
        object_type="annual_report",
        object_id=report.pk,
        summary=f"{place.name}{year}年度进展报告（文字部分）",
    )
    return report


@transaction.atomic
def annual_report_submit(*, actor: User, region: str, year: int) -> AnnualReport:
    """The district reports its progress to the city (四(二), by 1 December)."""
    place = _report_region(region)
    _require_manage(actor, place.code)
    report, _ = AnnualReport.objects.select_for_update().get_or_create(region=place, year=year)
    if report.submitted_at is not None:
        raise DomainError("report_submitted", "年度报告已报送")
    if not report.problems or not report.measures:
        raise DomainError("report_incomplete", "请先填写存在问题和下一步措施")
    report.submitted_at, report.submitted_by = timezone.now(), actor
    report.save(update_fields=["submitted_at", "submitted_by", "updated_at"])
    audit_record(
        actor=actor,
        action="annual_report.submit",
        object_type="annual_report",
        object_id=report.pk,
        summary=f"{place.name}{year}年度进展报告报送市民政局",
    )
    return report


@transaction.atomic
def exemplary_case_add(*, actor: User, region: str, year: int, title: str, summary: str) -> ExemplaryCase:
    """An exemplary case (优秀案例, 四(二)). It must not name a child: ID-number-like digits are refused."""
    import re

    place = _report_region(region)
    _require_manage(actor, place.code)
    if not title.strip() or not summary.strip():
        raise DomainError("case_incomplete", "请填写案例标题和摘要")
    if re.search(r"\d{15}|\d{17}[\dXx]|1\d{10}", summary + title):
        raise DomainError("case_personal_data", "案例中不能包含身份证号或电话号码，请删除个人信息后再提交")
    case = ExemplaryCase.objects.create(
        region=place, year=year, title=title.strip(), summary=summary.strip(), created_by=actor
    )
    audit_record(
        actor=actor, action="exemplary_case.add", object_type="exemplary_case", object_id=case.pk, summary=case.title
    )
    return case


def annual_report_remind(*, today: dt.date) -> int:
    """From 1 November (rules/oversight.yaml), remind each district officer whose district has not submitted
    the year's report; idempotent (one notice per officer per week). Returns the notices created."""
    from guanai.visits.services import _notify

    cfg = oversight_rules()["annual_report"]
    month, day = (int(x) for x in cfg["remind_from"].split("-"))
    due_month, due_day = (int(x) for x in cfg["due"].split("-"))
    start, due = dt.date(today.year, month, day), dt.date(today.year, due_month, due_day)
    if not start <= today <= due:
        return 0
    submitted = set(
        AnnualReport.objects.filter(year=today.year, submitted_at__isnull=False).values_list("region_id", flat=True)
    )
    created = 0
    week = (today - start).days // 7  # one notice per officer in each week counted from the first reminder day
    for officer in User.objects.filter(is_active=True, role="district_officer").select_related("region"):
        if officer.region_id is None or officer.region_id in submitted:
            continue
        left = (due - today).days
        created += _notify(
            officer,
            kind="oversight.annual_report",
            title=f"{today.year}年度工作进展报告请于{due.month}月{due.day}日前报市民政局（还剩{left}天）",
            body="请在「督导评估 → 年度报告」中核对指标、填写存在问题和下一步措施后报送。",
            url="/oversight/annual/",
            key=f"annual-report:{today.year}:{officer.pk}:w{week}",
        )
    return created

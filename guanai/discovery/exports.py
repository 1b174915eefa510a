"""The two contract exports. Both hold full ID numbers, so they are the operator's (command line) and each run
is recorded in the audit and access logs. CSV in UTF-8 with BOM (Excel opens it), formula-injection safe."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.db import transaction

from guanai import privacy
from guanai.audit.services import access_record, audit_record
from guanai.discovery import rules as discovery_rules
from guanai.discovery.models import Finding, Link, RosterRow
from guanai.registry.models import Child

LINK_HEADERS = ["来源", "来源行号", "儿童身份证号", "匹配概率", "匹配方式"]
FINDING_HEADERS = ["规则", "身份证号", "姓名", "区划代码", "证据"]


def _safe(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


class _Numbers:
    """Decrypts each ID number once per export."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, int], str] = {}

    def get(self, model: type[Child] | type[RosterRow], pk: int | None) -> str:
        if pk is None:
            return ""
        key = (model.__name__, pk)
        if key not in self.cache:
            token = model.objects.filter(pk=pk).values_list("id_number_enc", flat=True).first() or ""
            self.cache[key] = privacy.reveal(token) if token else ""
        return self.cache[key]


def _audit(actor: Any, action: str, path: Path, count: int, what: str) -> None:
    with transaction.atomic():
        access_record(actor=actor, action=action, object_type="export", object_id=path.name[:64], field="id_number")
        audit_record(
            actor=actor,
            action=action,
            object_type="export",
            object_id=path.name[:64],
            summary=f"导出{what} {path.name}：{count}条（含完整身份证号）",
            after={"file": str(path), "rows": count},
        )


def links_export(path: Path, *, actor: Any) -> int:
    """Accepted links of roster rows to registry children: 来源, 来源行号, 儿童身份证号, 匹配概率, 匹配方式."""
    numbers = _Numbers()
    count = 0
    qs = (
        Link.objects.filter(child__isnull=False, state=Link.State.ACCEPTED)
        .order_by("row__source", "row__batch_id", "row__row_no")
        .values_list("row__source", "row__row_no", "child_id", "probability", "method")
    )
    with Path(path).open("w", encoding="utf-8", newline="") as fh:  # no BOM: read by programs first
        writer = csv.writer(fh)
        writer.writerow(LINK_HEADERS)
        for source, row_no, child_id, probability, method in qs.iterator(chunk_size=10_000):
            writer.writerow([source, row_no, numbers.get(Child, child_id), f"{probability:.4f}", method])
            count += 1
    _audit(actor, "discovery.export_links", Path(path), count, "比对链接")
    return count


def findings_export(path: Path, *, actor: Any) -> int:
    """Findings: 规则, 身份证号 (the child's, where known), 姓名, 区划代码, 证据."""
    numbers = _Numbers()
    count = 0
    qs = Finding.objects.order_by("rule", "region_code", "id")
    with Path(path).open("w", encoding="utf-8", newline="") as fh:  # no BOM: read by programs first
        writer = csv.writer(fh)
        writer.writerow(FINDING_HEADERS)
        for f in qs.iterator(chunk_size=5000):
            number = numbers.get(Child, f.child_id) if f.child_id else numbers.get(RosterRow, f.subject_row_id)
            writer.writerow(
                [f.rule, number, _safe(f.name), f.region_code, _safe(discovery_rules.evidence_text(f.evidence))]
            )
            count += 1
    _audit(actor, "discovery.export_findings", Path(path), count, "发现线索")
    return count

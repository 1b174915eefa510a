"""Importing a department roster (``guanai rosters import --source SOURCE FILE`` and the web upload).

Read and normalise with polars (``guanai.lib.rosters``), protect ID numbers (AES-GCM + HMAC blind index, one
call per distinct number), then write the rows in bulk (COPY on PostgreSQL) in one transaction: a failure
leaves nothing half-written. The same file is imported once (source + SHA-256); bad rows are reported and
the rest proceed, since rosters are evidence, not registrations.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.db import transaction

from guanai import privacy
from guanai.audit.services import audit_record
from guanai.bulk import allocate_ids, bulk_insert
from guanai.discovery.models import RosterBatch, RosterRow
from guanai.lib import idnumber, rosters
from guanai.lib.errors import DomainError

log = logging.getLogger("guanai.discovery")
Progress = Callable[[int, int, str], None]
CHUNK = 50_000
ROW_COLUMNS = [
    "id",
    "batch_id",
    "source",
    "row_no",
    "raw",
    "raw_id_enc",
    "name",
    "name_pinyin",
    "name_dialect",
    "sex",
    "birth_date",
    "id_state",
    "id_number_enc",
    "id_number_bidx",
    "id_number_mask",
    "region_code",
    "address",
    "household_no",
    "relation",
    "status",
    "status_date",
    "org_name",
    "grade",
    "cross_county",
    "category",
    "start_date",
    "end_date",
]
TEXT_LIMITS = {"name": 50, "address": 200, "household_no": 40, "org_name": 200, "grade": 20, "category": 40}


@dataclass
class ImportResult:
    batch: RosterBatch
    created: bool  # False: the same file had been imported before; nothing was written
    issues: list[rosters.Issue] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        b = self.batch
        if not self.created:
            return f"该文件已于{b.imported_at:%Y-%m-%d %H:%M}导入（批次{b.pk}），本次未重复导入"
        return (
            f"已导入{b.get_source_display()}名册 {b.file_name}：共{b.rows_total}行，导入{b.rows_kept}行，"
            f"未导入{b.rows_rejected}行，问题{len(self.issues)}处（批次{b.pk}，用时{self.seconds:.1f}秒）"
        )


def roster_dir() -> Path:
    return Path(settings.BASE_DIR) / "var" / "rosters"


def _protect(frame: pl.DataFrame) -> pl.DataFrame:
    """Encrypt, blind-index and mask each distinct ID number once; keep the raw cell encrypted only where it
    differs from the cleaned number (a lower-case x, full-width digits, spaces)."""
    ring, index = privacy.keyring(), privacy.blind_index()
    distinct = frame.filter(pl.col("id_clean").is_not_null()).select("id_clean", "id_state").unique()
    values = distinct["id_clean"].to_list()
    states = distinct["id_state"].to_list()
    keys = pl.DataFrame(
        {
            "id_clean": values,
            "id_number_enc": [ring.encrypt(v) for v in values],
            "id_number_bidx": [
                # Already cleaned by the roster reader; the same digest as privacy.id_bidx.
                index.digest("id:" + v) if s in ("valid", "legacy15") else ""
                for v, s in zip(values, states, strict=True)
            ],
            "id_number_mask": [idnumber.mask(v)[:18] for v in values],
        },
        schema={
            "id_clean": pl.String,
            "id_number_enc": pl.String,
            "id_number_bidx": pl.String,
            "id_number_mask": pl.String,
        },
    )
    out = frame.join(keys, on="id_clean", how="left")
    differs = out.filter(pl.col("id_raw").is_not_null() & (pl.col("id_raw") != pl.col("id_clean").fill_null("")))
    raw_enc = pl.DataFrame(
        {"row_no": differs["row_no"].to_list(), "raw_id_enc": [ring.encrypt(v) for v in differs["id_raw"].to_list()]},
        schema={"row_no": pl.Int64, "raw_id_enc": pl.String},
    )
    return out.join(raw_enc, on="row_no", how="left")


def _db_rows(frame: pl.DataFrame, batch_id: int, source: str, ids: list[int]) -> list[tuple[Any, ...]]:
    frame = frame.with_columns(
        pl.Series("id", ids, dtype=pl.Int64),
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(source).alias("source"),
        *[pl.col(c).str.slice(0, n) for c, n in TEXT_LIMITS.items()],
    )
    text_cols = [
        c
        for c in ROW_COLUMNS
        if c not in ("id", "batch_id", "row_no", "birth_date", "status_date", "start_date", "end_date", "cross_county")
    ]
    frame = frame.with_columns([pl.col(c).fill_null("") for c in text_cols])
    return list(frame.select(ROW_COLUMNS).iter_rows())


def roster_import(
    *,
    path: Path,
    source: str,
    actor: Any = None,
    file_name: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import one roster file of ``source``. Implements §8/§10/§18's data sharing with education and police."""
    started = time.monotonic()
    path = Path(path)
    shown = (file_name or path.name)[:200]
    report = progress or (lambda done, total, message: None)
    if source not in rosters.TEMPLATES:
        raise DomainError("unknown_source", f"未知的名册来源：{source}（可用：{'、'.join(rosters.SOURCES)}）")
    try:
        digest = rosters.file_hash(path)
    except OSError as exc:
        raise DomainError("unreadable", f"无法读取文件：{shown}") from exc
    existing = RosterBatch.objects.filter(source=source, file_sha256=digest).first()
    if existing is not None:
        return ImportResult(batch=existing, created=False, issues=[], seconds=time.monotonic() - started)
    report(0, 0, "读取并规范化名册")
    try:
        roster = rosters.read_roster(path, source)
    except rosters.RosterError as exc:
        raise DomainError("bad_file", exc.message) from exc
    frame = _protect(rosters.with_name_keys(roster.frame))
    total = frame.height
    rejected = len({i.row_no for i in roster.issues if i.rejected})
    with transaction.atomic():
        batch = RosterBatch.objects.create(
            source=source,
            file_name=shown,
            file_sha256=digest,
            rows_total=roster.total_rows,
            rows_kept=total,
            rows_rejected=rejected,
            issues=[[i.row_no, i.column, i.reason, i.rejected] for i in roster.issues[:10_000]],
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        ids = allocate_ids(RosterRow, total)
        for start in range(0, total, CHUNK):
            part = frame.slice(start, CHUNK)
            bulk_insert(RosterRow, ROW_COLUMNS, _db_rows(part, batch.pk, source, ids[start : start + CHUNK]))
            report(min(start + CHUNK, total), total, "写入名册行")
        audit_record(
            actor=actor,
            action="roster.import",
            object_type="roster_batch",
            object_id=batch.pk,
            summary=f"导入{batch.get_source_display()}名册 {shown}：{total}行，未导入{rejected}行",
            after={"source": source, "file": shown, "sha256": digest, "rows": total, "rejected": rejected},
        )
    seconds = time.monotonic() - started
    log.info(
        "roster import: source=%s batch=%s rows=%s rejected=%s in %.1fs", source, batch.pk, total, rejected, seconds
    )
    return ImportResult(batch=batch, created=True, issues=roster.issues, seconds=seconds)


def issues_report(batch: RosterBatch) -> str:
    """The batch's bad-row report as CSV text."""
    return rosters.issues_csv(
        [rosters.Issue(row_no=r[0], column=r[1], reason=r[2], rejected=bool(r[3])) for r in batch.issues]
    )


def _json_default(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)

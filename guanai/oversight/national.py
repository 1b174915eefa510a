"""CSV exports of children and directors for the national child-welfare information system (§16, §18: 及时录入和
更新全国儿童福利信息系统).

The national system's import interface is not public. These exports use a stable field list of our own, in the
order and with the Chinese headers below; every column is defined once here (header → how it is read), so when
the official interface is published the mapping is aligned in this one place (docs/oversight.md). The column
``字段版本`` carries ``FIELDS_VERSION``; a change of columns bumps it.

Files are UTF-8 with a BOM (Excel on Windows opens them correctly), comma-separated, dates ISO 8601, every cell
guarded against formula injection. Children's full ID numbers are written — the file exists to register them —
so only the operator command and district/city officers may produce it, and each export is recorded in the access
log by the caller.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.db.models import Prefetch, QuerySet

from guanai import privacy
from guanai.lib.dates import age_on
from guanai.registry.exporter import neutralise
from guanai.registry.models import Child, ChildGroup

FIELDS_VERSION = "guanai-national-1"
CHUNK = 2000

Getter = Callable[[Any, dt.date], Any]

# (header, getter) — the one place the columns are defined.
CHILD_FIELDS: list[tuple[str, Getter]] = [
    ("字段版本", lambda c, d: FIELDS_VERSION),
    ("儿童编号", lambda c, d: c.child_no),
    ("姓名", lambda c, d: c.name),
    ("性别", lambda c, d: c.get_sex_display()),
    ("出生日期", lambda c, d: c.birth_date.isoformat()),
    ("年龄", lambda c, d: age_on(c.birth_date, d)),
    ("民族", lambda c, d: c.ethnicity),
    ("公民身份号码", lambda c, d: privacy.reveal(c.id_number_enc) if c.id_number_enc else ""),
    ("户籍性质", lambda c, d: c.get_hukou_type_display()),
    ("行政区划代码", lambda c, d: c.village_id),
    ("所在村（社区）", lambda c, d: c.village.name),
    ("户籍地址", lambda c, d: c.hukou_address),
    ("现住址", lambda c, d: c.current_address),
    ("健康状况", lambda c, d: c.health_status),
    ("残疾类别", lambda c, d: c.disability_type),
    ("残疾等级", lambda c, d: c.disability_grade or ""),
    ("重病名称", lambda c, d: c.serious_illness),
    ("就学情况", lambda c, d: c.schooling),
    ("学校名称", lambda c, d: c.school_name),
    ("儿童类别", lambda c, d: "、".join(g.get_code_display() for g in c.groups.all())),
    ("儿童类别代码", lambda c, d: ";".join(g.code for g in c.groups.all())),
    ("状态", lambda c, d: c.get_status_display()),
    ("退出原因", lambda c, d: c.exit_reason),
    ("退出日期", lambda c, d: c.exit_date.isoformat() if c.exit_date else ""),
]

DIRECTOR_FIELDS: list[tuple[str, Getter]] = [
    ("字段版本", lambda a, d: FIELDS_VERSION),
    ("台账编号", lambda a, d: f"S{a.profile_id:08d}"),
    ("姓名", lambda a, d: a.profile.name),
    ("性别", lambda a, d: a.profile.get_sex_display()),
    ("出生年份", lambda a, d: a.profile.birth_year or ""),
    ("类别", lambda a, d: a.profile.get_kind_display()),
    ("联系电话", lambda a, d: privacy.reveal(a.profile.phone_enc) if a.profile.phone_enc else ""),
    ("文化程度", lambda a, d: a.profile.education),
    ("政治面貌", lambda a, d: a.profile.political_status),
    ("现任职务", lambda a, d: a.profile.position),
    ("专兼职", lambda a, d: a.profile.get_employment_display()),
    ("工作补助（元/月）", lambda a, d: a.profile.monthly_allowance if a.profile.monthly_allowance is not None else ""),
    ("标识标牌编号", lambda a, d: a.profile.badge_no),
    ("负责区域代码", lambda a, d: a.region_id),
    ("负责区域", lambda a, d: a.region.name),
    ("任职日期", lambda a, d: a.start.isoformat()),
    ("本年度培训次数", lambda a, d: sum(1 for t in a.profile.trainings.all() if t.event.held_on.year == d.year)),
    ("状态", lambda a, d: a.profile.get_status_display()),
]


def _rows(fields: list[tuple[str, Getter]], rows: Iterator[Any], today: dt.date) -> Iterator[list[str]]:
    yield [h for h, _ in fields]
    for row in rows:
        yield [neutralise(str(get(row, today))) for _, get in fields]


def _write(out: IO[str], lines: Iterator[list[str]]) -> int:
    writer = csv.writer(out, lineterminator="\r\n")
    n = -1  # the header is not a row
    for line in lines:
        writer.writerow(line)
        n += 1
    return n


class _Echo:
    """A file-like object whose write returns the text: lets csv.writer feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def stream(lines: Iterator[list[str]]) -> Iterator[str]:
    """CSV text line by line (a BOM first), for a streaming download of any size."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield "\ufeff"
    for line in lines:
        yield writer.writerow(line)


def _chunks(qs: QuerySet[Any]) -> Iterator[Any]:
    last = 0
    while True:
        batch = list(qs.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not batch:
            return
        yield from batch
        last = batch[-1].pk


def child_lines(children: QuerySet[Child], *, today: dt.date) -> Iterator[list[str]]:
    """The header and one line per child of ``children`` (a scoped queryset from registry.selectors), read in
    chunks of ``CHUNK``."""
    qs = children.select_related("village").prefetch_related(
        Prefetch("groups", queryset=ChildGroup.objects.order_by("code"))
    )
    return _rows(CHILD_FIELDS, _chunks(qs), today)


def export_children(out: IO[str], children: QuerySet[Child], *, today: dt.date) -> int:
    return _write(out, child_lines(children, today=today))


def director_lines(prefix: str, *, today: dt.date) -> Iterator[list[str]]:
    """Serving directors and supervisors with their open appointments inside ``prefix`` (one line each)."""
    from guanai.accounts.scope import in_prefix
    from guanai.workforce.selectors import active_appointments

    qs = (
        active_appointments(today)
        .filter(in_prefix("region_id", prefix))
        .select_related("profile", "region")
        .prefetch_related("profile__trainings__event")
    )
    return _rows(DIRECTOR_FIELDS, _chunks(qs), today)


def export_directors(out: IO[str], prefix: str, *, today: dt.date) -> int:
    return _write(out, director_lines(prefix, today=today))

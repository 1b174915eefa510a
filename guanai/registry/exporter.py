"""Roster export (registry issue, item 7): children as an .xlsx with the import template's headers, plus the
child number, the derived groups and the status — so an exported roster (with full ID numbers) imports back.

The caller decides who may see what: ``reveal`` writes full ID numbers and phones (the operator's command, or
a role with ``child.reveal``); otherwise the masks stored beside the ciphertext are written. The caller also
records the export in the access log. Every text cell is guarded against formula injection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

from guanai import privacy
from guanai.registry.importer import HEADERS
from guanai.registry.models import Child, ChildGroup, ChildRelation, HukouType, PersonStatus, Sex

EXPORT_HEADERS: list[str] = [*HEADERS, "儿童编号", "儿童类别", "状态"]
CHUNK = 2000
# Column widths in characters, for a roster that is readable when opened.
WIDTHS = {"身份证号": 21, "父亲身份证号": 21, "母亲身份证号": 21, "村社区代码": 14, "儿童编号": 14, "儿童类别": 24}
GROUP_ORDER = {code: i for i, code in enumerate(ChildGroup.Code.values)}
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """OWASP CSV/formula injection: a cell starting with = + - @ tab or CR gets a leading ``'``."""
    return "'" + text if text.startswith(DANGEROUS_FIRST) else text


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("是" if value else "否")


def _current_status(statuses: Iterable[PersonStatus], today: dt.date) -> PersonStatus | None:
    """The situation in force today; the latest to start wins when several overlap."""
    in_force = [s for s in statuses if (s.since is None or s.since <= today) and (s.until is None or today < s.until)]
    if not in_force:
        return None
    return max(in_force, key=lambda s: (s.since or dt.date.min, s.pk))


class _Cells:
    def __init__(self, reveal: bool, today: dt.date) -> None:
        self.reveal = reveal
        self.today = today
        self.hukou = dict(HukouType.choices)
        self.sex = dict(Sex.choices)
        self.kinds = dict(PersonStatus.Kind.choices)
        self.relations = dict(ChildRelation.Relation.choices)
        self.groups = dict(ChildGroup.Code.choices)
        self.states = dict(Child.Status.choices)

    def secret(self, token: str, mask: str) -> str:
        return privacy.reveal(token) if self.reveal and token else mask

    def parent(self, relation: ChildRelation | None) -> list[str]:
        if relation is None:
            return [""] * 6
        person = relation.person
        status = _current_status(person.statuses.all(), self.today)
        return [
            person.name,
            self.secret(person.id_number_enc, person.id_number_mask),
            str(self.kinds.get(status.kind, status.kind)) if status else "",
            status.since.isoformat() if status and status.since else "",
            status.work_place if status else "",
            _yes_no(status.cross_county) if status else "",
        ]

    def carer(self, relation: ChildRelation | None) -> list[str]:
        if relation is None:
            return ["", "", ""]
        person = relation.person
        return [
            person.name,
            str(self.relations.get(relation.relation, relation.relation)),
            self.secret(person.phone_enc, person.phone_mask),
        ]

    def row(self, child: Child) -> list[str]:
        relations = sorted(child.relations.all(), key=lambda r: r.pk)
        father = next((r for r in relations if r.relation == ChildRelation.Relation.FATHER), None)
        mother = next((r for r in relations if r.relation == ChildRelation.Relation.MOTHER), None)
        guardian = next((r for r in relations if r.is_guardian), None)
        carer = next((r for r in relations if r.is_entrusted_carer), None)
        groups = sorted((g.code for g in child.groups.all()), key=lambda c: GROUP_ORDER.get(c, 99))
        return [
            child.name,
            str(self.sex.get(child.sex, child.sex)),
            child.birth_date.isoformat(),
            self.secret(child.id_number_enc, child.id_number_mask),
            child.ethnicity,
            str(self.hukou.get(child.hukou_type, child.hukou_type)),
            child.hukou_address,
            child.current_address,
            child.village_id,
            child.health_status,
            child.disability_type,
            str(child.disability_grade) if child.disability_grade is not None else "",
            child.schooling,
            child.school_name,
            *self.parent(father),
            *self.parent(mother),
            *self.carer(guardian),
            *self.carer(carer),
            child.child_no,
            ";".join(str(self.groups.get(c, c)) for c in groups),
            str(self.states.get(child.status, child.status)),
        ]


def children_export(
    queryset: QuerySet[Child], out: str | Path | IO[bytes], *, reveal: bool, today: dt.date | None = None
) -> int:
    """Write the children of ``queryset`` to ``out`` (a path or a binary file) as .xlsx; returns the number of
    children written. ``reveal``: full ID numbers and phones instead of masks."""
    import xlsxwriter

    day = today or timezone.localdate()
    cells = _Cells(reveal, day)
    qs = queryset if queryset.ordered else queryset.order_by("village_id", "pk")
    qs = qs.prefetch_related("relations__person__statuses", "groups")
    target: Any = str(out) if isinstance(out, Path) else out
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_formulas": False})
    try:
        sheet = book.add_worksheet("儿童名册")
        bold = book.add_format({"bold": True, "bg_color": "#FFF7ED", "border": 1})
        text = book.add_format({"num_format": "@"})  # text cells: Excel keeps 18-digit numbers and leading zeros
        for col, header in enumerate(EXPORT_HEADERS):
            sheet.set_column(col, col, WIDTHS.get(header, max(8, 2 * len(header) + 2)), text)
            sheet.write_string(0, col, header, bold)
        sheet.freeze_panes(1, 1)
        count = 0
        for child in qs.iterator(chunk_size=CHUNK):
            count += 1
            for col, value in enumerate(cells.row(child)):
                if value:
                    sheet.write_string(count, col, neutralise(value))
        sheet.autofilter(0, 0, count, len(EXPORT_HEADERS) - 1)
    finally:
        book.close()
    return count

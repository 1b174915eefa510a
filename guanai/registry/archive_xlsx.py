"""One child's archive as an Excel workbook in the shape of the field form 农村留守儿童/困境儿童信息登记表
("一人一表", 渝民发〔2024〕2号 §8): a form-like sheet of label and value cells with the family block, then a
sheet with the archive's timeline. ID numbers and phones are masked unless the caller may reveal them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from guanai.registry.archive_pdf import basic_facts, date_text, family_rows, local_time, timeline_area
from guanai.registry.models import Child, ChildGroup, ChildRelation, TimelineEvent

TITLE = "农村留守儿童/困境儿童信息登记表"
COLUMNS = 6  # label, value, label, value, label, value
WIDTHS = [12, 15, 21, 17, 13, 26]
FONT = "宋体"

_thin = Side(style="thin", color="9CA3AF")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
LABEL_FILL = PatternFill("solid", fgColor="F3F4F6")
SECTION_FILL = PatternFill("solid", fgColor="FED7AA")
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


class _Form:
    """Writes the form row by row: each row is a list of (text, span, is_label) cells filling six columns."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.row = 1

    def cells(self, cells: Sequence[tuple[str, int, bool]], *, height: float = 22) -> None:
        column = 1
        for text, span, is_label in cells:
            cell = self.ws.cell(row=self.row, column=column, value=text)
            cell.font = Font(name=FONT, size=10.5, bold=is_label)
            cell.alignment = CENTER if is_label else WRAP
            if is_label:
                cell.fill = LABEL_FILL
            for c in range(column, column + span):
                self.ws.cell(row=self.row, column=c).border = BORDER
            if span > 1:
                self.ws.merge_cells(
                    start_row=self.row, start_column=column, end_row=self.row, end_column=column + span - 1
                )
            column += span
        self.ws.row_dimensions[self.row].height = height
        self.row += 1

    def section(self, title: str) -> None:
        cell = self.ws.cell(row=self.row, column=1, value=title)
        cell.font = Font(name=FONT, size=11, bold=True)
        cell.fill = SECTION_FILL
        cell.alignment = Alignment(vertical="center")
        for c in range(1, COLUMNS + 1):
            self.ws.cell(row=self.row, column=c).border = BORDER
        self.ws.merge_cells(start_row=self.row, start_column=1, end_row=self.row, end_column=COLUMNS)
        self.ws.row_dimensions[self.row].height = 20
        self.row += 1


def _l(text: str) -> tuple[str, int, bool]:
    """A label cell."""
    return (text, 1, True)


def _v(text: str, span: int = 1) -> tuple[str, int, bool]:
    """A value cell spanning ``span`` columns."""
    return (text, span, False)


def _span_width(first: int, span: int) -> float:
    """The width of ``span`` columns from column ``first`` (1-based), in Excel's character units."""
    return float(sum(WIDTHS[first - 1 : first - 1 + span]))


def _lines_height(text: str, width: float) -> float:
    """A row height that shows wrapped text in a cell ``width`` units wide (Excel does not grow merged rows by
    itself). A CJK character takes two units, other characters one."""
    usable = max(1.0, width - 1)
    lines = 0
    for part in text.split("\n"):
        units = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in part)
        lines += max(1, -(-units // int(usable)))
    return max(22.0, 14.5 * lines + 6)


def archive_xlsx(
    *,
    child: Child,
    relations: Sequence[ChildRelation],
    groups: Sequence[ChildGroup],
    timeline: Sequence[TimelineEvent],
    reveal: bool,
    place: str = "",
    printed_at: dt.datetime | None = None,
    printed_by: str = "",
) -> bytes:
    """The archive of ``child`` as .xlsx bytes: the registration form, then the timeline."""
    now = timezone.localtime(printed_at or timezone.now())
    facts = dict(basic_facts(child, reveal=reveal, place=place, today=now.date()))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "信息登记表"
    for index, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[chr(64 + index)].width = width
    form = _Form(ws)

    title = ws.cell(row=1, column=1, value=TITLE)
    title.font = Font(name=FONT, size=16, bold=True)
    title.alignment = Alignment(horizontal="center", vertical="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=COLUMNS)
    ws.row_dimensions[1].height = 30
    form.row = 2
    meta = [(f"填报单位：{place}", 1, 3), (f"儿童编号：{child.child_no}", 4, 2), (f"导出日期：{now:%Y-%m-%d}", 6, 1)]
    for text, column, span in meta:
        cell = ws.cell(row=2, column=column, value=text)
        cell.font = Font(name=FONT, size=9.5, color="4B5563")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        if span > 1:
            ws.merge_cells(start_row=2, start_column=column, end_row=2, end_column=column + span - 1)
    ws.row_dimensions[2].height = 30
    form.row = 3

    form.section("一、儿童基本情况")
    form.cells([_l("姓名"), _v(facts["姓名"]), _l("性别"), _v(facts["性别"]), _l("出生日期"), _v(facts["出生日期"])])
    form.cells([_l("身份证号"), _v(facts["身份证号"], 3), _l("民族"), _v(facts["民族"])])
    place_height = _lines_height(facts["所在村社区"], _span_width(4, 3))
    form.cells(
        [_l("户籍性质"), _v(facts["户籍性质"]), _l("所在村社区"), _v(facts["所在村社区"], 3)], height=place_height
    )
    for label in ("户籍地址", "现住址"):
        form.cells([_l(label), _v(facts[label], 5)], height=_lines_height(facts[label], _span_width(2, 5)))
    form.cells(
        [
            _l("健康状况"),
            _v(facts["健康状况"]),
            _l("残疾类别/等级"),
            _v(facts["残疾类别/等级"]),
            _l("重病"),
            _v(facts["重病"]),
        ]
    )
    grade = f"{facts['年级']}{'，寄宿' if child.boarding else ''}"
    form.cells(
        [_l("就学情况"), _v(facts["就学情况"]), _l("学校名称"), _v(facts["学校"]), _l("年级/寄宿"), _v(grade)],
        height=_lines_height(facts["学校"], _span_width(4, 1)),
    )

    form.section("二、关爱类别及认定依据")
    names = "、".join(g.get_code_display() for g in groups) or "不属于任何关爱类别"
    form.cells([_l("儿童类别"), _v(names, 5)])
    basis = "\n".join(f"{g.get_code_display()}：{g.explanation}（依据：{g.source}）" for g in groups)
    if not groups and child.exit_proposal:
        basis = f"系统建议退出：{child.exit_proposal}"
    form.cells([_l("认定依据"), _v(basis, 5)], height=_lines_height(basis, _span_width(2, 5)))
    exit_on = date_text(child.exit_date)
    form.cells([_l("档案状态"), _v(facts["状态"]), _l("退出原因"), _v(child.exit_reason), _l("退出时间"), _v(exit_on)])

    form.section("三、家庭成员及监护情况")
    headings = ["关系", "姓名", "身份证号", "联系电话", "监护/照料", "状况（外出地点、起止日期）"]
    form.cells([_l(text) for text in headings])
    family = family_rows(relations, reveal=reveal, today=now.date())
    for member in family:
        situation = member.current or "未登记"
        if member.history:
            situation += "\n其他时期：" + "；".join(member.history)
        values = [member.relation, member.name, member.id_number, member.phone, "、".join(member.roles), situation]
        height = max(_lines_height(text, _span_width(column, 1)) for column, text in enumerate(values, start=1))
        form.cells([_v(value) for value in values], height=height)
    if not family:
        form.cells([_v("尚未登记家庭成员", COLUMNS)])

    form.row += 1
    note = ws.cell(
        row=form.row,
        column=1,
        value=f"导出人：{printed_by}　导出时间：{now:%Y-%m-%d %H:%M}　"
        + ("身份证号和电话已按权限脱敏。" if not reveal else "含完整身份证号和电话，请妥善保管。")
        + "内部资料，注意保密。",
    )
    note.font = Font(name=FONT, size=9, color="6B7280")
    note.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=form.row, start_column=1, end_row=form.row, end_column=COLUMNS)
    ws.row_dimensions[form.row].height = 30
    _print_setup(ws, child)

    log = wb.create_sheet("档案记录")
    headings = ["时间", "类型", "内容", "操作人"]
    for column, (text, width) in enumerate(zip(headings, [18, 8, 70, 14], strict=True), start=1):
        cell = log.cell(row=1, column=column, value=text)
        cell.font = Font(name=FONT, bold=True)
        cell.fill = LABEL_FILL
        cell.border = BORDER
        log.column_dimensions[chr(64 + column)].width = width
    for row, event in enumerate(sorted(timeline, key=lambda e: (e.at, e.pk or 0)), start=2):
        values = [local_time(event.at), timeline_area(event.kind)[0], event.summary, event.actor_username]
        for column, value in enumerate(values, start=1):
            cell = log.cell(row=row, column=column, value=value)
            cell.font = Font(name=FONT, size=10)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = BORDER
    log.freeze_panes = "A2"
    log.auto_filter.ref = f"A1:D{max(1, len(timeline) + 1)}"
    log.print_title_rows = "1:1"
    _print_setup(log, child)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _print_setup(ws: Worksheet, child: Child) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.oddHeader.left.text = f"关爱 · 儿童档案 {child.child_no}"
    ws.oddHeader.right.text = "内部资料 注意保密"
    ws.oddFooter.center.text = "第 &P / &N 页"

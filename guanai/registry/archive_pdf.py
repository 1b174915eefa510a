"""One child's archive (一人一档, 渝民发〔2024〕2号 §8) as a PDF, and the archive's content shared with the
Excel export and the archive page.

The PDF is built with fpdf2 and embeds a subset of a CJK font, so it reads the same on any phone or printer
without Chinese fonts installed. Debian's ``fonts-noto-cjk`` (OpenType/CFF in a TTC collection) is the
default; fpdf2 embeds its CFF outlines as ``/FontFile3``. Other fonts are tried in order (``FONT_CANDIDATES``,
or ``settings.GUANAI_PDF_FONTS`` when set), and a missing font is a clear error, never a PDF of empty boxes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF, FontFace
from fpdf.enums import Align, TableBordersLayout, WrapMode, XPos, YPos

from guanai import privacy
from guanai.lib.dates import age_on
from guanai.lib.errors import DomainError
from guanai.registry.models import Child, ChildGroup, ChildRelation, PersonStatus, TimelineEvent

logger = logging.getLogger(__name__)
# fontTools logs every glyph subset at INFO; those lines are noise in the server log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# Regular and bold faces, first found wins. A TTC entry names the face to use inside the collection.
# fonts-noto-cjk: Debian's CJK font (OpenType/CFF); fonts-wqy-zenhei / fonts-wqy-microhei: TrueType fallbacks.
FONT_CANDIDATES: list[dict[str, str]] = [
    {
        "regular": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "bold": "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "face": "Noto Sans CJK SC",
    },
    {
        "regular": "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "bold": "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        "face": "Noto Sans CJK SC",
    },
    {"regular": "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "face": "WenQuanYi Zen Hei"},
    {"regular": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "face": "WenQuanYi Micro Hei"},
    {"regular": "/usr/share/fonts/truetype/arphic/uming.ttc", "face": "AR PL UMing CN"},
]
FONT_FAMILY = "cjk"


class PdfFontMissing(DomainError):
    status = 503

    def __init__(self) -> None:
        super().__init__(
            "pdf_font_missing",
            "服务器未安装中文字体，暂时无法生成PDF档案。请联系系统管理员安装中文字体（fonts-noto-cjk）后重试；"
            "Excel档案不受影响。",
        )


@dataclass(frozen=True)
class CjkFont:
    regular: str
    regular_index: int
    bold: str | None
    bold_index: int


def _face_index(path: str, face: str) -> int:
    """The index of ``face`` inside a TrueType/OpenType collection (0 for a single font or if not named)."""
    if not path.lower().endswith((".ttc", ".otc")) or not face:
        return 0
    from fontTools.ttLib import TTCollection

    with TTCollection(path, lazy=True) as collection:
        for index, font in enumerate(collection.fonts):
            if font["name"].getDebugName(1) == face:
                return index
    return 0


@cache
def cjk_font() -> CjkFont:
    """The first installed CJK font of the candidates; raises ``PdfFontMissing`` (and logs) if none is."""
    candidates: list[dict[str, str]] = getattr(settings, "GUANAI_PDF_FONTS", None) or FONT_CANDIDATES
    for spec in candidates:
        regular = spec.get("regular", "")
        if not regular or not Path(regular).is_file():
            continue
        face = spec.get("face", "")
        bold = spec.get("bold") or None
        if bold and not Path(bold).is_file():
            bold = None
        return CjkFont(regular, _face_index(regular, face), bold, _face_index(bold, face) if bold else 0)
    logger.error(
        "No CJK font found for PDF archives; tried %s. Install the Debian package fonts-noto-cjk "
        "or set GUANAI_PDF_FONTS.",
        ", ".join(spec.get("regular", "?") for spec in candidates),
    )
    raise PdfFontMissing()


# --- the archive's content, shared with the Excel export and the page -----------------------------------


def date_text(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def status_text(status: PersonStatus) -> str:
    """A parent's or carer's situation in one line: 外出务工（广东省东莞市，跨县）自2025-01-10."""
    text = status.get_kind_display()
    extra = [status.work_place] if status.work_place else []
    if status.cross_county is True:
        extra.append("跨县")
    elif status.cross_county is False:
        extra.append("县内")
    if status.disability_type:
        grade = f"{status.disability_grade}级" if status.disability_grade else ""
        extra.append(f"{status.disability_type}残疾{grade}")
    if extra:
        text += "（" + "，".join(extra) + "）"
    if status.since:
        text += f" 自{status.since.isoformat()}"
    if status.until:
        text += f" 至{status.until.isoformat()}"
    return text


def statuses_in_order(relation: ChildRelation) -> list[PersonStatus]:
    """A person's statuses, oldest first (statuses without a start date first, in entry order)."""
    rows = list(relation.person.statuses.all())
    return sorted(rows, key=lambda s: (s.since or dt.date.min, s.pk or 0))


def current_status(relation: ChildRelation, today: dt.date) -> PersonStatus | None:
    """The latest status in force on ``today`` (from ``since`` inclusive to ``until`` exclusive)."""
    current = None
    for status in statuses_in_order(relation):
        if (status.since is None or status.since <= today) and (status.until is None or today < status.until):
            current = status
    return current


@dataclass
class FamilyRow:
    relation: str
    name: str
    roles: list[str]
    id_number: str
    phone: str
    current: str
    history: list[str] = field(default_factory=list)  # earlier (and later planned) statuses, oldest first


def family_rows(relations: Sequence[ChildRelation], *, reveal: bool, today: dt.date) -> list[FamilyRow]:
    rows = []
    for rel in relations:
        person = rel.person
        roles = [label for flag, label in ((rel.is_guardian, "监护人"), (rel.is_entrusted_carer, "委托照料人")) if flag]
        now = current_status(rel, today)
        ordered = statuses_in_order(rel)
        rows.append(
            FamilyRow(
                relation=rel.get_relation_display(),
                name=person.name,
                roles=roles,
                id_number=privacy.reveal(person.id_number_enc) if reveal else person.id_number_mask,
                phone=privacy.reveal(person.phone_enc) if reveal else person.phone_mask,
                current=status_text(now) if now else "",
                history=[status_text(s) for s in ordered if s is not now],
            )
        )
    return rows


def child_id_number(child: Child, *, reveal: bool) -> str:
    return privacy.reveal(child.id_number_enc) if reveal else child.id_number_mask


def basic_facts(child: Child, *, reveal: bool, place: str, today: dt.date) -> list[tuple[str, str]]:
    """The 登记表's basic-information cells, label and value, in the form's order."""
    disability = ""
    if child.disability_type:
        disability = (
            f"{child.disability_type}残疾{child.disability_grade or ''}{'级' if child.disability_grade else ''}"
        )
    exit_text = ""
    if child.status == Child.Status.EXITED:
        exit_text = f"{child.exit_reason}（{date_text(child.exit_date)}）"
    return [
        ("姓名", child.name),
        ("儿童编号", child.child_no),
        ("性别", child.get_sex_display()),
        ("出生日期", f"{date_text(child.birth_date)}（{age_on(child.birth_date, today)}周岁）"),
        ("身份证号", child_id_number(child, reveal=reveal) or "未登记"),
        ("民族", child.ethnicity),
        ("户籍性质", child.get_hukou_type_display()),
        ("所在村社区", place),
        ("户籍地址", child.hukou_address),
        ("现住址", child.current_address),
        ("健康状况", child.health_status),
        ("残疾类别/等级", disability or "无"),
        ("重病", child.serious_illness or "无"),
        ("就学情况", child.schooling),
        ("学校", child.school_name),
        ("年级", child.grade),
        ("寄宿", "是" if child.boarding else "否"),
        ("状态", child.get_status_display()),
        ("退出原因/时间", exit_text),
    ]


def local_time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


# Timeline kinds are "<area>.<what>"; every part of the system writes to the same table (visits, problems,
# reports…), so lines are shown by area: a label, and on the page an icon and a colour.
TIMELINE_AREAS: dict[str, tuple[str, str, str]] = {
    "child": ("档案", "档", "child"),
    "group": ("类别", "类", "group"),
    "family": ("家庭", "家", "family"),
    "exit": ("退出", "退", "exit"),
    "visit": ("走访", "访", "visit"),
    "problem": ("问题", "问", "problem"),
    "report": ("报告", "报", "report"),
    "assessment": ("评估", "评", "assessment"),
    "assistance": ("帮扶", "助", "assistance"),
    "support": ("帮扶", "助", "assistance"),  # needs, benefits, referrals, care plans, activities (guanai/support)
    "case": ("个案", "案", "case"),
}
TIMELINE_OTHER = ("其他", "记", "other")


def timeline_area(kind: str) -> tuple[str, str, str]:
    """(label, icon, css name) of a timeline kind, by the area before the first dot."""
    return TIMELINE_AREAS.get(kind.split(".", 1)[0], TIMELINE_OTHER)


# --- the PDF ---------------------------------------------------------------------------------------------

INK = (31, 41, 55)
MUTED = (107, 114, 128)
BRAND = (154, 52, 18)
ALERT = (185, 28, 28)
SHADE = (255, 247, 237)
LINE = (229, 231, 235)


class _ArchivePdf(FPDF):
    child_no = ""
    printed = ""

    def header(self) -> None:
        self.set_font(FONT_FAMILY, "B", 10)
        self.set_text_color(*BRAND)
        self.cell(0, 6, "关爱 · 儿童档案（一人一档）", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.set_text_color(*ALERT)
        self.cell(0, 6, "内部资料 注意保密", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 4.5, f"儿童编号 {self.child_no}", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.cell(0, 4.5, f"打印日期 {self.printed}", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*BRAND)
        self.set_line_width(0.4)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(5)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, "儿童个人信息受法律保护，请勿复制、外传", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.cell(0, 5, f"第 {self.page_no()} / {{nb}} 页", align=Align.R)


def _section(pdf: FPDF, title: str) -> None:
    if pdf.will_page_break(20):
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT_FAMILY, "B", 12)
    pdf.set_text_color(*BRAND)
    pdf.cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT_FAMILY, "", 9.5)


def _muted_line(pdf: FPDF, text: str) -> None:
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 5, text, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)


def _table(
    pdf: FPDF,
    rows: list[list[str]],
    widths: Sequence[float],
    *,
    heading: bool = True,
    label_columns: Sequence[int] = (),
) -> None:
    heading_style = FontFace(emphasis="BOLD", color=INK, fill_color=SHADE)
    options: dict[str, Any] = {
        "col_widths": widths,
        "width": pdf.epw,
        "wrapmode": WrapMode.CHAR,
        "text_align": "LEFT",
        "line_height": 5.2,
        "padding": (1.2, 1.6),
        "borders_layout": TableBordersLayout.ALL,
        "first_row_as_headings": heading,
        "headings_style": heading_style,
    }
    pdf.set_draw_color(*LINE)
    pdf.set_line_width(0.2)
    label_style = FontFace(color=MUTED, fill_color=SHADE)
    with pdf.table(**options) as table:
        for values in rows:
            row = table.row()
            for index, value in enumerate(values):
                row.cell(value or "—", style=label_style if index in label_columns else None)


def archive_pdf(
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
    """The archive of ``child`` as PDF bytes. ID numbers and phones are masked unless ``reveal``."""
    font = cjk_font()
    now = timezone.localtime(printed_at or timezone.now())
    today = now.date()
    pdf = _ArchivePdf(orientation="P", unit="mm", format="A4")
    pdf.child_no = child.child_no
    pdf.printed = now.strftime("%Y-%m-%d %H:%M") + (f"（{printed_by}）" if printed_by else "")
    pdf.set_title(f"儿童档案 {child.child_no}")
    pdf.set_author("关爱")
    pdf.set_creator("关爱 guanai")
    pdf.add_font(FONT_FAMILY, "", font.regular, collection_font_number=font.regular_index)
    if font.bold:
        pdf.add_font(FONT_FAMILY, "B", font.bold, collection_font_number=font.bold_index)
    else:
        pdf.add_font(FONT_FAMILY, "B", font.regular, collection_font_number=font.regular_index)
    pdf.set_margins(15, 14, 15)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.set_font(FONT_FAMILY, "B", 18)
    pdf.cell(0, 10, child.name, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, "", 10)
    _muted_line(pdf, f"{place}　·　{child.get_status_display()}")
    if not reveal:
        _muted_line(pdf, "身份证号和电话已按权限脱敏。")

    _section(pdf, "一、基本信息")
    facts = basic_facts(child, reveal=reveal, place=place, today=today)
    pairs = [facts[i : i + 2] for i in range(0, len(facts), 2)]
    rows = [[cell for pair in chunk for cell in pair] + ["", ""] * (2 - len(chunk)) for chunk in pairs]
    _table(pdf, rows, (17, 33, 17, 33), heading=False, label_columns=(0, 2))

    _section(pdf, "二、关爱类别及认定依据")
    if groups:
        for group in groups:
            pdf.set_font(FONT_FAMILY, "B", 10.5)
            pdf.multi_cell(0, 6, group.get_code_display(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font(FONT_FAMILY, "", 9.5)
            pdf.multi_cell(0, 5.2, group.explanation, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            _muted_line(
                pdf,
                f"政策依据：{group.source}；规则 {group.rule_id} 第{group.rule_version}版；认定于{group.derived_on}",
            )
            pdf.ln(1.5)
    else:
        _muted_line(
            pdf, "当前不属于任何关爱类别。" + (f"系统建议退出：{child.exit_proposal}" if child.exit_proposal else "")
        )

    _section(pdf, "三、家庭成员及监护情况")
    family = family_rows(relations, reveal=reveal, today=today)
    if family:
        table_rows = [["关系", "姓名", "身份证号 / 电话", "当前状况", "其他时期状况"]]
        for member in family:
            table_rows.append(
                [
                    member.relation + ("\n" + "、".join(member.roles) if member.roles else ""),
                    member.name,
                    "\n".join(v for v in (member.id_number, member.phone) if v),
                    member.current,
                    "\n".join(member.history),
                ]
            )
        _table(pdf, table_rows, (17, 12, 23, 24, 24))
    else:
        _muted_line(pdf, "尚未登记家庭成员。")

    _section(pdf, f"四、档案记录（共{len(timeline)}条，按时间先后）")
    if timeline:
        event_rows = [["时间", "类型", "内容", "操作人"]]
        for event in sorted(timeline, key=lambda e: (e.at, e.pk or 0)):
            event_rows.append([local_time(event.at), timeline_area(event.kind)[0], event.summary, event.actor_username])
        _table(pdf, event_rows, (19, 8, 59, 14))
    else:
        _muted_line(pdf, "暂无记录。")
    return bytes(pdf.output())

"""The annual progress report (四(二): each district reports its progress to the city by 1 December; the city
rolls up all districts): KPIs with trends, a table by township (by district for the city), charts, the workforce,
spot checks, milestones, exemplary cases, problems and measures — as PDF (fpdf2, the archive's embedded CJK
font; charts drawn with fpdf2's own lines and rectangles, so no plotting library is needed) and as Excel
(xlsxwriter, with native Excel charts). Figures come from the KPI snapshots only.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone
from fpdf import FPDF, FontFace
from fpdf.enums import Align, TableBordersLayout, WrapMode, XPos, YPos

from guanai.lib import regioncode
from guanai.lib.errors import DomainError
from guanai.oversight import suppression
from guanai.oversight.kpis import LEVELS, Kpi, kpis, recent_windows, window
from guanai.oversight.models import KpiSnapshot, MilestoneProgress, SpotCheck
from guanai.oversight.selectors import annual_report_get, child_level, exemplary_cases
from guanai.oversight.services import milestone_rules, oversight_rules, spotcheck_summary
from guanai.regions.models import Region
from guanai.registry.archive_pdf import FONT_FAMILY, cjk_font

# The indicators charted per sub-area and as trends (the first two carry most of §8's weight).
CHART_KPIS = ("contact_rate", "home_visit_rate")
TABLE_KPIS = (
    "contact_rate",
    "home_visit_rate",
    "archive_completeness",
    "villages_with_director",
    "directors_trained",
    "orgs_cultivated",
)


def _fmt(value: Any, kpi: Kpi) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:.1f}%" if kpi.is_rate else f"{value:g}"


def _target(kpi: Kpi) -> str:
    return f"{kpi.target:g}%" if kpi.is_rate else f"≥{kpi.target:g}"


def _show(row: KpiSnapshot | None, kpi: Kpi, shared: bool) -> dict[str, Any]:
    if row is None:
        return {"numerator": None, "denominator": None, "value": None}
    data = {
        "numerator": row.numerator,
        "denominator": row.denominator,
        "value": row.value,
        "unit": kpi.unit,
        "subject": kpi.subject,
    }
    return suppression.snapshot_row(data, shared=shared)


def report_region(code: str) -> Region:
    try:
        code = regioncode.normalise(code)
    except regioncode.RegionCodeError as exc:
        raise DomainError("bad_region", exc.message) from None
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise DomainError("unknown_region", f"区划代码{code}不存在")
    if region.level not in (Region.Level.PROVINCE, Region.Level.COUNTY):
        raise DomainError("bad_report_region", "年度进展报告按区县或全市编制，请给出区县或全市的区划代码")
    return region


def annual_report_data(region: Region, year: int, *, today: dt.date, shared: bool = False) -> dict[str, Any]:
    """Everything the report shows, from snapshots and the oversight records of ``year``."""
    if year > today.year or year < 2024:
        raise DomainError("bad_year", f"年度应在2024年到{today.year}年之间")
    end = min(dt.date(year, 12, 31), today)
    active = [k for k in kpis().values() if k.active]
    windows = {k.id: window(k.period, end, today) for k in active}
    if not KpiSnapshot.objects.filter(region_code=region.code, period__in={w.code for w in windows.values()}).exists():
        raise DomainError(
            "no_snapshots",
            f"{region.name}{year}年度还没有指标快照，请先运行「guanai kpi refresh --period {year}-{end.month:02d}」",
        )
    # KPI values and their trends through the year (months, quarters) or over years.
    trend_windows = {
        k.id: [
            w
            for w in recent_windows(k.period, end, {"month": 12, "quarter": 4, "year": 3}[k.period])
            if k.period == "year" or w.start.year == year
        ]
        for k in active
    }
    codes = {w.code for ws in trend_windows.values() for w in ws}
    rows: dict[tuple[str, str], KpiSnapshot] = {
        (r.kpi, r.period): r for r in KpiSnapshot.objects.filter(region_code=region.code, period__in=codes)
    }
    indicators = []
    for k in kpis().values():
        if not k.active:
            indicators.append({"kpi": k, "pending": True, "current": {"value": None}, "trend": []})
            continue
        current = _show(rows.get((k.id, windows[k.id].code)), k, shared)
        trend = [(w.code, _show(rows.get((k.id, w.code)), k, shared)["value"]) for w in trend_windows[k.id]]
        value = current["value"]
        meets = None if not isinstance(value, int | float) else value >= k.target
        indicators.append(
            {"kpi": k, "pending": False, "window": windows[k.id], "current": current, "trend": trend, "meets": meets}
        )

    # Sub-areas: townships of a district, districts of the city.
    below = child_level(region.level if region.level in LEVELS else 1)
    areas: list[dict[str, Any]] = []
    if below is not None:
        low, high = regioncode.prefix_range(region.prefix)
        by_area: dict[str, dict[str, Any]] = defaultdict(dict)
        for row in KpiSnapshot.objects.filter(
            period__in={w.code for w in windows.values()}, level=below, region_code__gte=low, region_code__lte=high
        ):
            k = kpis()[row.kpi]
            if k.active and windows[k.id].code == row.period:
                by_area[row.region_code][row.kpi] = _show(row, k, shared)
        names = dict(Region.objects.filter(code__in=list(by_area)).values_list("code", "name"))
        areas = [{"code": c, "name": names.get(c, c), "values": v} for c, v in by_area.items()]

        def key(a: dict[str, Any]) -> tuple[bool, float, str]:
            v = a["values"].get("contact_rate", {}).get("value")
            return (not isinstance(v, int | float), float(v) if isinstance(v, int | float) else 0.0, a["code"])

        areas.sort(key=key)

    workforce = _workforce(region, year, end)
    checks = [
        {"check": c, "summary": spotcheck_summary(c, today=today)}
        for c in SpotCheck.objects.filter(
            district__code__gte=regioncode.prefix_range(region.prefix)[0],
            district__code__lte=regioncode.prefix_range(region.prefix)[1],
            year=year,
        ).select_related("district")
    ]
    milestones = _milestones(region)
    narrative = annual_report_get(region, year)
    return {
        "region": region,
        "year": year,
        "today": today,
        "end": end,
        "shared": shared,
        "due": dt.date(year, *(int(x) for x in oversight_rules()["annual_report"]["due"].split("-"))),
        "indicators": indicators,
        "areas": areas,
        "area_label": "区县" if region.level == Region.Level.PROVINCE else "乡镇（街道）",
        "workforce": workforce,
        "checks": checks,
        "milestones": milestones,
        "cases": exemplary_cases(region, year),
        "narrative": narrative,
        "generated_at": timezone.now(),
    }


def _workforce(region: Region, year: int, end: dt.date) -> dict[str, Any]:
    from guanai.workforce.models import OrgProject, SocialOrganisation, StaffProfile, TrainingEvent
    from guanai.workforce.selectors import active_appointments

    low, high = regioncode.prefix_range(region.prefix)
    appointments = active_appointments(end).filter(region_id__gte=low, region_id__lte=high)
    directors = appointments.filter(profile__kind=StaffProfile.Kind.DIRECTOR).values("profile").distinct().count()
    supervisors = appointments.filter(profile__kind=StaffProfile.Kind.SUPERVISOR).values("profile").distinct().count()
    full_time = (
        appointments.filter(profile__kind=StaffProfile.Kind.DIRECTOR, profile__employment="full_time")
        .values("profile")
        .distinct()
        .count()
    )
    trainings = TrainingEvent.objects.filter(held_on__year=year, region_id__gte=low, region_id__lte=high)
    orgs = SocialOrganisation.objects.filter(district_id__gte=low, district_id__lte=high, cultivated_year=year)
    reach = OrgProject.objects.filter(
        organisation__district_id__gte=low, organisation__district_id__lte=high, start__year__lte=year
    ).aggregate(children=Sum("children_reached"), families=Sum("families_reached"), projects=Count("id"))
    return {
        "directors": directors,
        "full_time": full_time,
        "supervisors": supervisors,
        "trainings": list(trainings.annotate(n=Count("attendances")).order_by("held_on")),
        "organisations": list(orgs.order_by("name")),
        "alliance": SocialOrganisation.objects.filter(
            district_id__gte=low, district_id__lte=high, in_alliance=True
        ).count(),
        "reach": {k: v or 0 for k, v in reach.items()},
    }


def _milestones(region: Region) -> list[dict[str, Any]]:
    low, high = regioncode.prefix_range(region.prefix)
    done: dict[str, list[MilestoneProgress]] = defaultdict(list)
    for p in MilestoneProgress.objects.filter(district_id__gte=low, district_id__lte=high, done_on__isnull=False):
        done[p.milestone].append(p)
    districts = Region.objects.filter(code__gte=low, code__lte=high, level=Region.Level.COUNTY).count() or 1
    out = []
    for m in milestone_rules():
        rows = done.get(m["id"], [])
        on_time = sum(1 for p in rows if p.done_on and p.done_on <= m["due"])
        out.append(
            {
                "milestone": m,
                "done": len(rows),
                "on_time": on_time,
                "of": districts,
                "evidence": sum(1 for p in rows if p.evidence_name),
            }
        )
    return out


# --- PDF -----------------------------------------------------------------------------------------------------

INK = (31, 41, 55)
MUTED = (107, 114, 128)
BRAND = (154, 52, 18)
SHADE = (255, 247, 237)
LINE = (229, 231, 235)
GOOD = (21, 128, 61)
BAD = (185, 28, 28)
SERIES = [(194, 65, 12), (37, 99, 235), (21, 128, 61)]


class _ReportPdf(FPDF):
    heading = ""

    def header(self) -> None:
        self.set_font(FONT_FAMILY, "B", 9)
        self.set_text_color(*BRAND)
        self.cell(0, 6, self.heading, new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.set_text_color(*BAD)
        self.cell(0, 6, "内部资料", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*BRAND)
        self.set_line_width(0.4)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(4)
        self.set_text_color(*INK)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(*MUTED)
        self.cell(0, 5, "关爱 · 数据来自指标快照；注意保护儿童个人隐私", new_x=XPos.LMARGIN, new_y=YPos.TOP)
        self.cell(0, 5, f"第 {self.page_no()} / {{nb}} 页", align=Align.R)


def _section(pdf: FPDF, title: str) -> None:
    if pdf.will_page_break(30):
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT_FAMILY, "B", 12.5)
    pdf.set_text_color(*BRAND)
    pdf.cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT_FAMILY, "", 9.5)


def _para(pdf: FPDF, text: str, *, muted: bool = False) -> None:
    if muted:
        pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 5.4, text or "（未填写）", wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)


def _table(pdf: FPDF, rows: list[list[str]], widths: Sequence[float]) -> None:
    pdf.set_fill_color(255, 255, 255)  # charts leave their colour behind; table cells must not inherit it
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*LINE)
    pdf.set_line_width(0.2)
    pdf.set_font(FONT_FAMILY, "", 8.8)
    with pdf.table(
        col_widths=widths,
        width=pdf.epw,
        wrapmode=WrapMode.CHAR,
        text_align="LEFT",
        line_height=4.8,
        padding=(1.0, 1.4),
        borders_layout=TableBordersLayout.ALL,
        headings_style=FontFace(emphasis="BOLD", color=INK, fill_color=SHADE),
    ) as table:
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value or "—")
    pdf.set_font(FONT_FAMILY, "", 9.5)


def _bar_chart(pdf: FPDF, title: str, items: list[tuple[str, float | None]], target: float) -> None:
    """Horizontal bars (percentages), worst first, with the target as a dashed line (the 25 worst at most; the
    table above lists every area)."""
    if len(items) > 25:
        title += f"（最差的25个，共{len(items)}个）"
        items = items[:25]
    bar_h, gap, label_w = 4.2, 1.4, 34.0
    height = 10 + len(items) * (bar_h + gap)
    if pdf.will_page_break(height + 4):
        pdf.add_page()
    x0, y = pdf.l_margin, pdf.get_y()
    width = pdf.epw - label_w - 16
    pdf.set_font(FONT_FAMILY, "B", 9.5)
    pdf.cell(0, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, "", 8)
    y = pdf.get_y() + 1
    for name, value in items:
        pdf.set_xy(x0, y)
        pdf.set_text_color(*INK)
        pdf.cell(label_w - 2, bar_h, name[:12], align=Align.R)
        pdf.set_fill_color(243, 244, 246)
        pdf.rect(x0 + label_w, y, width, bar_h, style="F")
        if value is not None:
            colour = GOOD if value >= target else (BAD if value < target * 0.8 else SERIES[0])
            pdf.set_fill_color(*colour)
            pdf.rect(x0 + label_w, y, width * max(0.0, min(value, 100.0)) / 100.0, bar_h, style="F")
        pdf.set_xy(x0 + label_w + width + 1, y)
        pdf.cell(15, bar_h, "—" if value is None else f"{value:.1f}%")
        y += bar_h + gap
    tx = x0 + label_w + width * min(target, 100.0) / 100.0
    pdf.set_draw_color(*MUTED)
    pdf.set_dash_pattern(dash=1, gap=1)
    pdf.line(tx, pdf.get_y() + 1, tx, y)
    pdf.set_dash_pattern()
    pdf.set_y(y + 2)


def _line_chart(pdf: FPDF, title: str, series: list[tuple[str, list[tuple[str, float | None]]]]) -> None:
    """Trends (percent, 0–100) of one or more indicators over the periods of the year."""
    h, label_w = 42.0, 10.0
    if pdf.will_page_break(h + 18):
        pdf.add_page()
    pdf.set_font(FONT_FAMILY, "B", 9.5)
    pdf.cell(0, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    x0, y0 = pdf.l_margin + label_w, pdf.get_y() + 2
    w = pdf.epw - label_w - 4
    pdf.set_font(FONT_FAMILY, "", 7)
    pdf.set_draw_color(*LINE)
    pdf.set_line_width(0.2)
    for pct in (0, 25, 50, 75, 100):
        y = y0 + h - h * pct / 100
        pdf.line(x0, y, x0 + w, y)
        pdf.set_xy(pdf.l_margin, y - 2)
        pdf.set_text_color(*MUTED)
        pdf.cell(label_w - 1, 4, f"{pct}%", align=Align.R)
    longest = max((len(points) for _, points in series), default=0)
    step = w / max(longest - 1, 1)
    for index, (_, points) in enumerate(series):
        colour = SERIES[index % len(SERIES)]
        pdf.set_draw_color(*colour)
        pdf.set_fill_color(*colour)
        pdf.set_line_width(0.6)
        previous = None
        for i, (_, value) in enumerate(points):
            if value is None:
                previous = None
                continue
            point = (x0 + i * step, y0 + h - h * max(0.0, min(value, 100.0)) / 100)
            if previous is not None:
                pdf.line(*previous, *point)
            pdf.ellipse(point[0] - 0.8, point[1] - 0.8, 1.6, 1.6, style="F")
            previous = point
    labels = series[0][1] if series else []
    for i, (period, _) in enumerate(labels):
        pdf.set_xy(x0 + i * step - 8, y0 + h + 1)
        pdf.set_text_color(*MUTED)
        pdf.cell(16, 4, period[-5:] if len(period) > 4 else period, align=Align.C)
    legend_y = y0 + h + 6
    pdf.set_xy(x0, legend_y)
    for index, (name, _) in enumerate(series):
        colour = SERIES[index % len(SERIES)]
        pdf.set_fill_color(*colour)
        pdf.rect(pdf.get_x(), legend_y + 1.2, 3, 2, style="F")
        pdf.set_x(pdf.get_x() + 4)
        pdf.set_text_color(*INK)
        pdf.cell(40, 4.5, name)
    pdf.set_line_width(0.2)
    pdf.set_y(legend_y + 7)


def annual_report_pdf(data: dict[str, Any]) -> bytes:
    font = cjk_font()
    region, year = data["region"], data["year"]
    pdf = _ReportPdf(orientation="P", unit="mm", format="A4")
    pdf.heading = f"{region.name}{year}年度工作进展报告"
    pdf.set_title(pdf.heading)
    pdf.set_author("关爱")
    pdf.set_creator("关爱 guanai")
    pdf.add_font(FONT_FAMILY, "", font.regular, collection_font_number=font.regular_index)
    pdf.add_font(
        FONT_FAMILY,
        "B",
        font.bold or font.regular,
        collection_font_number=font.bold_index if font.bold else font.regular_index,
    )
    pdf.set_margins(16, 14, 16)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.set_font(FONT_FAMILY, "B", 17)
    pdf.multi_cell(
        0,
        9,
        f"{region.name}留守儿童和困境儿童关爱服务质量提升三年行动{year}年度工作进展报告",
        wrapmode=WrapMode.CHAR,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font(FONT_FAMILY, "", 9.5)
    submitted = data["narrative"].submitted_at if data["narrative"] else None
    _para(
        pdf,
        (
            f"报送：重庆市民政局　报送期限：{data['due']:%Y年%m月%d日}　统计截至：{data['end']:%Y年%m月%d日}　"
            f"生成：{timezone.localtime(data['generated_at']):%Y-%m-%d %H:%M}"
            + (f"　已报送：{timezone.localtime(submitted):%Y-%m-%d}" if submitted else "")
        ),
        muted=True,
    )
    if data["shared"]:
        _para(pdf, "本版本为对外版：不足5人的儿童数以“<5”显示，据此计算的比率以“—”显示。", muted=True)

    _section(pdf, "一、主要指标")
    rows = [["指标", "本年度", "目标", "达标", "统计口径", "依据"]]
    for ind in data["indicators"]:
        k = ind["kpi"]
        if ind["pending"]:
            rows.append([k.label, "暂无数据", _target(k), "—", k.pending_reason, k.source])
            continue
        cur = ind["current"]
        ratio = "" if cur.get("denominator") is None else f"{cur['numerator']}/{cur['denominator']}"
        meets = {True: "是", False: "否", None: "—"}[ind["meets"]]
        rows.append(
            [
                k.label,
                _fmt(cur["value"], k) + (f"\n{ratio}" if ratio else ""),
                _target(k),
                meets,
                f"{ind['window'].label}：{k.numerator}",
                k.source,
            ]
        )
    _table(pdf, rows, (24, 17, 12, 9, 58, 50))

    _section(pdf, "二、指标趋势")
    by_id = {ind["kpi"].id: ind for ind in data["indicators"]}
    monthly = [
        (by_id[k]["kpi"].label, [(p, v if isinstance(v, int | float) else None) for p, v in by_id[k]["trend"]])
        for k in ("contact_rate", "archive_completeness")
        if k in by_id and not by_id[k]["pending"]
    ]
    if monthly:
        _line_chart(pdf, f"{year}年逐月", monthly)
    quarterly = [
        (by_id[k]["kpi"].label, [(p, v if isinstance(v, int | float) else None) for p, v in by_id[k]["trend"]])
        for k in ("home_visit_rate",)
        if k in by_id and not by_id[k]["pending"]
    ]
    if quarterly:
        _line_chart(pdf, f"{year}年逐季度", quarterly)

    if data["areas"]:
        _section(pdf, f"三、分{data['area_label']}情况")
        # District counts (organisations cultivated) have no township figure; the city's none per district.
        hidden = {"city", "district"} if data["region"].level == Region.Level.COUNTY else {"city"}
        table_kpis = [kpis()[k] for k in TABLE_KPIS if kpis()[k].active and kpis()[k].per not in hidden]
        rows = [[data["area_label"], *[k.label for k in table_kpis]]]
        for a in data["areas"]:
            rows.append([a["name"], *[_fmt(a["values"].get(k.id, {}).get("value"), k) for k in table_kpis]])
        _table(pdf, rows, (30, *[(pdf.epw - 30) / len(table_kpis) * 1.0] * len(table_kpis)))
        pdf.ln(2)
        for kid in CHART_KPIS:
            k = kpis()[kid]
            items = [
                (a["name"], v if isinstance(v := a["values"].get(kid, {}).get("value"), int | float) else None)
                for a in data["areas"]
            ]
            items.sort(key=lambda x: (x[1] is None, x[1] if x[1] is not None else 0))
            _bar_chart(pdf, f"{k.label}（由低到高）", items, k.target)

    wf = data["workforce"]
    _section(pdf, "四、儿童主任队伍和社会力量")
    _para(
        pdf,
        (
            f"在岗儿童主任{wf['directors']}人（专职{wf['full_time']}人），儿童督导员{wf['supervisors']}人；"
            f"本年度组织培训{len(wf['trainings'])}场；本年度培育社会组织{len(wf['organisations'])}家，"
            f"加入儿童福利领域社会组织联盟{wf['alliance']}家；服务项目{wf['reach']['projects']}个，"
            f"服务儿童{wf['reach']['children']}人次、家庭{wf['reach']['families']}户。"
        ),
    )
    if wf["trainings"]:
        rows = [["日期", "培训", "层级", "参训人数"]]
        rows += [[str(t.held_on), t.title, t.get_level_display(), str(t.n)] for t in wf["trainings"]]
        _table(pdf, rows, (22, 90, 30, 28))
    if wf["organisations"]:
        rows = [["社会组织", "培育方式", "服务内容", "联盟"]]
        rows += [
            [o.name, o.get_mode_display() if o.mode else "", "、".join(o.services), "是" if o.in_alliance else "否"]
            for o in wf["organisations"]
        ]
        _table(pdf, rows, (60, 25, 70, 15))

    _section(pdf, "五、年度检查和档案抽查")
    if data["narrative"] and data["narrative"].inspection:
        _para(pdf, data["narrative"].inspection)
    if data["checks"]:
        rows = [["区县", "抽取/在册", "已查", "合格", "不合格", "整改完成/待整改/超期", "状态"]]
        for c in data["checks"]:
            s, check = c["summary"], c["check"]
            rows.append(
                [
                    check.district.name,
                    f"{check.size}/{check.population}",
                    str(s["total"]["reviewed"]),
                    str(s["total"]["passed"]),
                    str(s["total"]["failed"]),
                    f"{s['tasks']['done']}/{s['tasks']['open']}/{s['tasks']['overdue']}",
                    check.get_status_display(),
                ]
            )
        _table(pdf, rows, (30, 24, 14, 14, 16, 40, 20))
    else:
        _para(pdf, f"{year}年度尚未开展档案抽查。", muted=True)

    _section(pdf, "六、工作节点")
    rows = [["节点", "期限", "完成（按期）", "佐证材料"]]
    for m in data["milestones"]:
        spec = m["milestone"]
        rows.append([spec["label"], str(spec["due"]), f"{m['done']}/{m['of']}（{m['on_time']}）", f"{m['evidence']}份"])
    _table(pdf, rows, (90, 24, 30, 24))

    _section(pdf, "七、主要做法和优秀案例")
    if data["narrative"] and data["narrative"].highlights:
        _para(pdf, data["narrative"].highlights)
    for case in data["cases"]:
        pdf.set_font(FONT_FAMILY, "B", 10)
        pdf.multi_cell(
            0, 6, case.title + ("（市级入选）" if case.selected_by_city else ""), new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.set_font(FONT_FAMILY, "", 9.5)
        _para(pdf, case.summary)
    if not data["cases"] and not (data["narrative"] and data["narrative"].highlights):
        _para(pdf, "（未填写）", muted=True)

    _section(pdf, "八、存在问题和下一步措施")
    pdf.set_font(FONT_FAMILY, "B", 10)
    pdf.cell(0, 6, "存在问题", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, "", 9.5)
    _para(pdf, data["narrative"].problems if data["narrative"] else "")
    pdf.set_font(FONT_FAMILY, "B", 10)
    pdf.cell(0, 6, "下一步措施", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT_FAMILY, "", 9.5)
    _para(pdf, data["narrative"].measures if data["narrative"] else "")
    return bytes(pdf.output())


# --- Excel ---------------------------------------------------------------------------------------------------


def annual_report_xlsx(data: dict[str, Any]) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "bg_color": "#FFF7ED", "border": 1, "text_wrap": True})
    cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
    pct = book.add_format({"border": 1, "num_format": "0.0"})
    region, year = data["region"], data["year"]

    sheet = book.add_worksheet("主要指标")
    sheet.write(0, 0, f"{region.name}{year}年度工作进展报告（统计截至{data['end']}）", title)
    if data["shared"]:
        sheet.write(1, 0, "对外版：不足5人的儿童数以“<5”显示，据此计算的比率以“—”显示。")
    headers = ["指标", "期间", "指标值", "分子", "分母", "目标", "达标", "分子口径", "分母口径", "依据"]
    sheet.write_row(2, 0, headers, head)
    for i, ind in enumerate(data["indicators"], start=3):
        k = ind["kpi"]
        if ind["pending"]:
            sheet.write_row(
                i, 0, [k.label, "", "暂无数据", "", "", k.target, "", k.numerator, k.pending_reason, k.source], cell
            )
            continue
        cur = ind["current"]
        sheet.write(i, 0, k.label, cell)
        sheet.write(i, 1, ind["window"].label, cell)
        value = cur["value"]
        sheet.write(i, 2, value if value is not None else "", pct if isinstance(value, int | float) else cell)
        sheet.write(i, 3, cur["numerator"] if cur["numerator"] is not None else "", cell)
        sheet.write(i, 4, cur["denominator"] if cur["denominator"] is not None else "", cell)
        sheet.write(i, 5, k.target, cell)
        sheet.write(i, 6, {True: "是", False: "否", None: ""}[ind["meets"]], cell)
        sheet.write_row(i, 7, [k.numerator, k.denominator, k.source], cell)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 6, 11)
    sheet.set_column(7, 9, 40)

    trend = book.add_worksheet("趋势")
    col = 0
    for ind in data["indicators"]:
        if ind["pending"] or not ind["trend"]:
            continue
        k = ind["kpi"]
        trend.write(0, col, k.label, head)
        trend.write(0, col + 1, "指标值", head)
        for r, (period, value) in enumerate(ind["trend"], start=1):
            trend.write(r, col, period, cell)
            trend.write(r, col + 1, value if isinstance(value, int | float) else "", cell)
        if k.id in ("contact_rate", "home_visit_rate") and len(ind["trend"]) > 1:
            chart = book.add_chart({"type": "line"})
            chart.add_series(
                {
                    "name": k.label,
                    "categories": ["趋势", 1, col, len(ind["trend"]), col],
                    "values": ["趋势", 1, col + 1, len(ind["trend"]), col + 1],
                    "marker": {"type": "circle"},
                }
            )
            chart.set_y_axis({"min": 0, "max": 100, "name": "%"})
            chart.set_title({"name": k.label})
            trend.insert_chart(len(ind["trend"]) + 3 if col == 0 else 20, col, chart)
        col += 3

    if data["areas"]:
        areas = book.add_worksheet(f"分{data['area_label'][:2]}")
        active = [k for k in kpis().values() if k.active]
        areas.write_row(0, 0, ["区划代码", data["area_label"], *[k.label for k in active]], head)
        for r, a in enumerate(data["areas"], start=1):
            areas.write(r, 0, a["code"], cell)
            areas.write(r, 1, a["name"], cell)
            for c, k in enumerate(active, start=2):
                v = a["values"].get(k.id, {}).get("value")
                areas.write(r, c, v if v is not None else "", pct if isinstance(v, int | float) else cell)
        areas.set_column(0, 0, 14)
        areas.set_column(1, 1, 16)
        areas.set_column(2, len(active) + 1, 12)
        chart = book.add_chart({"type": "bar"})
        n = len(data["areas"])
        chart.add_series(
            {
                "name": kpis()["contact_rate"].label,
                "categories": [areas.name, 1, 1, n, 1],
                "values": [areas.name, 1, 2, n, 2],
            }
        )
        chart.set_x_axis({"min": 0, "max": 100})
        chart.set_size({"width": 620, "height": max(300, 18 * n + 80)})
        areas.insert_chart(1, len(active) + 3, chart)

    wf = data["workforce"]
    sheet = book.add_worksheet("队伍和社会力量")
    sheet.write_row(
        0,
        0,
        [
            "在岗儿童主任",
            "其中专职",
            "儿童督导员",
            "本年培训场次",
            "本年培育社会组织",
            "联盟成员",
            "服务项目",
            "服务儿童人次",
            "服务家庭",
        ],
        head,
    )
    sheet.write_row(
        1,
        0,
        [
            wf["directors"],
            wf["full_time"],
            wf["supervisors"],
            len(wf["trainings"]),
            len(wf["organisations"]),
            wf["alliance"],
            wf["reach"]["projects"],
            wf["reach"]["children"],
            wf["reach"]["families"],
        ],
        cell,
    )
    sheet.write_row(3, 0, ["社会组织", "培育方式", "服务内容", "联盟"], head)
    for r, o in enumerate(wf["organisations"], start=4):
        sheet.write_row(
            r,
            0,
            [o.name, o.get_mode_display() if o.mode else "", "、".join(o.services), "是" if o.in_alliance else "否"],
            cell,
        )
    sheet.set_column(0, 8, 14)

    sheet = book.add_worksheet("抽查和节点")
    sheet.write_row(
        0, 0, ["区县", "样本量", "在册档案", "已查", "合格", "不合格", "整改完成", "待整改", "超期", "状态"], head
    )
    for r, c in enumerate(data["checks"], start=1):
        s, check = c["summary"], c["check"]
        sheet.write_row(
            r,
            0,
            [
                check.district.name,
                check.size,
                check.population,
                s["total"]["reviewed"],
                s["total"]["passed"],
                s["total"]["failed"],
                s["tasks"]["done"],
                s["tasks"]["open"],
                s["tasks"]["overdue"],
                check.get_status_display(),
            ],
            cell,
        )
    start = len(data["checks"]) + 3
    sheet.write_row(start, 0, ["工作节点", "期限", "已完成区县", "按期完成", "区县数", "佐证材料"], head)
    for r, m in enumerate(data["milestones"], start=start + 1):
        spec = m["milestone"]
        sheet.write_row(r, 0, [spec["label"], str(spec["due"]), m["done"], m["on_time"], m["of"], m["evidence"]], cell)
    sheet.set_column(0, 0, 40)

    sheet = book.add_worksheet("问题和措施")
    narrative = data["narrative"]
    parts = [
        ("年度检查开展情况", narrative.inspection if narrative else ""),
        ("主要做法和成效", narrative.highlights if narrative else ""),
        ("存在问题", narrative.problems if narrative else ""),
        ("下一步措施", narrative.measures if narrative else ""),
    ]
    parts += [(f"优秀案例：{c.title}", c.summary) for c in data["cases"]]
    for r, (label, text) in enumerate(parts):
        sheet.write(r, 0, label, head)
        sheet.write(r, 1, text or "（未填写）", cell)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 100)
    book.close()
    return out.getvalue()

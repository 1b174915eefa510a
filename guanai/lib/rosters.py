"""Department rosters (education 学籍, household 户籍, migrant 外出务工, disability 残疾人证, assistance 救助):
reading a file and normalising it column-wise with polars. No Django here: the discovery app encrypts the ID
numbers, stores the rows and links them.

Rosters are evidence, not registrations: a row with a dirty value is kept with that value left empty and an
issue reported (行号, 列, 原因); only a row with no name, or with neither a usable ID number nor a birth date
(nothing to link it by), is rejected. Row numbers are 1-based data rows (header excluded), as the export
contract asks.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from guanai.lib import matchkeys

MAX_BYTES = 500 * 1024 * 1024


class RosterError(ValueError):
    """The file as a whole cannot be read (wrong type, missing columns…), with a Chinese message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str  # text, name, sex, date, id, region, bool, status, relation, category, grade
    required: bool = True


SOURCES: dict[str, str] = {
    "education": "学籍（教育部门）",
    "household": "户籍（公安部门）",
    "migrant": "外出务工（人社/公安部门）",
    "disability": "残疾人证（残联）",
    "assistance": "救助（民政部门）",
}

TEMPLATES: dict[str, list[Column]] = {
    "education": [
        Column("姓名", "name", "name"),
        Column("性别", "sex", "sex"),
        Column("出生日期", "birth_date", "date"),
        Column("身份证号", "id_number", "id"),
        Column("学校名称", "org_name", "text"),
        Column("学校区划代码", "region_code", "region"),
        Column("年级", "grade", "text"),
        Column("学籍状态", "status", "status"),
        Column("状态日期", "status_date", "date"),
        Column("户籍地址", "address", "text"),
    ],
    "household": [
        Column("姓名", "name", "name"),
        Column("性别", "sex", "sex"),
        Column("出生日期", "birth_date", "date"),
        Column("身份证号", "id_number", "id"),
        Column("户号", "household_no", "text"),
        Column("与户主关系", "relation", "relation"),
        Column("户籍地址", "address", "text"),
        Column("户籍区划代码", "region_code", "region"),
        Column("人员状态", "status", "status"),
        Column("状态日期", "status_date", "date"),
    ],
    "migrant": [
        Column("姓名", "name", "name"),
        Column("身份证号", "id_number", "id"),
        Column("外出地点", "org_name", "text"),
        Column("外出日期", "start_date", "date"),
        Column("是否跨县", "cross_county", "bool"),
    ],
    "disability": [
        Column("姓名", "name", "name"),
        Column("身份证号", "id_number", "id"),
        Column("残疾类别", "category", "category"),
        Column("残疾等级", "grade", "grade"),
        Column("发证日期", "start_date", "date"),
    ],
    "assistance": [
        Column("姓名", "name", "name"),
        Column("身份证号", "id_number", "id"),
        Column("救助类型", "category", "category"),
        Column("起始日期", "start_date", "date"),
        Column("终止日期", "end_date", "date"),
        Column("区划代码", "region_code", "region"),
    ],
}

# Closed vocabularies, Chinese as written in the departments' systems → stable codes.
STATUSES: dict[str, dict[str, str]] = {
    "education": {
        "在读": "enrolled",
        "休学": "suspended",
        "辍学": "dropout",
        "转出": "transferred",
        "毕业": "graduated",
    },
    "household": {
        "正常": "normal",
        "死亡": "deceased",
        "迁出": "moved_out",
        "服刑在押": "imprisoned",
        "强制隔离戒毒": "compulsory_rehab",
        "失踪": "missing",
    },
}
CATEGORIES: dict[str, dict[str, str]] = {
    "disability": {
        "视力": "视力",
        "听力": "听力",
        "言语": "言语",
        "肢体": "肢体",
        "智力": "智力",
        "精神": "精神",
        "多重": "多重",
    },
    # Values are BenefitEnrolment.Kind codes.
    "assistance": {
        "城市低保": "urban_dibao",
        "农村低保": "rural_dibao",
        "特困供养": "tekun",
        "孤儿基本生活费": "orphan_allowance",
        "事实无人抚养基本生活补贴": "unsupported_allowance",
        "临时救助": "temporary",
    },
}
# 与户主关系 (GB/T 4761 wording and its common short forms) → head, spouse, child, child_in_law, grandchild,
# parent, grandparent, sibling, other. Checked in this order: 孙 before 子, 媳/婿 before 女/子.
RELATIONS: list[tuple[str, str]] = [
    (r"^(户主|本人)$", "head"),
    (r"^0?[12]$", "head"),
    (r"孙", "grandchild"),
    (r"祖|外公|外婆|爷爷|奶奶", "grandparent"),
    (r"媳|婿", "child_in_law"),
    (r"兄|弟|姐|妹", "sibling"),
    (r"妻|夫|配偶", "spouse"),
    (r"子|女", "child"),
    (r"父|母", "parent"),
]

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK_CHARS = "10X98765432"

# Columns of a normalised roster frame (besides the template's own fields).
NORMALISED = [
    "row_no",
    "name",
    "sex",
    "birth_date",
    "id_clean",
    "id_state",
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
    "raw",
    "id_raw",
]


@dataclass(frozen=True)
class Issue:
    row_no: int
    column: str
    reason: str
    rejected: bool  # True: the row was not kept


@dataclass
class Roster:
    source: str
    sha256: str
    frame: pl.DataFrame  # NORMALISED columns, kept rows only
    issues: list[Issue]
    total_rows: int


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_raw(path: Path) -> pl.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterError("文件编码无法识别（请使用UTF-8或GB18030编码的CSV）")
        if "\x00" in text:
            raise RosterError("文件内容不是文本表格")
        try:
            return pl.read_csv(io.StringIO(text), infer_schema=False, truncate_ragged_lines=True)
        except pl.exceptions.PolarsError as exc:
            raise RosterError("CSV格式错误，无法解析") from exc
    if suffix == ".xlsx":
        try:
            return pl.read_excel(path, engine="calamine", infer_schema_length=0)
        except Exception as exc:  # calamine raises several types for a corrupt file
            raise RosterError("无法读取Excel文件（文件损坏或不是.xlsx格式）") from exc
    raise RosterError(f"不支持的文件类型：{suffix or '无扩展名'}（请使用.csv或.xlsx）")


def _nfkc(col: str) -> pl.Expr:
    return (
        pl.col(col)
        .cast(pl.String)
        .str.normalize("NFKC")
        .str.replace_all(r"[\s\u3000]+", " ")
        .str.strip_chars()
        .replace("", None)
    )


def parse_dates(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(date, swapped flag): 2015-03-07, 2015/3/7, 2015.3.7, 20150307, 2015年3月7日, '2015-03-07 00:00:00',
    Excel serial numbers. A month above 12 with a day of 12 or less is read as day and month swapped."""
    text = expr.str.replace_all(r"[T ]00:00(:00)?(\.0+)?$", "").str.replace_all(" ", "")
    parts = text.str.extract_groups(r"^(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?$")
    y = parts.struct.field("1")
    m = parts.struct.field("2").str.zfill(2)
    d = parts.struct.field("3").str.zfill(2)
    compact = text.str.contains(r"^\d{8}$")
    # 8 digits are YYYYMMDD; the regex's greedy 1–2 digit groups would read them otherwise.
    m = pl.when(compact).then(text.str.slice(4, 2)).otherwise(m)
    d = pl.when(compact).then(text.str.slice(6, 2)).otherwise(d)
    direct = pl.concat_str([y, m, d], separator="-").str.to_date("%Y-%m-%d", strict=False)
    swapped = pl.concat_str([y, d, m], separator="-").str.to_date("%Y-%m-%d", strict=False)
    # An Excel date cell read as its serial number (days since 1899-12-30).
    serial = text.str.extract(r"^(\d{5})(\.0+)?$", 1).cast(pl.Int64, strict=False)
    serial_date = (pl.date(1899, 12, 30) + pl.duration(days=serial)).cast(pl.Date)
    value = pl.coalesce(direct, pl.when(m.cast(pl.Int32, strict=False) > 12).then(swapped), serial_date)
    was_swapped = direct.is_null() & swapped.is_not_null() & (m.cast(pl.Int32, strict=False) > 12)
    return value, was_swapped


def _check_char(body17: pl.Expr) -> pl.Expr:
    total = pl.sum_horizontal(
        [body17.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(ID_WEIGHTS)]
    )
    return pl.lit(CHECK_CHARS).str.slice(total.mod(11), 1)


def id_columns(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(clean text, state): state is ``valid`` (18 characters, real birth date, check character right),
    ``legacy15`` (a 15-digit pre-1999 number, upgraded to 18), ``invalid`` or ``missing``."""
    cleaned = expr.str.to_uppercase().str.replace_all(r"[^0-9X]", "").replace("", None)
    is15 = cleaned.str.contains(r"^\d{15}$")
    body15 = cleaned.str.slice(0, 6) + pl.lit("19") + cleaned.str.slice(6, 9)
    upgraded = pl.when(is15).then(body15 + _check_char(body15)).otherwise(cleaned)
    shaped = upgraded.str.contains(r"^\d{17}[\dX]$")
    birth_ok = upgraded.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).is_not_null()
    check_ok = _check_char(upgraded.str.slice(0, 17)) == upgraded.str.slice(17, 1)
    state = (
        pl.when(cleaned.is_null())
        .then(pl.lit("missing"))
        .when(shaped & birth_ok & check_ok)
        .then(pl.when(is15).then(pl.lit("legacy15")).otherwise(pl.lit("valid")))
        .otherwise(pl.lit("invalid"))
    )
    return upgraded, state


def _relation(expr: pl.Expr) -> pl.Expr:
    out: pl.Expr = pl.lit("other")
    for pattern, code in reversed(RELATIONS):  # built inside out: the first pattern is checked first
        out = pl.when(expr.str.contains(pattern)).then(pl.lit(code)).otherwise(out)
    return pl.when(expr.is_null()).then(None).otherwise(out)


def read_roster(path: Path, source: str) -> Roster:
    """Read and normalise a roster file of ``source``. Raises RosterError when the file as a whole is unusable."""
    path = Path(path)
    if source not in TEMPLATES:
        raise RosterError(f"未知的名册来源：{source}（可用：{'、'.join(SOURCES)}）")
    if not path.exists():
        raise RosterError(f"文件不存在：{path.name}")
    size = path.stat().st_size
    if size == 0:
        raise RosterError("文件为空")
    if size > MAX_BYTES:
        raise RosterError(f"文件过大（上限{MAX_BYTES // 1024 // 1024}MB），请拆分后分批导入")
    raw = _read_raw(path)
    raw = raw.rename({c: matchkeys.clean_name(str(c)) for c in raw.columns})
    template = TEMPLATES[source]
    missing = [c.header for c in template if c.required and c.header not in raw.columns]
    if missing:
        raise RosterError("缺少必需的列：" + "、".join(missing))
    wanted = [c.header for c in template]
    raw = raw.select([pl.col(h).cast(pl.String) for h in wanted]).with_row_index("row_no", offset=1)
    raw = raw.with_columns(pl.col("row_no").cast(pl.Int64))
    # Entirely empty lines are not rows (spreadsheets often end with a few).
    raw = raw.filter(pl.any_horizontal([pl.col(h).str.strip_chars().str.len_chars() > 0 for h in wanted]))
    total = raw.height
    frame, issues = _normalise(raw, source)
    return Roster(source=source, sha256=file_hash(path), frame=frame, issues=issues, total_rows=total)


def _normalise(raw: pl.DataFrame, source: str) -> tuple[pl.DataFrame, list[Issue]]:
    template = TEMPLATES[source]
    cols = {c.field: c for c in template}
    exprs: list[pl.Expr] = [pl.col("row_no")]
    problems: list[pl.Expr] = []  # struct-free: one string column per check, "列|原因" or null

    def problem(cond: pl.Expr, column: str, reason: pl.Expr | str) -> None:
        reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
        problems.append(pl.when(cond).then(pl.lit(column + "|") + reason_expr).otherwise(None))

    # Raw values as imported, ID number excluded (it is stored encrypted beside the row).
    raw = raw.with_columns(
        pl.struct([pl.col(c.header) for c in template if c.kind != "id"]).struct.json_encode().alias("_raw"),
        pl.col(cols["id_number"].header).alias("_id_raw"),
    )
    raw = raw.with_columns([_nfkc(c.header).alias(c.header) for c in template])
    exprs += [pl.col("_raw").alias("raw"), pl.col("_id_raw").alias("id_raw")]

    name_col = cols["name"].header
    name = pl.col(name_col).str.replace_all(r"[\s·.•・]", "")
    exprs.append(name.alias("name"))

    id_col = cols["id_number"].header
    id_clean, id_state = id_columns(pl.col(id_col))
    exprs += [id_clean.alias("id_clean"), id_state.alias("id_state")]
    problem(id_state == "invalid", id_col, "身份证号无效（位数、出生日期或校验位错误），将按姓名等信息模糊比对")
    problem(id_state == "legacy15", id_col, "15位旧身份证号，已升为18位")

    id_birth = id_clean.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    id_sex = (
        pl.when(id_clean.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1)
        .then(pl.lit("M"))
        .otherwise(pl.lit("F"))
    )
    id_usable = id_state.is_in(["valid", "legacy15"])

    if "birth_date" in cols:
        header = cols["birth_date"].header
        value, swapped = parse_dates(pl.col(header))
        problem(pl.col(header).is_not_null() & value.is_null(), header, "出生日期无法识别")
        problem(swapped, header, "出生日期的月份大于12，已按日、月颠倒读取")
        exprs.append(pl.coalesce(value, pl.when(id_usable).then(id_birth)).alias("birth_date"))
    else:
        # Rosters without a birth date column: the one in the ID number, even a mistyped one whose date part
        # is still a real date (a wrong digit elsewhere leaves it intact); the linker weighs it as evidence.
        exprs.append(pl.when(id_clean.str.len_chars() == 18).then(id_birth).otherwise(None).alias("birth_date"))

    if "sex" in cols:
        header = cols["sex"].header
        sex = (
            pl.col(header)
            .str.to_uppercase()
            .replace({"男": "M", "女": "F", "M": "M", "F": "F", "1": "M", "2": "F", "男性": "M", "女性": "F"})
        )
        sex = pl.when(sex.is_in(["M", "F"])).then(sex).otherwise(None)
        problem(pl.col(header).is_not_null() & sex.is_null(), header, "性别应为男或女")
        exprs.append(pl.coalesce(sex, pl.when(id_usable).then(id_sex)).alias("sex"))
    else:
        exprs.append(pl.when(id_clean.str.len_chars() == 18).then(id_sex).otherwise(None).alias("sex"))

    if "region_code" in cols:
        header = cols["region_code"].header
        digits = pl.col(header).str.replace_all(r"\D", "")
        ok = digits.str.len_chars().is_in([2, 4, 6, 9, 12])
        problem(pl.col(header).is_not_null() & ~ok, header, "区划代码应为12位数字（或6、9位）")
        exprs.append(pl.when(ok).then(digits.str.pad_end(12, "0")).otherwise(None).alias("region_code"))
    else:
        exprs.append(pl.lit(None, dtype=pl.String).alias("region_code"))

    for field in ("address", "household_no", "org_name", "grade"):
        if field in cols and cols[field].kind == "text":
            exprs.append(pl.col(cols[field].header).alias(field))
        elif field != "grade":
            exprs.append(pl.lit(None, dtype=pl.String).alias(field))

    if "relation" in cols:
        exprs.append(_relation(pl.col(cols["relation"].header)).alias("relation"))
    else:
        exprs.append(pl.lit(None, dtype=pl.String).alias("relation"))

    if "status" in cols:
        header = cols["status"].header
        mapping = STATUSES[source]
        status = pl.col(header).replace_strict(mapping, default=None, return_dtype=pl.String)
        problem(
            pl.col(header).is_not_null() & status.is_null(),
            header,
            pl.lit("状态应为" + "、".join(mapping) + "，实际为") + pl.col(header),
        )
        exprs.append(status.alias("status"))
    else:
        exprs.append(pl.lit(None, dtype=pl.String).alias("status"))

    for field in ("status_date", "start_date", "end_date"):
        if field in cols:
            header = cols[field].header
            value, swapped = parse_dates(pl.col(header))
            problem(pl.col(header).is_not_null() & value.is_null(), header, "日期无法识别")
            exprs.append(value.alias(field))
        else:
            exprs.append(pl.lit(None, dtype=pl.Date).alias(field))

    if "cross_county" in cols:
        header = cols["cross_county"].header
        text = pl.col(header).str.to_lowercase()
        value = (
            pl.when(text.is_in(["是", "y", "yes", "true", "1", "跨县"]))
            .then(True)
            .when(text.is_in(["否", "n", "no", "false", "0", "不跨县"]))
            .then(False)
            .otherwise(None)
        )
        problem(pl.col(header).is_not_null() & value.is_null(), header, "应填写“是”或“否”")
        exprs.append(value.alias("cross_county"))
    else:
        exprs.append(pl.lit(None, dtype=pl.Boolean).alias("cross_county"))

    if "category" in cols:
        header = cols["category"].header
        mapping = CATEGORIES[source]
        text = pl.col(header).str.replace(r"(残疾|类)$", "")
        value = text.replace_strict(mapping, default=None, return_dtype=pl.String)
        problem(
            pl.col(header).is_not_null() & value.is_null(),
            header,
            pl.lit("应为" + "、".join(mapping) + "之一，实际为") + pl.col(header),
        )
        exprs.append(value.alias("category"))
    else:
        exprs.append(pl.lit(None, dtype=pl.String).alias("category"))

    if "grade" in cols and cols["grade"].kind == "grade":
        header = cols["grade"].header
        numerals = {"一": "1", "二": "2", "三": "3", "四": "4"}
        text = pl.col(header).str.replace_all("级", "").replace(numerals)
        value = pl.when(text.is_in(["1", "2", "3", "4"])).then(text).otherwise(None)
        problem(pl.col(header).is_not_null() & value.is_null(), header, "残疾等级应为一至四级")
        exprs.append(value.alias("grade"))
    elif "grade" not in cols:
        exprs.append(pl.lit(None, dtype=pl.String).alias("grade"))

    # Fatal: nothing to call the row by, or nothing to link it by.
    reject_name = pl.col(name_col).is_null()
    problems.append(pl.when(reject_name).then(pl.lit(name_col + "|!姓名为空，该行未导入")).otherwise(None))

    out = raw.with_columns(pl.concat_list(problems).list.drop_nulls().alias("_problems")).select(
        [*exprs, pl.col("_problems")]
    )
    unlinkable = pl.col("birth_date").is_null() & ~pl.col("id_state").is_in(["valid", "legacy15", "invalid"])
    out = out.with_columns(
        pl.when(unlinkable & pl.col("name").is_not_null())
        .then(pl.col("_problems").list.concat(pl.lit(["身份证号|!身份证号和出生日期都为空，无法比对，该行未导入"])))
        .otherwise(pl.col("_problems"))
        .alias("_problems")
    )
    issues: list[Issue] = []
    with_problems = out.filter(pl.col("_problems").list.len() > 0).select("row_no", "_problems")
    rejected: set[int] = set()
    for row_no, items in with_problems.iter_rows():
        for item in items:
            column, _, reason = item.partition("|")
            fatal = reason.startswith("!")
            if fatal:
                rejected.add(row_no)
            issues.append(Issue(row_no=row_no, column=column, reason=reason.lstrip("!"), rejected=fatal))
    kept = out.filter(~pl.col("row_no").is_in(list(rejected))).drop("_problems")
    return kept.select(NORMALISED), issues


def with_name_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``name_pinyin`` and ``name_dialect``: computed once per distinct name (names repeat a lot), joined back."""
    names = frame.select(pl.col("name").unique().drop_nulls())
    values = names["name"].to_list()
    keys = pl.DataFrame(
        {
            "name": values,
            "name_pinyin": [matchkeys.name_pinyin(n) for n in values],
            "name_dialect": [matchkeys.dialect_key(n) for n in values],
        },
        schema={"name": pl.String, "name_pinyin": pl.String, "name_dialect": pl.String},
    )
    return frame.join(keys, on="name", how="left")


def issues_csv(issues: list[Issue]) -> str:
    """The bad-row report as CSV text (行号, 列, 原因, 处理)."""
    buf = io.StringIO()
    buf.write("行号,列,原因,处理\n")
    for i in issues:
        reason = i.reason.replace('"', '""')
        buf.write(f'{i.row_no},{i.column},"{reason}",{"未导入" if i.rejected else "已导入"}\n')
    return buf.getvalue()


def raw_dict(raw: str) -> dict[str, str]:
    return dict(json.loads(raw)) if raw else {}

"""Bulk import of the children's roster (registry issue, item 7): a .csv or .xlsx with Chinese headers.

The pipeline, each step set-wise so that a province-sized file imports in seconds:

1. read the file column-wise (csv module or fastexcel) and normalise whole columns at once;
2. check every cell, with memoised parsers for the low-cardinality columns (dates, codes, labels);
3. check rows against each other (duplicates, one parent named differently in two rows) and against the
   registry (village codes, jurisdiction, children already registered) with a handful of queries;
4. plan the changes: new children, households, people, relations and statuses; field updates of children
   already registered (matched on the ID number's blind index, or name + birth date + village without one);
5. write the plan in ONE transaction with multi-row inserts (COPY on PostgreSQL), re-derive the groups of
   every child touched, add one timeline line per created or updated child and one audit event.

Any invalid row stops the import before anything is written; the reasons go to ``<input>.errors.csv``
(``行号,列,值,原因``, the header being row 1). Re-importing the same file changes nothing. The rules and
every decision are documented in ``docs/import-children.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import hashlib
import io
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from guanai import privacy
from guanai.accounts.scope import covers
from guanai.audit.services import audit_record
from guanai.bulk import allocate_ids, bulk_insert, bulk_set, id_array, text_array
from guanai.jobs.runner import JobContext, job_kind
from guanai.lib import idnumber, pinyin
from guanai.lib.errors import DomainError
from guanai.lib.parse import ParseError, parse_bool, parse_date
from guanai.lib.text import normalise_text
from guanai.regions.models import Region
from guanai.registry.groups import groups_refresh
from guanai.registry.models import (
    Child,
    ChildRelation,
    Household,
    HukouType,
    Person,
    PersonStatus,
    Sex,
    TimelineEvent,
)
from guanai.registry.services import DISABILITY_TYPES, SCHOOLING, child_no_for
from guanai.registry.timeline import timeline_row

# --- the template (a contract: tested on unseen files) -------------------------------------------------------
HEADERS: list[str] = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "民族",
    "户籍性质",
    "户籍地址",
    "现住址",
    "村社区代码",
    "健康状况",
    "残疾类别",
    "残疾等级",
    "就学情况",
    "学校名称",
    "父亲姓名",
    "父亲身份证号",
    "父亲状况",
    "父亲状况起始日期",
    "父亲外出地点",
    "父亲是否跨县",
    "母亲姓名",
    "母亲身份证号",
    "母亲状况",
    "母亲状况起始日期",
    "母亲外出地点",
    "母亲是否跨县",
    "监护人姓名",
    "监护人与儿童关系",
    "监护人电话",
    "委托照料人姓名",
    "委托照料人关系",
    "委托照料人电话",
]
# Columns that must be in the header row; every other column may be left out (see "absent columns" in the doc).
REQUIRED_HEADERS: list[str] = ["姓名", "性别", "出生日期", "户籍性质", "村社区代码"]
# The child's own fields and the column each comes from.
CHILD_COLUMNS: dict[str, str] = {
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "hukou_type": "户籍性质",
    "hukou_address": "户籍地址",
    "current_address": "现住址",
    "village_id": "村社区代码",
    "health_status": "健康状况",
    "disability_type": "残疾类别",
    "disability_grade": "残疾等级",
    "schooling": "就学情况",
    "school_name": "学校名称",
}
CHILD_LABELS: dict[str, str] = {**CHILD_COLUMNS, "village_id": "村（社区）"}
PARENT_SLOTS: dict[str, str] = {"father": "父亲", "mother": "母亲"}
CARE_SLOTS: dict[str, tuple[str, str, str, str]] = {
    # slot: (label, name column, relation column, phone column)
    "guardian": ("监护人", "监护人姓名", "监护人与儿童关系", "监护人电话"),
    "carer": ("委托照料人", "委托照料人姓名", "委托照料人关系", "委托照料人电话"),
}

MAX_FILE_BYTES = 200 * 1024 * 1024
HEADER_SEARCH_ROWS = 10  # a title row or two above the header is common in government spreadsheets
BATCH = 5000
DEFAULT_ETHNICITY = "汉族"
DEFAULT_HEALTH = "健康"

# GB/T 3304: the 56 ethnic groups.
_ETHNIC_NAMES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 "
    "哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 "
    "达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 "
    "俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
)
ETHNIC_GROUPS = frozenset(_ETHNIC_NAMES.split())
OTHER_ETHNICITIES = ("其他", "外国血统中国籍人士")

SEX_VALUES = {"男": Sex.MALE, "女": Sex.FEMALE, "男性": Sex.MALE, "女性": Sex.FEMALE, "M": Sex.MALE, "F": Sex.FEMALE}
HUKOU_VALUES = {label: value for value, label in HukouType.choices}
STATUS_VALUES: dict[str, str] = {label: value for value, label in PersonStatus.Kind.choices}
STATUS_VALUES.update({"离异": "divorced_absent", "不在家": "divorced_absent", "弃养": "divorced_absent"})
GRADE_VALUES = {"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4}
NONE_WORDS = {"无", "没有", "/", "-", "—"}

# Free-text relations (监护人与儿童关系, 委托照料人关系) → ChildRelation.Relation. Exact words first, then
# characters that mark a kind of relative; anything else is "other".
RELATION_WORDS: dict[str, str] = {
    "父亲": "father",
    "父": "father",
    "爸爸": "father",
    "生父": "father",
    "母亲": "mother",
    "母": "mother",
    "妈妈": "mother",
    "生母": "mother",
}
_GRANDPARENT = ("祖父", "祖母", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "祖辈")
# Relatives before siblings: 表姐 and 堂哥 are cousins, 姐夫 an in-law.
_RELATIVE = ("叔", "伯", "姑", "舅", "姨", "婶", "嫂", "堂", "表", "夫", "亲属", "亲戚")
_SIBLING = ("哥", "姐", "弟", "妹", "兄")


def relation_of(text: str) -> str:
    """Map a free-text relation to ``ChildRelation.Relation`` (奶奶 → grandparent, 姐姐 → sibling …)."""
    word = "".join(text.split())
    if word in RELATION_WORDS:
        return RELATION_WORDS[word]
    if any(k in word for k in _GRANDPARENT):
        return ChildRelation.Relation.GRANDPARENT
    if any(k in word for k in _RELATIVE):
        return ChildRelation.Relation.OTHER_RELATIVE
    if any(k in word for k in _SIBLING):
        return ChildRelation.Relation.SIBLING
    return ChildRelation.Relation.OTHER


# --- results ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RowError:
    line: int  # spreadsheet row number; the header is row 1
    column: str
    value: str
    reason: str


@dataclass
class ImportResult:
    file_name: str
    dry_run: bool = False
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_report: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_rows(self) -> int:
        return len({e.line for e in self.errors})

    def summary(self) -> str:
        if self.errors:
            return (
                f"{self.file_name}：共{self.total}行，发现{len(self.errors)}处错误（涉及{self.error_rows}行），"
                f"未导入任何数据。错误报告：{self.error_report.name if self.error_report else '无'}"
            )
        verb = "校验通过（试运行，未写入数据库）" if self.dry_run else "导入完成"
        return (
            f"{self.file_name}：{verb}，共{self.total}行：新增{self.created}名，"
            f"更新{self.updated}名，未变化{self.unchanged}名"
        )


class ImportFileError(Exception):
    """The file as a whole cannot be read (empty, wrong type, no header …); becomes a row-1 error."""

    def __init__(self, reason: str, *, column: str = "", value: str = "", line: int = 1) -> None:
        super().__init__(reason)
        self.error = RowError(line, column, value, reason)


Progress = Callable[[int, int, str], None]


# --- reading ----------------------------------------------------------------------------------------------
@dataclass
class Sheet:
    columns: dict[str, list[str]]  # template header → normalised cell texts of the data rows
    lines: list[int]  # spreadsheet row number of each data row
    header_line: int = 1


_SEP = "\x1f"  # the unit separator never occurs in typed text, so a column can be normalised as one string
_SPACE_RUN = re.compile(r"[^\S\x1f]+")
# Whitespace other than single inner spaces: most columns have none, and then the column is left as it is.
_NEEDS_SPACING = re.compile(r"[^\S\x1f ]|  |^ | $| \x1f|\x1f ")
_EXPORT_GUARD = re.compile(r"(^|\x1f)'(?=[=+\-@])")


def normalise_column(values: Sequence[str]) -> list[str]:
    """NFKC (full-width digits and letters to ASCII), runs of spaces collapsed, cells trimmed — for a whole
    column in a few C-level passes instead of one Python call per cell. Also drops the ``'`` our exports put
    before a cell starting with = + - @, so an exported roster imports back unchanged."""
    if not values:
        return []
    joined = _SEP.join(values)
    text = joined if unicodedata.is_normalized("NFKC", joined) else unicodedata.normalize("NFKC", joined)
    if _NEEDS_SPACING.search(text):
        text = _SPACE_RUN.sub(" ", text).replace(" \x1f", _SEP).replace("\x1f ", _SEP).strip(" ")
    if "'" in text:
        text = _EXPORT_GUARD.sub(r"\1", text)
    out = text.split(_SEP)
    if len(out) != len(values):  # a cell held the separator itself: fall back to cell by cell
        return [_EXPORT_GUARD.sub("", normalise_text(v)) for v in values]
    return out


def _header_key(text: object) -> str:
    """A header cell as a template name: 全角/半角, spaces, a leading * (required mark) and a trailing note in
    brackets are ignored, so ``*出生日期（2015-03-07）`` is ``出生日期``."""
    key = "".join(normalise_text(text).split()).strip("*")
    return re.sub(r"[(（][^)）]*[)）]$", "", key)


def _find_header(rows: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]] | None:
    """Index of the first of ``rows`` holding every required header, with each template column's position."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [_header_key(v) for v in row]
        if all(h in keys for h in REQUIRED_HEADERS):
            return i, {h: keys.index(h) for h in HEADERS if h in keys}
    return None


def _header_problem(rows: Sequence[Sequence[object]], where: str = "") -> ImportFileError:
    best: list[str] = []
    best_line = 1
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [_header_key(v) for v in row]
        found = [h for h in HEADERS if h in keys]
        if len(found) > len(best):
            best, best_line = found, i + 1
    if not best:
        return ImportFileError(
            f"{where}未找到表头：第1行应为列名，至少包括" + "、".join(REQUIRED_HEADERS) + "（请使用导入模板）"
        )
    missing = [h for h in REQUIRED_HEADERS if h not in best]
    return ImportFileError(f"{where}缺少必需的列：" + "、".join(missing), column="、".join(missing), line=best_line)


def _duplicate_headers(row: Sequence[object], line: int) -> list[RowError]:
    keys = [_header_key(v) for v in row]
    return [RowError(line, h, h, "列名重复，请只保留一列") for h in HEADERS if keys.count(h) > 1]


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("文件编码无法识别（请使用UTF-8或GB18030编码的CSV，或.xlsx文件）")


def _sheet_from_records(records: list[list[str]], header_index: int, index: dict[str, int]) -> Sheet:
    lines: list[int] = []
    kept: list[list[str]] = []
    width = max(index.values()) + 1
    for number, values in enumerate(records[header_index + 1 :], start=header_index + 2):
        if any(values) and any(v.strip() for v in values):  # blank rows are skipped but keep their numbers
            lines.append(number)
            kept.append(values if len(values) >= width else values + [""] * (width - len(values)))
    transposed = list(zip(*kept, strict=False)) if kept else [() for _ in range(width)]
    columns = {name: normalise_column(transposed[i]) for name, i in index.items()}
    return Sheet(columns=columns, lines=lines, header_line=header_index + 1)


def _read_csv(data: bytes) -> tuple[Sheet, list[RowError]]:
    if b"\x00" in data[:65536]:
        raise ImportFileError("文件内容不是文本表格（可能是二进制文件，或扩展名与内容不符）")
    text = _decode(data)
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            records.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"CSV格式错误（第{reader.line_num}行附近）：无法解析", line=reader.line_num) from exc
    if not records or not any(any(v.strip() for v in r) for r in records):
        raise ImportFileError("文件为空")
    found = _find_header(records)
    if found is None:
        raise _header_problem(records)
    header_index, index = found
    return _sheet_from_records(records, header_index, index), _duplicate_headers(
        records[header_index], header_index + 1
    )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 500230101201 typed as a number, not 500230101201.0
    return str(value)


def _read_xlsx(path: Path) -> tuple[Sheet, list[RowError]]:
    """The first sheet whose first rows hold the header is read (others, e.g. an instructions sheet, are
    skipped). openpyxl finds sheet and header row cheaply in streaming mode; fastexcel (Rust) reads the data."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt or foreign file
        raise ImportFileError("无法读取Excel文件（文件损坏或不是.xlsx格式）") from exc
    try:
        chosen: tuple[int, int, int, dict[str, int]] | None = None
        heads: list[list[list[object]]] = []
        for sheet_index, sheet in enumerate(book.worksheets):
            head = [list(r) for r in sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)]
            heads.append(head)
            found = _find_header(head)
            if found is not None:
                first_used = next((i for i, r in enumerate(head) if any(v not in (None, "") for v in r)), 0)
                chosen = (sheet_index, found[0], first_used, found[1])
                break
        if chosen is None:
            names = "、".join(s.title for s in book.worksheets)
            best = max(heads, key=lambda h: len({_header_key(v) for r in h for v in r} & set(HEADERS)), default=[])
            raise _header_problem(best, where=f"在工作表（{names}）中")
        sheet_index, header_index, first_used, index = chosen
        header_errors = _duplicate_headers(heads[sheet_index][header_index], header_index + 1)
        records = _xlsx_records_fast(path, sheet_index, first_used, heads[sheet_index][header_index])
        if records is None:
            sheet = book.worksheets[sheet_index]
            records = [[_cell_text(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return _sheet_from_records(records, header_index, index), header_errors


def _xlsx_records_fast(path: Path, sheet_index: int, first_used: int, header: list[object]) -> list[list[str]] | None:
    """All rows of a sheet as text through fastexcel, aligned to spreadsheet rows; None when unavailable or
    when its view of the sheet does not line up with openpyxl's (then openpyxl reads it, slower)."""
    try:
        import fastexcel
    except ImportError:
        return None
    try:
        frame = fastexcel.read_excel(str(path)).load_sheet(sheet_index, header_row=None, dtypes="string").to_polars()
    except Exception:
        return None
    columns = [[("" if v is None else v) for v in frame.get_column(c).to_list()] for c in frame.columns]
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else []
    # fastexcel drops the empty rows above the first used one; put them back so row numbers stay true.
    records: list[list[str]] = [[] for _ in range(first_used)] + rows
    found = _find_header(records)
    expected = [k for k in (_header_key(_cell_text(v)) for v in header) if k]
    if found is None or [k for k in (_header_key(v) for v in records[found[0]]) if k] != expected:
        return None
    return records


def read_roster(path: Path) -> tuple[Sheet, list[RowError]]:
    """Read a roster file; raises ``ImportFileError`` when the file as a whole is unusable."""
    path = Path(path)
    if not path.exists():
        raise ImportFileError(f"文件不存在：{path.name}")
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError("文件为空")
    if size > MAX_FILE_BYTES:
        raise ImportFileError(f"文件过大（上限{MAX_FILE_BYTES // 1024 // 1024}MB），请拆分后分批导入")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ImportFileError("不支持旧版Excel（.xls）文件，请在Excel中另存为.xlsx或CSV")
    if suffix not in (".csv", ".xlsx"):
        raise ImportFileError(f"不支持的文件类型：{suffix or '无扩展名'}（请使用.csv或.xlsx）")
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("这是旧版Excel（.xls）文件，请在Excel中另存为.xlsx或CSV")
    if magic.startswith(b"PK\x03\x04"):
        return _read_xlsx(path)  # an .xlsx, whatever its extension says
    if suffix == ".xlsx":
        raise ImportFileError("无法读取Excel文件（文件损坏或不是.xlsx格式）")
    return _read_csv(path.read_bytes())


# --- cell parsers (memoised: most columns repeat few distinct values) ---------------------------------------
class _Bad(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _date_text(text: str) -> dt.date:
    # A spreadsheet date-time cell read as text ("2015-03-07 10:00:00"): the date part is the date.
    m = re.match(r"^(\d{4}-\d{1,2}-\d{1,2})[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", text)
    try:
        return parse_date(m[1] if m else text)
    except ParseError as exc:
        raise _Bad(exc.message) from None


def _sex(text: str) -> str:
    value = SEX_VALUES.get(text) or SEX_VALUES.get(text.upper())
    if value is None:
        raise _Bad("性别应为男或女")
    return str(value)


def _hukou(text: str) -> str:
    value = HUKOU_VALUES.get(text.removesuffix("户口").removesuffix("户籍"))
    if value is None:
        raise _Bad("户籍性质应为农业、非农业或居民")
    return value


def _ethnicity(text: str) -> str:
    if not text:
        return DEFAULT_ETHNICITY
    for candidate in (text, text + "族"):
        if candidate in ETHNIC_GROUPS or candidate in OTHER_ETHNICITIES:
            return candidate
    raise _Bad("民族应为56个民族之一（如汉族、土家族、苗族），或填写“其他”")


def _village(text: str) -> str:
    code = text.replace(" ", "")
    if code.endswith(".0"):
        code = code[:-2]
    if not (code.isdigit() and len(code) == 12):
        raise _Bad("村社区代码应为12位数字（统计用区划代码，如500230101201）")
    return code


def _disability_type(text: str) -> str:
    if not text or text in NONE_WORDS:
        return ""
    value = text.removesuffix("残疾")
    if value not in DISABILITY_TYPES:
        raise _Bad("残疾类别应为" + "、".join(DISABILITY_TYPES))
    return value


def _disability_grade(text: str) -> int | None:
    if not text or text in NONE_WORDS:
        return None
    key = text.removesuffix("级").removesuffix("等").removeprefix("第")
    if key.endswith(".0"):
        key = key[:-2]
    if key not in GRADE_VALUES:
        raise _Bad("残疾等级应为1至4级")
    return GRADE_VALUES[key]


def _schooling(text: str) -> str:
    if text and text not in SCHOOLING:
        raise _Bad("就学情况应为" + "、".join(SCHOOLING))
    return text


def _health(text: str) -> str:
    if len(text) > 40:
        raise _Bad("内容过长（最多40字）")
    return text or DEFAULT_HEALTH


def _relation_text(text: str) -> str:
    if len(text) > 20:
        raise _Bad("内容过长（最多20字）")
    return relation_of(text) if text else ""


def _phone_or_empty(text: str) -> str:
    return _phone(text) if text else ""


def _status_kind_or_empty(text: str) -> str:
    return _status_kind(text) if text else ""


def _status_kind(text: str) -> str:
    value = STATUS_VALUES.get(text.replace(" ", ""))
    if value is None:
        raise _Bad("状况应为" + "、".join(label for _, label in PersonStatus.Kind.choices) + "之一")
    return value


def _yes_no(text: str) -> bool | None:
    try:
        return parse_bool(text)
    except ParseError as exc:
        raise _Bad(exc.message) from None


def _text(limit: int) -> Callable[[str], str]:
    def check(text: str) -> str:
        if len(text) > limit:
            raise _Bad(f"内容过长（最多{limit}字）")
        return text

    return check


def _person_name(text: str, limit: int = 50) -> str:
    name = text.replace(" ", "")
    if len(name) > limit:
        raise _Bad("姓名过长")
    if any(ch.isdigit() for ch in name):
        raise _Bad("姓名不能包含数字")
    return name


def _phone(text: str) -> str:
    if "*" in text:
        raise _Bad("电话号码含*，是打码后的号码（打码导出的名册不能直接导入）")
    digits = idnumber.clean(text)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not (digits.isdigit() and 7 <= len(digits) <= 12):
        raise _Bad("电话号码格式不正确")
    return digits


def parse_id_number(raw: str) -> tuple[str, dt.date, str]:
    """(number, birth date, sex) of an ID number — the rules and messages of ``lib.idnumber.parse`` (checksum,
    birth date, 15→18 digits) without its place-code lookup, which costs ~80 µs a number and only ever yields a
    warning. Raises ``idnumber.IdNumberError``."""
    if "*" in raw:
        raise idnumber.IdNumberError("id_masked", "身份证号是打码后的号码（打码导出的名册不能直接导入）")
    value = raw if (len(raw) == 18 and raw[:17].isdigit()) else idnumber.clean(raw)
    value = value.upper()
    if not value:
        raise idnumber.IdNumberError("id_empty", "身份证号为空")
    if len(value) == 15 and value.isdigit():
        value = idnumber.upgrade_15(value)
    if len(value) != 18:
        raise idnumber.IdNumberError("id_length", f"身份证号应为18位，实际为{len(value)}位")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise idnumber.IdNumberError("id_chars", "身份证号只能包含数字，最后一位可以是X")
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise idnumber.IdNumberError("id_birth_date", "身份证号中的出生日期无效") from None
    check = (1 - 2 * int(value[:17], 13)) % 11  # ISO 7064 MOD 11-2, as stdnum computes it
    if ("X" if check == 10 else str(check)) != value[17]:
        raise idnumber.IdNumberError("id_checksum", "身份证号校验位错误")
    return value, birth, ("M" if int(value[16]) % 2 == 1 else "F")


# --- parsed rows ------------------------------------------------------------------------------------------
Status = tuple[str, dt.date | None, str, bool | None]  # kind, since, work place, cross-county


@dataclass(eq=False)
class _Person:
    """The desired state of one parent, guardian or carer; rows naming the same ID number share one."""

    line: int
    label: str  # 父亲 / 母亲 / 监护人 / 委托照料人 — for messages
    name: str
    id_number: str = ""
    bidx: str = ""
    phone: str = ""
    status: Status | None = None
    pks: list[int] = field(default_factory=list)  # existing people to bring to this state
    new: _NewRef | None = None  # the person to create, once decided
    household: _NewRef | int | None = None  # the household a created person joins


@dataclass(eq=False)
class _Member:
    slot: str  # father / mother / guardian / carer
    relation: str
    person: _Person
    is_guardian: bool = False
    is_carer: bool = False


@dataclass(eq=False)
class _Row:
    line: int
    values: dict[str, Any]
    id_number: str
    bidx: str
    members: list[_Member]
    guardian_given: bool
    carer_given: bool
    existing: int | None = None


class _NewRef:
    """A row to insert whose primary key is allocated at write time."""

    __slots__ = ("pk",)

    def __init__(self) -> None:
        self.pk = 0


def _status_text(status: Status) -> str:
    kind, since, place, _cross = status
    text = str(PersonStatus.Kind(kind).label)
    if since:
        text += f"（自{since.isoformat()}）"
    if place:
        text += f"，{place}"
    return text


class _Invalid:
    """Marker for a cell that failed its check (its error is already recorded)."""

    def __repr__(self) -> str:
        return "<invalid>"


_INVALID: Any = _Invalid()


class _Validator:
    """Checks every cell and builds the parsed rows; errors are collected, never raised.

    Column-wise: each column is parsed in one pass with a memo of its distinct values (a roster repeats a
    few hundred dates, codes and labels across 100,000 rows), then rows are assembled and checked across
    their own columns (ID number against birth date and sex, a parent's columns together)."""

    def __init__(self, sheet: Sheet, *, today: dt.date) -> None:
        self.sheet = sheet
        self.today = today
        self.lines = sheet.lines
        self.errors: list[RowError] = []

    def column(self, header: str, parser: Callable[[str], Any], *, required: str = "") -> list[Any] | None:
        """Parsed values of a column (``_INVALID`` where a cell failed), or None if the column is absent.
        An empty cell is parsed like any other unless ``required`` names the field, which makes it an error.
        Each distinct text is parsed once: a roster repeats the same dates, codes and labels many times."""
        texts = self.sheet.columns.get(header)
        if texts is None:
            return None
        parsed: dict[str, Any] = {}
        failed: dict[str, str] = {}
        for text in set(texts):
            if not text and required:
                failed[text] = f"{required}不能为空"
                continue
            try:
                parsed[text] = parser(text)
            except _Bad as exc:
                failed[text] = exc.reason
        if not failed:
            return [parsed[t] for t in texts]
        lines = self.lines
        for i, text in enumerate(texts):
            if text in failed:
                self.errors.append(RowError(lines[i], header, text, failed[text]))
        return [parsed.get(t, _INVALID) for t in texts]

    def _birth(self, text: str) -> dt.date:
        birth = _date_text(text)
        if birth > self.today:
            raise _Bad("出生日期不能晚于今天")
        if birth.year < self.today.year - 30:
            raise _Bad("出生日期不合理")
        return birth

    def _since(self, text: str) -> dt.date | None:
        if not text:
            return None
        since = _date_text(text)
        if since > self.today:
            raise _Bad("状况起始日期不能晚于今天")
        return since

    def rows(self, progress: Progress | None = None) -> list[_Row]:
        n = len(self.lines)
        empty = [""] * n
        col = self.column
        values: dict[str, list[Any]] = {}
        for field_name, header, parser, required in (
            ("name", "姓名", _person_name, "姓名"),
            ("sex", "性别", _sex, "性别"),
            ("birth_date", "出生日期", self._birth, "出生日期"),
            ("hukou_type", "户籍性质", _hukou, "户籍性质"),
            ("village_id", "村社区代码", _village, "村社区代码"),
            ("ethnicity", "民族", _ethnicity, ""),
            ("hukou_address", "户籍地址", _text(200), ""),
            ("current_address", "现住址", _text(200), ""),
            ("health_status", "健康状况", _health, ""),
            ("school_name", "学校名称", _text(100), ""),
            ("schooling", "就学情况", _schooling, ""),
            ("disability_type", "残疾类别", _disability_type, ""),
            ("disability_grade", "残疾等级", _disability_grade, ""),
        ):
            parsed = col(header, parser, required=required)
            if parsed is not None:
                values[field_name] = parsed
        if ("disability_type" in values) != ("disability_grade" in values):
            # One of the two columns is absent: treat it as empty so the pair is still checked together.
            values.setdefault("disability_type", [""] * n)
            values.setdefault("disability_grade", [None] * n)
        parents = {slot: self._parent_columns(label) for slot, label in PARENT_SLOTS.items()}
        carers = {slot: self._carer_columns(*spec) for slot, spec in CARE_SLOTS.items()}
        ids = self.sheet.columns.get("身份证号", empty)
        grades = self.sheet.columns.get("残疾等级", empty)
        fields = list(values.items())
        bad_lines = {e.line for e in self.errors}
        out: list[_Row] = []
        for i, line in enumerate(self.lines):
            if progress and i and i % BATCH == 0:
                progress(i, n, f"校验第{i}行")
            row_values = {name: column[i] for name, column in fields}
            before = len(self.errors)
            number = self._child_id(line, ids[i], row_values)
            if "disability_type" in row_values:
                dis_type, dis_grade = row_values["disability_type"], row_values["disability_grade"]
                if dis_type is not _INVALID and dis_grade is not _INVALID and bool(dis_type) != (dis_grade is not None):
                    self.errors.append(RowError(line, "残疾等级", grades[i], "残疾类别和残疾等级应同时填写"))
            members: dict[str, _Member] = {}
            for slot, parent_columns in parents.items():
                member = self._parent(i, line, slot, parent_columns, number, row_values["birth_date"])
                if member is not None:
                    members[slot] = member
            given = {slot: self._carer(i, line, slot, carer_columns, members) for slot, carer_columns in carers.items()}
            if len(self.errors) > before or line in bad_lines:
                continue
            unique: list[_Member] = []
            for m in members.values():
                if m not in unique:
                    unique.append(m)
            out.append(
                _Row(
                    line=line,
                    values=row_values,
                    id_number=number,
                    bidx="",
                    members=unique,
                    guardian_given=given["guardian"],
                    carer_given=given["carer"],
                )
            )
        return out

    def _child_id(self, line: int, text: str, values: dict[str, Any]) -> str:
        if not text or text in NONE_WORDS:
            return ""
        try:
            number, birth, sex = parse_id_number(text)
        except idnumber.IdNumberError as exc:
            self.errors.append(RowError(line, "身份证号", text, exc.message))
            return ""
        if isinstance(values["birth_date"], dt.date) and birth != values["birth_date"]:
            reason = f"身份证号中的出生日期（{birth}）与填写的出生日期不一致"
            self.errors.append(RowError(line, "身份证号", text, reason))
        elif values["sex"] in (Sex.MALE, Sex.FEMALE) and sex != values["sex"]:
            self.errors.append(RowError(line, "身份证号", text, "身份证号中的性别与填写的性别不一致"))
        return number

    def _parent_columns(self, label: str) -> dict[str, Any]:
        n = len(self.lines)
        empty = [""] * n
        headers = {k: f"{label}{k}" for k in ("姓名", "身份证号", "状况", "状况起始日期", "外出地点", "是否跨县")}
        return {
            "label": label,
            "headers": headers,
            "texts": {k: self.sheet.columns.get(h, empty) for k, h in headers.items()},
            "name": self.column(headers["姓名"], _person_name) or empty,
            "kind": self.column(headers["状况"], _status_kind_or_empty) or empty,
            "since": self.column(headers["状况起始日期"], self._since) or [None] * n,
            "place": self.column(headers["外出地点"], _text(100)) or empty,
            "cross": self.column(headers["是否跨县"], _yes_no) or [None] * n,
        }

    def _parent(
        self, i: int, line: int, slot: str, c: dict[str, Any], child_number: str, child_birth: Any
    ) -> _Member | None:
        texts = c["texts"]
        if not any(t[i] for t in texts.values()):
            return None
        label, headers = c["label"], c["headers"]
        err = self.errors.append
        name = c["name"][i]
        if name == "":
            err(RowError(line, headers["姓名"], "", f"填写了{label}的其他信息，{label}姓名不能为空（不详可填“不详”）"))
        id_text = texts["身份证号"][i]
        number = ""
        if id_text and id_text not in NONE_WORDS:
            try:
                number, birth, sex = parse_id_number(id_text)
            except idnumber.IdNumberError as exc:
                err(RowError(line, headers["身份证号"], id_text, f"{label}的{exc.message}"))
            else:
                if number == child_number:
                    err(RowError(line, headers["身份证号"], id_text, f"{label}身份证号与儿童身份证号相同"))
                elif sex != ("M" if slot == "father" else "F"):
                    shown = "女" if sex == "F" else "男"
                    err(RowError(line, headers["身份证号"], id_text, f"{label}身份证号中的性别为{shown}，请核对"))
                elif isinstance(child_birth, dt.date) and birth >= child_birth:
                    reason = f"{label}的出生日期晚于儿童的出生日期，请核对"
                    err(RowError(line, headers["身份证号"], id_text, reason))
        kind = c["kind"][i]
        status: Status | None = None
        if kind and kind is not _INVALID:
            status = (kind, c["since"][i], c["place"][i], c["cross"][i])
        elif kind == "" and (texts["状况起始日期"][i] or texts["外出地点"][i] or texts["是否跨县"][i]):
            reason = f"填写了起始日期、外出地点或是否跨县，请同时填写{label}状况"
            err(RowError(line, headers["状况"], "", reason))
        shown_name = name if isinstance(name, str) else ""
        person = _Person(line=line, label=label, name=shown_name, id_number=number, status=status)
        return _Member(slot=slot, relation=slot, person=person)

    def _carer_columns(self, label: str, name_col: str, rel_col: str, phone_col: str) -> dict[str, Any]:
        empty = [""] * len(self.lines)
        return {
            "label": label,
            "headers": (name_col, rel_col, phone_col),
            "texts": [self.sheet.columns.get(h, empty) for h in (name_col, rel_col, phone_col)],
            "name": self.column(name_col, _person_name) or empty,
            "relation": self.column(rel_col, _relation_text) or empty,
            "phone": self.column(phone_col, _phone_or_empty) or empty,
        }

    def _carer(self, i: int, line: int, slot: str, c: dict[str, Any], members: dict[str, _Member]) -> bool:
        """Add the guardian or the entrusted carer to ``members`` (merged with a parent or with each other when
        they are the same person); returns whether the file gave one for this row."""
        name_text, rel_text, phone_text = (t[i] for t in c["texts"])
        if not (name_text or rel_text or phone_text):
            return False
        label = c["label"]
        name_col, rel_col, phone_col = c["headers"]
        err = self.errors.append
        name, relation, phone = c["name"][i], c["relation"][i], c["phone"][i]
        if name == "":
            err(RowError(line, name_col, "", f"请填写{label}姓名"))
        if not rel_text:
            err(RowError(line, rel_col, "", f"请填写{label}与儿童的关系（如奶奶、外公、姑姑）"))
        if not name or name is _INVALID or not rel_text or relation is _INVALID or phone is _INVALID:
            return True
        member: _Member | None = None
        if relation in PARENT_SLOTS:
            member = members.get(relation)
            parent_label = PARENT_SLOTS[relation]
            if member is not None and member.person.name != name:
                reason = f"{label}与儿童关系为{parent_label}，但姓名与{parent_label}姓名不一致"
                err(RowError(line, name_col, name_text, reason))
                return True
            if member is None:
                person = _Person(line=line, label=parent_label, name=name)
                member = members[relation] = _Member(slot=relation, relation=relation, person=person)
        else:
            for other in members.values():
                if other.relation not in PARENT_SLOTS and other.person.name == name:
                    if other.relation != relation:
                        err(RowError(line, rel_col, rel_text, f"{label}与监护人同名，但与儿童的关系不一致"))
                        return True
                    member = other
            if member is None:
                person = _Person(line=line, label=label, name=name)
                member = members[slot] = _Member(slot=slot, relation=relation, person=person)
        if phone:
            if member.person.phone and member.person.phone != phone:
                err(RowError(line, phone_col, phone_text, f"{label}与监护人是同一人，但电话不一致"))
                return True
            member.person.phone = phone
        if slot == "guardian":
            member.is_guardian = True
        else:
            member.is_carer = True
        return True


# --- checks across rows and against the registry ------------------------------------------------------------
def _chunks(items: Sequence[Any], size: int = 20000) -> Iterable[Sequence[Any]]:
    # 5,000 keys per IN (…): well under SQLite's 32,766 variables (3.32+) and PostgreSQL's 65,535.
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_across_rows(rows: list[_Row], errors: list[RowError]) -> list[_Row]:
    """Duplicates inside the file, and one person (same ID number) described differently in two rows.
    Rows naming the same parent ID share one desired person afterwards."""
    bidx = privacy.blind_index()
    seen_ids: dict[str, int] = {}
    seen_keys: dict[tuple[str, dt.date, str], int] = {}
    people: dict[str, _Person] = {}
    good: list[_Row] = []
    for row in rows:
        bad = False
        if row.id_number:
            first = seen_ids.setdefault(row.id_number, row.line)
            if first != row.line:
                errors.append(RowError(row.line, "身份证号", row.id_number, f"身份证号与第{first}行重复"))
                bad = True
            row.bidx = bidx.digest("id:" + row.id_number)
        else:
            key = (row.values["name"], row.values["birth_date"], row.values["village_id"])
            first = seen_keys.setdefault(key, row.line)
            if first != row.line:
                errors.append(
                    RowError(
                        row.line,
                        "姓名",
                        row.values["name"],
                        f"与第{first}行同名、同出生日期、同村且都没有身份证号，疑似重复",
                    )
                )
                bad = True
        for member in row.members:
            person = member.person
            if not person.id_number:
                continue
            shared = people.get(person.id_number)
            if shared is None:
                person.bidx = bidx.digest("id:" + person.id_number)
                people[person.id_number] = person
                continue
            column = f"{person.label}身份证号"
            if shared.name != person.name:
                errors.append(
                    RowError(
                        row.line,
                        column,
                        person.id_number,
                        f"同一身份证号在第{shared.line}行的姓名为{shared.name}，与本行不一致",
                    )
                )
                bad = True
            elif person.status and shared.status and person.status != shared.status:
                errors.append(
                    RowError(
                        row.line,
                        f"{person.label}状况",
                        _status_text(person.status),
                        f"同一人（身份证号相同）在第{shared.line}行的状况为{_status_text(shared.status)}，与本行不一致",
                    )
                )
                bad = True
            elif person.phone and shared.phone and person.phone != shared.phone:
                errors.append(
                    RowError(row.line, column, person.id_number, f"同一人在第{shared.line}行的电话与本行不一致")
                )
                bad = True
            else:
                shared.status = shared.status or person.status
                shared.phone = shared.phone or person.phone
                member.person = shared
        if not bad:
            good.append(row)
    return good


def _check_registry(rows: list[_Row], actor: Any, errors: list[RowError]) -> list[_Row]:
    """Village codes exist (level 5, current) and are in the actor's jurisdiction; match registered children."""
    codes = sorted({r.values["village_id"] for r in rows})
    known: dict[str, tuple[int, bool]] = {}
    for chunk in _chunks(codes):
        for code, level, active in Region.objects.filter(code__in=text_array(chunk)).values_list(
            "code", "level", "is_active"
        ):
            known[code] = (level, active)
    allowed = {code: actor is None or covers(actor, code) for code in codes}
    good: list[_Row] = []
    for row in rows:
        code = row.values["village_id"]
        region = known.get(code)
        reason = ""
        if region is None:
            reason = f"村（社区）代码{code}不存在"
        elif region[0] != 5:
            reason = f"区划代码{code}不是村（社区）级代码"
        elif not region[1]:
            reason = f"村（社区）代码{code}已撤销，请使用现行代码"
        elif not allowed[code]:
            reason = "该村（社区）不在您的管辖范围内"
        if reason:
            errors.append(RowError(row.line, "村社区代码", code, reason))
        else:
            good.append(row)

    by_bidx: dict[str, tuple[int, str, str]] = {}
    wanted = [r.bidx for r in good if r.bidx]
    for chunk in _chunks(wanted):
        for pk, bidx, child_no, village in Child.objects.filter(id_number_bidx__in=text_array(chunk)).values_list(
            "pk", "id_number_bidx", "child_no", "village_id"
        ):
            if bidx not in by_bidx or pk < by_bidx[bidx][0]:
                by_bidx[bidx] = (pk, child_no, village)
    # Children registered without an ID number are matched on name + birth date + village.
    without_id: dict[tuple[str, dt.date, str], list[int]] = defaultdict(list)
    villages = sorted({r.values["village_id"] for r in good})
    for chunk in _chunks(villages):
        for pk, name, birth, village in Child.objects.filter(
            village_id__in=text_array(chunk), id_number_bidx=""
        ).values_list("pk", "name", "birth_date", "village_id"):
            without_id[(name, birth, village)].append(pk)
    claimed: dict[int, int] = {}
    matched: list[_Row] = []
    for row in good:
        key = (row.values["name"], row.values["birth_date"], row.values["village_id"])
        hit = by_bidx.get(row.bidx) if row.bidx else None
        if hit is not None:
            pk, child_no, village = hit
            if actor is not None and not covers(actor, village):
                errors.append(
                    RowError(
                        row.line, "身份证号", row.id_number, "该身份证号已在您管辖范围以外登记，请联系上级民政部门核实"
                    )
                )
                continue
            row.existing = pk
        elif key in without_id:
            candidates = without_id[key]
            if len(candidates) > 1:
                errors.append(
                    RowError(
                        row.line,
                        "姓名",
                        row.values["name"],
                        "系统中有多名同村、同名、同出生日期且无身份证号的儿童，无法自动匹配，请在档案页处理",
                    )
                )
                continue
            row.existing = candidates[0]
        if row.existing is not None:
            first = claimed.setdefault(row.existing, row.line)
            if first != row.line:
                errors.append(
                    RowError(
                        row.line,
                        "身份证号" if row.id_number else "姓名",
                        row.id_number or row.values["name"],
                        f"与第{first}行对应系统中的同一名儿童",
                    )
                )
                continue
        matched.append(row)
    return matched


# --- planning -------------------------------------------------------------------------------------------
PERSON_FIELDS = [
    "name",
    "sex",
    "birth_date",
    "id_number_enc",
    "id_number_bidx",
    "id_number_mask",
    "phone_enc",
    "phone_mask",
]
CHILD_UPDATE_FIELDS = [
    "name",
    "name_pinyin",
    "name_initials",
    "sex",
    "birth_date",
    "ethnicity",
    "id_number_enc",
    "id_number_bidx",
    "id_number_mask",
    "village_id",
    "hukou_type",
    "hukou_address",
    "current_address",
    "health_status",
    "disability_type",
    "disability_grade",
    "schooling",
    "school_name",
    "version",
    "updated_at",
]


@dataclass
class _Plan:
    households: list[tuple[_NewRef, tuple[Any, ...]]] = field(default_factory=list)
    people: list[_Person] = field(default_factory=list)  # people to create (``new`` set)
    children: list[tuple[_NewRef, _NewRef | int, _Row]] = field(default_factory=list)
    relations: list[tuple[_NewRef | int, _NewRef | int, str, bool, bool]] = field(default_factory=list)
    statuses: list[tuple[_NewRef | int, Status]] = field(default_factory=list)
    child_updates: list[dict[str, Any]] = field(default_factory=list)
    person_updates: list[dict[str, Any]] = field(default_factory=list)
    relation_updates: list[tuple[int, str, bool, bool]] = field(default_factory=list)
    status_updates: list[tuple[int, dt.date | None, str, bool | None]] = field(default_factory=list)
    status_closes: list[tuple[int, dt.date]] = field(default_factory=list)
    status_deletes: list[int] = field(default_factory=list)
    timeline: list[tuple[_NewRef | int, str, str]] = field(default_factory=list)  # child, kind, summary
    touched_people: set[int] = field(default_factory=set)  # existing people whose status changed
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class _Planner:
    def __init__(self, rows: list[_Row], *, today: dt.date, errors: list[RowError]) -> None:
        self.rows = rows
        self.today = today
        self.errors = errors
        self.plan = _Plan()
        self.names: dict[str, tuple[str, str]] = {}
        self.people: dict[int, dict[str, Any]] = {}

    def _pinyin(self, name: str) -> tuple[str, str]:
        hit = self.names.get(name)
        if hit is None:
            hit = self.names[name] = (pinyin.full(name), pinyin.initials(name))
        return hit

    def run(self) -> _Plan:
        existing_ids = [r.existing for r in self.rows if r.existing is not None]
        children = self._load_children(existing_ids)
        relations = self._load_relations(existing_ids)
        parent_bidx = sorted({m.person.bidx for r in self.rows for m in r.members if m.person.bidx})
        by_bidx = self._people_by_bidx(parent_bidx)
        # Bind every desired person to the existing people it describes, then check no existing person is
        # described two different ways (that would make the result depend on row order).
        binds: dict[int, _Person] = {}
        row_relations: list[list[tuple[_Member, dict[str, Any] | None]]] = []
        for row in self.rows:
            pairs = []
            current = relations.get(row.existing, []) if row.existing is not None else []
            for member in row.members:
                rel = self._match_relation(member, current)
                pairs.append((member, rel))
                person = member.person
                target = rel["person_id"] if rel is not None else None
                if target is None and person.bidx and person.bidx in by_bidx:
                    target = by_bidx[person.bidx][0]
                if target is not None and target not in person.pks:
                    other = binds.get(target)
                    if other is not None and other is not person and _state(other) != _state(person):
                        self.errors.append(
                            RowError(
                                row.line,
                                f"{person.label}姓名",
                                person.name,
                                f"与第{other.line}行的{other.label}是系统中的同一人，但两行填写的信息不一致",
                            )
                        )
                    binds[target] = person
                    person.pks.append(target)
            row_relations.append(pairs)
        if self.errors:
            return self.plan
        people = self.people = self._load_people(sorted(binds))
        open_statuses = self._load_open_statuses(sorted(binds))
        person_changes = self._person_changes(binds, people, open_statuses)
        now = timezone.now()
        for row, pairs in zip(self.rows, row_relations, strict=True):
            if row.existing is None:
                self._new_child(row, pairs)
            else:
                self._update_child(
                    row, pairs, children[row.existing], relations.get(row.existing, []), person_changes, now
                )
        return self.plan

    # loading ------------------------------------------------------------------------------------------
    def _load_children(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        fields = ["pk", "version", "household_id", "id_number_enc", "id_number_bidx", "id_number_mask", *CHILD_COLUMNS]
        out: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            for values in Child.objects.filter(pk__in=id_array(chunk)).values(*fields):
                out[values["pk"]] = values
        return out

    def _load_relations(self, child_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for chunk in _chunks(child_ids):
            for rel in (
                ChildRelation.objects.filter(child_id__in=id_array(chunk))
                .order_by("id")
                .values("id", "child_id", "person_id", "relation", "is_guardian", "is_entrusted_carer", "person__name")
            ):
                out[rel["child_id"]].append(dict(rel))
        return out

    def _people_by_bidx(self, bidxs: list[str]) -> dict[str, tuple[int, int | None]]:
        out: dict[str, tuple[int, int | None]] = {}
        for chunk in _chunks(bidxs):
            for pk, bidx, household in (
                Person.objects.filter(id_number_bidx__in=text_array(chunk))
                .order_by("pk")
                .values_list("pk", "id_number_bidx", "household_id")
            ):
                out.setdefault(bidx, (pk, household))
        return out

    def _load_people(self, pks: list[int]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(pks):
            for values in Person.objects.filter(pk__in=id_array(chunk)).values("pk", "household_id", *PERSON_FIELDS):
                out[values["pk"]] = values
        return out

    def _load_open_statuses(self, pks: list[int]) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for chunk in _chunks(pks):
            for values in (
                PersonStatus.objects.filter(person_id__in=id_array(chunk), until__isnull=True)
                .order_by("since", "id")
                .values("id", "person_id", "kind", "since", "work_place", "cross_county")
            ):
                out[values["person_id"]].append(dict(values))
        return out

    # matching -----------------------------------------------------------------------------------------
    @staticmethod
    def _match_relation(member: _Member, current: list[dict[str, Any]]) -> dict[str, Any] | None:
        if member.relation in PARENT_SLOTS:
            return next((r for r in current if r["relation"] == member.relation), None)
        return next(
            (r for r in current if r["relation"] not in PARENT_SLOTS and r["person__name"] == member.person.name), None
        )

    # people -------------------------------------------------------------------------------------------
    def _person_changes(
        self,
        binds: dict[int, _Person],
        people: dict[int, dict[str, Any]],
        open_statuses: dict[int, list[dict[str, Any]]],
    ) -> dict[int, list[str]]:
        """Field and status changes of existing people; returns a Chinese description per changed person."""
        keyring = privacy.keyring()
        changes: dict[int, list[str]] = {}
        for pk, person in binds.items():
            stored = people.get(pk)
            if stored is None:
                continue
            parts: list[str] = []
            update = dict(stored)
            if person.name and person.name != stored["name"]:
                update["name"] = person.name
                parts.append(f"{person.label}姓名更正为{person.name}")
            if person.bidx and person.bidx != stored["id_number_bidx"]:
                _, birth, sex = parse_id_number(person.id_number)
                update.update(
                    id_number_enc=keyring.encrypt(person.id_number),
                    id_number_bidx=person.bidx,
                    id_number_mask=idnumber.mask(person.id_number),
                    birth_date=birth,
                    sex=sex,
                )
                parts.append(f"{person.label}身份证号已更新")
            if person.phone and person.phone != privacy.reveal(stored["phone_enc"]):
                update.update(phone_enc=keyring.encrypt(person.phone), phone_mask=idnumber.mask_phone(person.phone))
                parts.append(f"{person.label}电话已更新")
            if len(parts):
                self.plan.person_updates.append(update)
            if person.status is not None:
                described = self._status_change(pk, person, open_statuses.get(pk, []))
                if described:
                    parts.append(described)
                    self.plan.touched_people.add(pk)
            if parts:
                changes[pk] = parts
        return changes

    def _status_change(self, pk: int, person: _Person, current: list[dict[str, Any]]) -> str:
        assert person.status is not None
        kind, since, place, cross = person.status
        if any((s["kind"], s["since"], s["work_place"], s["cross_county"]) == person.status for s in current):
            return ""
        same_kind = [s for s in current if s["kind"] == kind]
        if same_kind:
            # Same situation, corrected details (a start date, a place): fix the record in place.
            self.plan.status_updates.append((same_kind[-1]["id"], since, place, cross))
            return f"{person.label}状况信息更正为{_status_text(person.status)}"
        end = since or self.today
        for s in current:
            if s["kind"] != "deceased" and (s["since"] is None or s["since"] < end):
                self.plan.status_closes.append((s["id"], end))  # history kept: the old situation ended
            else:
                self.plan.status_deletes.append(s["id"])  # it cannot have preceded the new one: a correction
        self.plan.statuses.append((pk, person.status))
        return f"{person.label}状况变更为{_status_text(person.status)}"

    def _person_ref(self, person: _Person, household: _NewRef | int | None) -> _NewRef | int:
        """The existing person a member describes, or the one to create (once, however many rows name it)."""
        if person.pks:
            return person.pks[0]
        if person.new is None:
            person.new = _NewRef()
            person.household = household
            self.plan.people.append(person)
            if person.status is not None:
                self.plan.statuses.append((person.new, person.status))
        return person.new

    # children -----------------------------------------------------------------------------------------
    def _new_child(self, row: _Row, pairs: list[tuple[_Member, dict[str, Any] | None]]) -> None:
        # Siblings share a household: the one of a parent already registered, or of a parent created for an
        # earlier row of this file; otherwise the child's family gets a new household.
        household: _NewRef | int | None = None
        for member, _ in pairs:
            if member.relation not in PARENT_SLOTS:
                continue
            person = member.person
            if person.pks and self.people.get(person.pks[0], {}).get("household_id"):
                household = self.people[person.pks[0]]["household_id"]
                break
            if person.new is not None and person.household is not None:
                household = person.household
                break
        if household is None:
            new_household = _NewRef()
            v = row.values
            self.plan.households.append((new_household, (v["hukou_type"], v["village_id"], v.get("hukou_address", ""))))
            household = new_household
        child = _NewRef()
        self.plan.children.append((child, household, row))
        for member, _ in pairs:
            ref = self._person_ref(member.person, household)
            self.plan.relations.append((child, ref, member.relation, member.is_guardian, member.is_carer))
        self.plan.timeline.append((child, "child.import", "批量导入建档"))
        self.plan.created += 1

    def _update_child(
        self,
        row: _Row,
        pairs: list[tuple[_Member, dict[str, Any] | None]],
        stored: dict[str, Any],
        current: list[dict[str, Any]],
        person_changes: dict[int, list[str]],
        now: dt.datetime,
    ) -> None:
        parts: list[str] = []
        update = {f: stored[f] for f in (*CHILD_COLUMNS, "id_number_enc", "id_number_bidx", "id_number_mask")}
        for name, value in row.values.items():
            if value != stored[name]:
                update[name] = value
                old = stored[name]
                if name == "village_id":
                    parts.append(f"村（社区）：{old} → {value}")
                else:
                    parts.append(f"{CHILD_LABELS[name]}：{_shown(old)} → {_shown(value)}")
        id_changed = bool(row.bidx) and row.bidx != stored["id_number_bidx"]
        if id_changed:
            parts.append("补录身份证号" if not stored["id_number_bidx"] else "身份证号已更正")
        if parts:
            full, initials = self._pinyin(update["name"])
            record = {
                **update,
                "pk": stored["pk"],
                "name_pinyin": full,
                "name_initials": initials,
                "version": stored["version"] + 1,
                "updated_at": now,
            }
            if id_changed:
                record.update(
                    id_number_enc=privacy.keyring().encrypt(row.id_number),
                    id_number_bidx=row.bidx,
                    id_number_mask=idnumber.mask(row.id_number),
                )
            self.plan.child_updates.append(record)
        # Family: existing relations brought to the file's flags; new relations for new members.
        matched_ids: set[int] = set()
        for member, rel in pairs:
            if rel is None:
                person = self._person_ref(member.person, stored["household_id"])
                self.plan.relations.append((stored["pk"], person, member.relation, member.is_guardian, member.is_carer))
                parts.append(f"添加家庭成员：{_role_label(member)} {member.person.name}")
                continue
            matched_ids.add(rel["id"])
            guardian = member.is_guardian or (rel["is_guardian"] and not row.guardian_given)
            carer = member.is_carer or (rel["is_entrusted_carer"] and not row.carer_given)
            if (rel["relation"], rel["is_guardian"], rel["is_entrusted_carer"]) != (member.relation, guardian, carer):
                self.plan.relation_updates.append((rel["id"], member.relation, guardian, carer))
                parts.append(f"{_role_label(member)}：{member.person.name}")
            for pk in member.person.pks:
                if pk == rel["person_id"]:
                    parts.extend(person_changes.get(pk, []))
        for rel in current:
            if rel["id"] in matched_ids:
                continue
            guardian = rel["is_guardian"] and not row.guardian_given
            carer = rel["is_entrusted_carer"] and not row.carer_given
            if (guardian, carer) != (rel["is_guardian"], rel["is_entrusted_carer"]):
                self.plan.relation_updates.append((rel["id"], rel["relation"], guardian, carer))
                parts.append(
                    f"{rel['person__name']}不再是" + ("监护人" if rel["is_guardian"] and not guardian else "委托照料人")
                )
        if parts:
            self.plan.timeline.append(
                (stored["pk"], "child.import", "批量导入更新：" + "；".join(dict.fromkeys(parts)))
            )
            self.plan.updated += 1
        else:
            self.plan.unchanged += 1


def _state(person: _Person) -> tuple[Any, ...]:
    return (person.name, person.bidx, person.phone, person.status)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "空"
    if isinstance(value, dt.date):
        return value.isoformat()
    labels = {**dict(HukouType.choices), **dict(Sex.choices)}
    return str(labels.get(value, value)) if isinstance(value, str) else str(value)


def _role_label(member: _Member) -> str:
    if member.is_guardian:
        return "监护人"
    if member.is_carer:
        return "委托照料人"
    return str(ChildRelation.Relation(member.relation).label)


# --- writing --------------------------------------------------------------------------------------------
class _Writer:
    def __init__(self, plan: _Plan, *, actor: Any, source: str) -> None:
        self.plan = plan
        self.actor = actor
        self.source = source
        self.sqlite = connection.vendor == "sqlite"
        self.now = timezone.now()
        self.keyring = privacy.keyring()
        self.inserted: set[int] = set()  # children inserted by write(), as 在册 until their groups are derived

    def d(self, value: dt.date | None) -> Any:
        return value.isoformat() if value is not None and self.sqlite else value

    def ts(self, value: dt.datetime) -> Any:
        return connection.ops.adapt_datetimefield_value(value)

    def write(self, progress: Progress | None, total: int) -> list[int]:
        """Execute the plan; returns the keys of every child created or updated."""
        plan = self.plan
        for ref, pk in zip([r for r, _ in plan.households], allocate_ids(Household, len(plan.households)), strict=True):
            ref.pk = pk
        for person, pk in zip(plan.people, allocate_ids(Person, len(plan.people)), strict=True):
            assert person.new is not None
            person.new.pk = pk
        for ref, pk in zip([r for r, _, _ in plan.children], allocate_ids(Child, len(plan.children)), strict=True):
            ref.pk = pk
        self.inserted = {ref.pk for ref, _, _ in plan.children}
        bulk_insert(
            Household,
            ["id", "household_no", "hukou_type", "village_id", "address", "is_demo"],
            [(ref.pk, "", hukou, village, address, False) for ref, (hukou, village, address) in plan.households],
        )
        if progress:
            progress(0, total, "写入家庭成员")
        self._insert_people()
        if progress:
            progress(0, total, "写入儿童档案")
        self._insert_children()
        bulk_insert(
            ChildRelation,
            ["child_id", "person_id", "relation", "is_guardian", "is_entrusted_carer"],
            [(_pk(c), _pk(p), rel, g, k) for c, p, rel, g, k in plan.relations],
        )
        self._write_statuses()
        self._update_children()
        bulk_set(
            Person,
            PERSON_FIELDS,
            [(*[self._person_value(u, f) for f in PERSON_FIELDS], u["pk"]) for u in plan.person_updates],
        )
        bulk_set(
            ChildRelation,
            ["relation", "is_guardian", "is_entrusted_carer"],
            [(r, g, k, pk) for pk, r, g, k in plan.relation_updates],
        )
        bulk_insert(
            TimelineEvent,
            ["child_id", "at", "kind", "summary", "actor_username", "source_type", "source_id", "detail"],
            [self._timeline(child, kind, summary) for child, kind, summary in plan.timeline],
        )
        # Every created or updated child has its timeline line; children of a parent whose situation changed
        # are re-derived too, even if not in this file (a sibling registered earlier).
        touched = [_pk(c) for c, _, _ in plan.timeline]
        if plan.touched_people:
            for chunk in _chunks(sorted(plan.touched_people)):
                relations = ChildRelation.objects.filter(person_id__in=id_array(chunk))
                touched += relations.values_list("child_id", flat=True)
        return sorted(set(touched))

    def _person_value(self, values: dict[str, Any], name: str) -> Any:
        return self.d(values[name]) if name == "birth_date" else values[name]

    def _insert_people(self) -> None:
        rows = []
        encrypt = self.keyring.encrypt
        for person in self.plan.people:
            assert person.new is not None
            enc = mask = phone_enc = phone_mask = ""
            sex = ""
            birth = None
            if person.id_number:
                _, birth, sex = parse_id_number(person.id_number)
                enc, mask = encrypt(person.id_number), idnumber.mask(person.id_number)
            if person.phone:
                phone_enc, phone_mask = encrypt(person.phone), idnumber.mask_phone(person.phone)
            rows.append(
                (
                    person.new.pk,
                    person.name,
                    sex,
                    self.d(birth),
                    enc,
                    person.bidx,
                    mask,
                    phone_enc,
                    phone_mask,
                    _pk(person.household) if person.household is not None else None,
                    False,
                )
            )
        bulk_insert(
            Person,
            [
                "id",
                "name",
                "sex",
                "birth_date",
                "id_number_enc",
                "id_number_bidx",
                "id_number_mask",
                "phone_enc",
                "phone_mask",
                "household_id",
                "is_demo",
            ],
            rows,
        )

    def _insert_children(self) -> None:
        now = self.ts(self.now)
        encrypt = self.keyring.encrypt
        pinyin_cache: dict[str, tuple[str, str]] = {}
        rows = []
        for ref, household, row in self.plan.children:
            v = row.values
            name = v["name"]
            keys = pinyin_cache.get(name)
            if keys is None:
                keys = pinyin_cache[name] = (pinyin.full(name), pinyin.initials(name))
            number = row.id_number
            rows.append(
                (
                    ref.pk,
                    child_no_for(ref.pk),
                    name,
                    keys[0],
                    keys[1],
                    v["sex"],
                    self.d(v["birth_date"]),
                    v.get("ethnicity", DEFAULT_ETHNICITY),
                    encrypt(number) if number else "",
                    row.bidx,
                    idnumber.mask(number) if number else "",
                    v["village_id"],
                    _pk(household),
                    v["hukou_type"],
                    v.get("hukou_address", ""),
                    v.get("current_address", ""),
                    v.get("health_status", DEFAULT_HEALTH),
                    v.get("disability_type", ""),
                    v.get("disability_grade"),
                    "",
                    v.get("schooling", ""),
                    v.get("school_name", ""),
                    "",
                    False,
                    Child.Status.ACTIVE.value,  # provisional: groups_refresh(inserted_active=…) settles it
                    "",
                    None,
                    "",
                    1,
                    False,
                    now,
                    now,
                )
            )
        bulk_insert(
            Child,
            [
                "id",
                "child_no",
                "name",
                "name_pinyin",
                "name_initials",
                "sex",
                "birth_date",
                "ethnicity",
                "id_number_enc",
                "id_number_bidx",
                "id_number_mask",
                "village_id",
                "household_id",
                "hukou_type",
                "hukou_address",
                "current_address",
                "health_status",
                "disability_type",
                "disability_grade",
                "serious_illness",
                "schooling",
                "school_name",
                "grade",
                "boarding",
                "status",
                "exit_reason",
                "exit_date",
                "exit_proposal",
                "version",
                "is_demo",
                "created_at",
                "updated_at",
            ],
            rows,
        )

    def _update_children(self) -> None:
        rows = []
        for u in self.plan.child_updates:
            values = dict(u, updated_at=self.ts(u["updated_at"]), birth_date=self.d(u["birth_date"]))
            rows.append((*[values[f] for f in CHILD_UPDATE_FIELDS], u["pk"]))
        bulk_set(Child, CHILD_UPDATE_FIELDS, rows)

    def _write_statuses(self) -> None:
        plan = self.plan
        if plan.status_deletes:
            for chunk in _chunks(plan.status_deletes):
                PersonStatus.objects.filter(pk__in=chunk).delete()
        bulk_set(PersonStatus, ["until"], [(self.d(until), pk) for pk, until in plan.status_closes])
        bulk_set(
            PersonStatus,
            ["since", "work_place", "cross_county"],
            [(self.d(since), place, cross, pk) for pk, since, place, cross in plan.status_updates],
        )
        bulk_insert(
            PersonStatus,
            [
                "person_id",
                "kind",
                "since",
                "until",
                "work_place",
                "cross_county",
                "disability_type",
                "disability_grade",
            ],
            [
                (_pk(p), kind, self.d(since), None, place, cross, "", None)
                for p, (kind, since, place, cross) in plan.statuses
            ],
        )

    def _timeline(self, child: _NewRef | int, kind: str, summary: str) -> tuple[Any, ...]:
        row = timeline_row(
            child=_pk(child),
            kind=kind,
            summary=summary,
            actor=self.actor,
            source_type="import",
            source_id=self.source,
            at=self.now,
        )
        return (
            row["child_id"],
            self.ts(row["at"]),
            row["kind"],
            row["summary"],
            row["actor_username"],
            row["source_type"],
            row["source_id"],
            json.dumps(row["detail"]) if row["detail"] is not None else None,
        )


def _pk(ref: _NewRef | int) -> int:
    return ref if isinstance(ref, int) else ref.pk


# --- the entry point ------------------------------------------------------------------------------------
def error_report_path(path: Path) -> Path:
    """Where the errors of ``path`` are written: next to it, ``<input>.errors.csv``."""
    return Path(str(path) + ".errors.csv")


def _guard(text: str) -> str:
    """OWASP CSV injection: a cell starting with = + - @ tab or CR is prefixed with ' so no spreadsheet runs it."""
    return "'" + text if text and text[0] in "=+-@\t\r" else text


def write_error_report(path: Path, errors: list[RowError]) -> Path:
    out = error_report_path(path)
    with out.open("w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel opens it as UTF-8
        writer = csv.writer(fh)
        writer.writerow(["行号", "列", "值", "原因"])
        for e in errors:
            writer.writerow([e.line, _guard(e.column), _guard(e.value), _guard(e.reason)])
    return out


@transaction.atomic
def _write(
    plan: _Plan, *, actor: Any, today: dt.date, file_name: str, digest: str, progress: Progress | None, total: int
) -> None:
    writer = _Writer(plan, actor=actor, source=digest[:16])
    sqlite_cache = None
    if connection.vendor == "sqlite":
        # A larger page cache for this connection while inserting into several indexed tables at once.
        with connection.cursor() as cur:
            cur.execute("PRAGMA cache_size")
            sqlite_cache = cur.fetchone()[0]
            cur.execute("PRAGMA cache_size = -131072")
    try:
        touched = writer.write(progress, total)
        if progress:
            progress(total, total, "认定儿童类别")
        groups_refresh(child_ids=touched, today=today, actor=actor, inserted_active=writer.inserted)
        audit_record(
            actor=actor,
            action="children.import",
            object_type="import",
            object_id=digest[:16],
            summary=f"导入儿童名册 {file_name}：新增{plan.created}名，更新{plan.updated}名，未变化{plan.unchanged}名",
            after={
                "file": file_name,
                "sha256": digest,
                "rows": plan.created + plan.updated + plan.unchanged,
                "created": plan.created,
                "updated": plan.updated,
                "unchanged": plan.unchanged,
            },
        )
    finally:
        if sqlite_cache is not None:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA cache_size = {int(sqlite_cache)}")


def children_import(
    *,
    path: Path,
    actor: Any = None,
    today: dt.date,
    dry_run: bool = False,
    file_name: str | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the roster at ``path``. ``actor`` None is the operator's command (any village); a user may only
    import villages in their jurisdiction. All rows valid → everything written in one transaction; any row
    invalid → nothing written and ``<path>.errors.csv`` written. Never raises for bad input."""
    path = Path(path)
    result = ImportResult(file_name=file_name or path.name, dry_run=dry_run)
    report = error_report_path(path)
    # Hundreds of thousands of small objects live until the end: the cyclic collector would walk them all
    # again and again (a third of the run time) while finding nothing to free.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _run(path, result, actor=actor, today=today, dry_run=dry_run, progress=progress)
    finally:
        if collecting:
            gc.enable()
    if result.errors:
        result.errors.sort(key=lambda e: (e.line, _column_order(e.column)))
        result.error_report = write_error_report(path, result.errors)
    elif report.exists():
        report.unlink()  # a stale report from an earlier attempt would mislead
    return result


def _run(
    path: Path, result: ImportResult, *, actor: Any, today: dt.date, dry_run: bool, progress: Progress | None
) -> None:
    try:
        sheet, header_errors = read_roster(path)
    except ImportFileError as exc:
        result.errors = [exc.error]
    else:
        result.total = len(sheet.lines)
        result.errors = list(header_errors)
        if not sheet.lines and not result.errors:
            result.errors.append(RowError(sheet.header_line, "", "", "文件只有表头，没有数据行"))
        if not result.errors:
            plan = _validate_and_plan(sheet, actor=actor, today=today, errors=result.errors, progress=progress)
            if not result.errors and plan is not None:
                result.created, result.updated, result.unchanged = plan.created, plan.updated, plan.unchanged
                if not dry_run and (plan.created or plan.updated):
                    digest = hashlib.sha256(path.read_bytes()).hexdigest()
                    _write(
                        plan,
                        actor=actor,
                        today=today,
                        file_name=result.file_name,
                        digest=digest,
                        progress=progress,
                        total=result.total,
                    )


def _column_order(column: str) -> int:
    return HEADERS.index(column) if column in HEADERS else -1


def _validate_and_plan(
    sheet: Sheet, *, actor: Any, today: dt.date, errors: list[RowError], progress: Progress | None
) -> _Plan | None:
    validator = _Validator(sheet, today=today)
    rows = validator.rows(progress)
    errors.extend(validator.errors)
    rows = _check_across_rows(rows, errors)
    if progress:
        progress(len(sheet.lines), len(sheet.lines), "核对区划和已登记儿童")
    rows = _check_registry(rows, actor, errors)
    if errors:
        return None
    plan = _Planner(rows, today=today, errors=errors).run()
    return None if errors else plan


# --- the background job of web uploads ------------------------------------------------------------------
def import_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


@job_kind("children.import")
def children_import_job(ctx: JobContext) -> dict[str, Any]:
    """A web upload: ``params`` = {"path": file name under MEDIA_ROOT/imports, "file_name": as uploaded}."""
    from django.urls import reverse

    params = ctx.params
    path = import_dir() / Path(str(params["path"])).name
    actor = ctx.job.created_by
    if actor is None or not actor.can("child.edit"):
        raise DomainError("permission_denied", "您的角色无权导入儿童信息")

    def report(done: int, total: int, message: str) -> None:
        ctx.progress(done, total, message)

    result = children_import(
        path=path,
        actor=actor,
        today=timezone.localdate(),
        file_name=str(params.get("file_name") or path.name),
        progress=report,
    )
    ctx.progress(result.total, result.total, "完成" if result.ok else "校验未通过", force=True)
    if not result.ok:
        detail = {
            "文件": result.file_name,
            "总行数": result.total,
            "错误数": len(result.errors),
            "links": [{"url": reverse("registry_io:import-errors", args=[ctx.job.pk]), "label": "下载错误报告"}],
        }
        first = result.errors[0]
        where = f"第{first.line}行" + (f"“{first.column}”" if first.column else "")
        raise DomainError(
            "invalid_rows",
            f"发现{len(result.errors)}处错误（涉及{result.error_rows}行），未导入任何数据。"
            f"例如{where}：{first.reason}。请下载错误报告，修改后重新上传。",
            detail=detail,
        )
    return {
        "文件": result.file_name,
        "总行数": result.total,
        "新增": result.created,
        "更新": result.updated,
        "未变化": result.unchanged,
        "links": [{"url": reverse("web:children"), "label": "查看儿童名册"}],
    }

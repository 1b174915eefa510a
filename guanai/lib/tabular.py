"""Reading tabular files (.csv in UTF-8 with or without BOM or GB18030; .xlsx) into header + rows.

Row numbers are the ones a user sees in a spreadsheet: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from guanai.lib.text import normalise_text

MAX_BYTES = 200 * 1024 * 1024


class TabularError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (row number, {column: normalised text})


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TabularError("文件编码无法识别（请使用UTF-8或GB18030编码的CSV）")


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    if "\x00" in text:
        raise TabularError("文件内容不是文本表格")
    yield from csv.reader(io.StringIO(text))


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt file
        raise TabularError("无法读取Excel文件（文件损坏或不是.xlsx格式）") from exc
    sheet = book.worksheets[0]
    for values in sheet.iter_rows(values_only=True):
        yield ["" if v is None else str(v) for v in values]


def read_table(path: Path, *, required: list[str]) -> Table:
    """Read ``path`` and check that every ``required`` column is in the header (order free, extras ignored)."""
    path = Path(path)
    if not path.exists():
        raise TabularError(f"文件不存在：{path.name}")
    if path.stat().st_size > MAX_BYTES:
        raise TabularError("文件过大（上限200MB）")
    if path.stat().st_size == 0:
        raise TabularError("文件为空")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path.read_bytes())
    elif suffix == ".xlsx":
        rows = _xlsx_rows(path)
    else:
        raise TabularError(f"不支持的文件类型：{suffix or '无扩展名'}（请使用.csv或.xlsx）")
    try:
        raw_header = next(rows)
    except StopIteration:
        raise TabularError("文件为空") from None
    except csv.Error as exc:
        raise TabularError("CSV格式错误，无法解析表头") from exc
    header = [normalise_text(h) for h in raw_header]
    missing = [c for c in required if c not in header]
    if missing:
        raise TabularError("缺少必需的列：" + "、".join(missing))
    index = {name: header.index(name) for name in required}
    table = Table(header=header, rows=[])
    try:
        for number, values in enumerate(rows, start=2):
            if not any(v.strip() for v in values):
                continue
            table.rows.append(
                (
                    number,
                    {name: normalise_text(values[i]) if i < len(values) else "" for name, i in index.items()},
                )
            )
    except csv.Error as exc:
        raise TabularError(f"CSV格式错误（第{number}行附近）") from exc
    return table

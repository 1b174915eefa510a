"""Citizen ID numbers (GB 11643-1999), validated with python-stdnum's ``stdnum.cn.ric``.

A wrong checksum or an impossible birth date is an error. A place code that did not exist at birth is only a
warning: stdnum knows the historical codes, and people keep their number when districts merge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import ric

from guanai.lib.text import normalise_text


class IdNumberError(ValueError):
    """A malformed ID number, with a Chinese message for users and a stable code for operators."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IdNumber:
    value: str  # 18 characters, upper-case X
    birth_date: dt.date
    sex: str  # "M" or "F"
    place_code: str  # 6 digits
    warnings: tuple[str, ...] = field(default=())


def clean(raw: str) -> str:
    """Full-width digits and letters to ASCII, spaces and separators removed, x upper-cased."""
    text = normalise_text(raw)
    return "".join(ch for ch in text if ch.isalnum()).upper()


def parse(raw: str) -> IdNumber:
    """Validate an 18-digit (or legacy 15-digit) number and return it with what it encodes."""
    value = clean(raw)
    if not value:
        raise IdNumberError("id_empty", "身份证号为空")
    if len(value) == 15 and value.isdigit():
        value = upgrade_15(value)
    if len(value) != 18:
        raise IdNumberError("id_length", f"身份证号应为18位，实际为{len(value)}位")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdNumberError("id_chars", "身份证号只能包含数字，最后一位可以是X")
    try:
        birth = ric.get_birth_date(value)
    except stdnum_exceptions.ValidationError as exc:
        raise IdNumberError("id_birth_date", "身份证号中的出生日期无效") from exc
    if ric.calc_check_digit(value) != value[17]:
        raise IdNumberError("id_checksum", "身份证号校验位错误")
    warnings: list[str] = []
    try:
        ric.validate(value)
    except (stdnum_exceptions.InvalidComponent, KeyError, LookupError):
        # stdnum's place table can raise KeyError for partial entries; a place code is only ever a warning.
        warnings.append(f"身份证号的地区码{value[:6]}在出生时不存在或已撤销")
    except stdnum_exceptions.ValidationError as exc:
        raise IdNumberError("id_invalid", "身份证号无效") from exc
    sex = "M" if int(value[16]) % 2 == 1 else "F"
    return IdNumber(value=value, birth_date=birth, sex=sex, place_code=value[:6], warnings=tuple(warnings))


def upgrade_15(value: str) -> str:
    """A legacy 15-digit number (born 19xx, no check digit) as its 18-digit equivalent."""
    body = value[:6] + "19" + value[6:]
    return body + ric.calc_check_digit(body + "0")


def check_digit(first17: str) -> str:
    return str(ric.calc_check_digit(first17 + "0"))


def mask(value: str) -> str:
    """``500101********123X``: region kept for the officer's orientation, birth date and serial hidden."""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    digits = clean(value)
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "****" + digits[-4:]

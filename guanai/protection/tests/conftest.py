"""The protection cast, beside the shared one (alice director, bob supervisor, charlie 丰都县 district officer,
diana city officer): police and education of 丰都县, police of 万州区, city police, and reporters — a school in
万州区 (so routing by the child's location, not the reporter's, is visible), a hospital in 丰都县."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import CITY, DISTRICT, OTHER_DISTRICT, OTHER_DISTRICT_TOWNSHIP, VILLAGE, make_user
from guanai.accounts.models import User
from guanai.protection.models import Instrument, InstrumentVersion
from guanai.protection.seed import seed_default_instrument
from guanai.protection.services import ReportData, report_file

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def pcast(cast: dict[str, User]) -> dict[str, User]:
    people = dict(cast)
    people.update(
        police=make_user("partner_police", DISTRICT, "police"),
        education=make_user("partner_education", DISTRICT, "education"),
        police_wanzhou=make_user("partner_police", OTHER_DISTRICT, "police_wanzhou"),
        police_city=make_user("partner_police", CITY, "police_city"),
        school=make_user("reporter_school", OTHER_DISTRICT_TOWNSHIP, "school"),
        hospital=make_user("reporter_hospital", DISTRICT, "hospital"),
        district2=make_user("district_officer", DISTRICT, "charlie2"),
    )
    people["school"].organisation = "万州区第一中学"
    people["school"].save()
    return people


@pytest.fixture
def instrument(db: None) -> InstrumentVersion:
    # A transactional test's flush empties what the data migration seeded; put it back.
    seed_default_instrument(Instrument, InstrumentVersion)
    return InstrumentVersion.objects.get(instrument__code="guardianship", version=1)


def file_report(actor: User, *, now: dt.datetime = NOW, **changes: object):
    values: dict[str, object] = {
        "situations": ["violence_injury"],
        "description": "孩子身上多处淤青，自述被家长殴打",
        "reporter_phone": "13800001111",
        "region_code": VILLAGE,
        "child_name": "小强",
        "child_location": "测试一村三组",
    }
    values.update(changes)
    return report_file(actor=actor, data=ReportData(**values), now=now)

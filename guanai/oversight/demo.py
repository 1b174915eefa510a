"""Demo workforce and oversight data: a ledger for most villages of the demo districts (some left without a
director so the staffing rules have something to say), this year's trainings, social organisations, milestone
progress, then six months of KPI snapshots so the dashboards have trends. Deterministic by seed."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from guanai import privacy
from guanai.accounts.models import User
from guanai.accounts.scope import in_prefix
from guanai.lib.dates import add_months, month_end
from guanai.oversight.models import MilestoneProgress
from guanai.oversight.services import kpi_refresh, milestone_rules
from guanai.regions.models import Region
from guanai.workforce.models import (
    Appointment,
    Employment,
    OrgProject,
    SocialOrganisation,
    StaffProfile,
    TrainingAttendance,
    TrainingEvent,
)

SURNAMES = "王李张刘陈杨黄赵周吴徐孙马胡朱郭何罗高林谭冉向秦"
GIVEN = ["秀英", "建华", "春梅", "国强", "晓燕", "德明", "玉兰", "志刚", "红梅", "大勇", "丽娟", "文静"]
ORG_NAMES = ["阳光儿童社会工作服务中心", "童心港湾社会工作服务社", "暖阳公益服务中心", "护苗儿童关爱协会"]


@transaction.atomic
def demo_oversight_seed(*, today: dt.date, districts: list[str], seed: int = 2024, months: int = 6) -> int:
    """Returns the number of KPI snapshot rows written."""
    if StaffProfile.objects.filter(is_demo=True).exists():
        return 0
    rng = random.Random(seed)
    officer = User.objects.filter(is_demo=True, role="district_officer").first()
    city = User.objects.filter(is_demo=True, role="city_officer").first()
    if officer is None or city is None:
        return 0
    start_of_year = dt.date(today.year, 1, 1)
    profiles: dict[str, list[StaffProfile]] = {}
    for district in districts:
        code = district.ljust(12, "0")
        profiles[code] = []
        accounts = {
            u.region_id: u for u in User.objects.filter(in_prefix("region_id", district), is_demo=True, role="director")
        }
        villages = Region.objects.filter(code__startswith=district, level=Region.Level.VILLAGE).order_by("code")
        for village in villages:
            account = accounts.get(village.code)
            if account is None and rng.random() < 0.12:
                continue  # a village still waiting for its director
            name = (
                account.display_name if account and account.display_name else rng.choice(SURNAMES) + rng.choice(GIVEN)
            )
            phone = privacy.protect_phone(f"1{rng.randint(30, 99)}{rng.randint(10_000_000, 99_999_999)}")
            profile = StaffProfile.objects.create(
                kind=StaffProfile.Kind.DIRECTOR,
                user=account,
                name=name,
                sex=rng.choice("FFM"),
                birth_year=rng.randint(1970, 1995),
                phone_enc=phone.enc,
                phone_mask=phone.mask,
                education=rng.choice(["高中", "大专", "本科"]),
                position=rng.choice(["村（居）委委员", "社会工作者", "村（居）委委员"]),
                employment=Employment.FULL_TIME if rng.random() < 0.2 else Employment.PART_TIME,
                monthly_allowance=rng.choice([300, 400, 500]),
                badge_no=f"ETZR-{village.code[:6]}-{village.code[9:]}",
                duties=["摸底排查", "定期走访", "建档更新", "发现报告"],
                services=["亲情关爱", "政策宣传", "安全教育"],
                home_region_id=code,
                is_demo=True,
            )
            Appointment.objects.create(profile=profile, region=village, start=dt.date(2024, 3, 1))
            profiles[code].append(profile)
        for township in Region.objects.filter(
            code__startswith=district, level=Region.Level.TOWNSHIP, children__level=Region.Level.VILLAGE
        ).distinct():
            supervisor = StaffProfile.objects.create(
                kind=StaffProfile.Kind.SUPERVISOR,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                employment=Employment.FULL_TIME,
                home_region_id=code,
                is_demo=True,
            )
            Appointment.objects.create(profile=supervisor, region=township, start=dt.date(2024, 3, 1))
        # This year's district training reached most directors, with single-parent-child care on the programme.
        event = TrainingEvent.objects.create(
            title="儿童主任能力提升培训",
            level=TrainingEvent.Level.DISTRICT,
            region_id=code,
            held_on=min(today, start_of_year + dt.timedelta(days=120)),
            topics=["policy", "visits", "single_parent", "mandatory_report"],
            hours=8,
            is_demo=True,
        )
        TrainingAttendance.objects.bulk_create(
            [TrainingAttendance(event=event, profile=p) for p in profiles[code] if rng.random() < 0.8]
        )
        for i in range(rng.choice([0, 1, 2])):
            org = SocialOrganisation.objects.create(
                name=f"{Region.objects.get(code=code).name}{ORG_NAMES[(i + len(profiles)) % len(ORG_NAMES)]}",
                district_id=code,
                cultivated_year=today.year,
                mode=rng.choice(SocialOrganisation.Mode.values),
                services=["心理辅导", "课业辅导", "亲情陪伴"],
                in_alliance=rng.random() < 0.5,
                is_demo=True,
            )
            OrgProject.objects.create(
                organisation=org,
                name="童心相伴关爱项目",
                region_id=code,
                start=start_of_year,
                children_reached=rng.randint(80, 400),
                families_reached=rng.randint(40, 200),
                volunteers=rng.randint(5, 40),
            )
        for m in milestone_rules()[:4]:
            done = m["due"] - dt.timedelta(days=rng.randint(-20, 40))
            if done <= today:
                MilestoneProgress.objects.create(
                    milestone=m["id"], district_id=code, done_on=done, note="已完成", updated_by=officer
                )
    TrainingEvent.objects.create(
        title="全市儿童主任示范培训",
        level=TrainingEvent.Level.CITY,
        region_id="500000000000",
        held_on=min(today, start_of_year + dt.timedelta(days=90)),
        topics=["policy", "single_parent"],
        hours=16,
        is_demo=True,
    )
    rows = 0
    for back in range(months - 1, -1, -1):
        day = min(month_end(add_months(today, -back)), today)
        rows += int(kpi_refresh(day=day, today=today)["rows"])
    return rows

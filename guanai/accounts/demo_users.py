"""Demo accounts, one per role, placed in the seeded demo districts."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from guanai.accounts.models import User
from guanai.accounts.services import user_create
from guanai.lib import regioncode
from guanai.regions.models import Region


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    display_name: str
    organisation: str
    level: str  # village | township | district | district2_village | city


DEMO_USERS = [
    DemoUser("zhuren", "director", "李春梅", "村民委员会", "village"),
    DemoUser("zhuren2", "director", "王秀英", "村民委员会", "district2_village"),
    DemoUser("dudao", "supervisor", "陈建国", "乡镇人民政府", "township"),
    DemoUser("quxian", "district_officer", "刘洋", "区县民政局", "district"),
    DemoUser("shiji", "city_officer", "张敏", "重庆市民政局", "city"),
    DemoUser("jiaoyu", "partner_education", "杨帆", "区县教委", "district"),
    DemoUser("gongan", "partner_police", "罗勇", "区县公安局", "district"),
    DemoUser("weijian", "partner_health", "何静", "区县卫生健康委", "district"),
    DemoUser("fulian", "partner_women", "谭丽", "区县妇联", "district"),
    DemoUser("tuanwei", "partner_youth", "向阳", "共青团区县委", "district"),
    DemoUser("canlian", "partner_disabled", "冉红", "区县残联", "district"),
    DemoUser("fayuan", "partner_court", "周正", "区县人民法院", "district"),
    DemoUser("jianchayuan", "partner_procuratorate", "吴明", "区县人民检察院", "district"),
    DemoUser("wangxin", "partner_cyberspace", "黄伟", "区县委网信办", "district"),
    DemoUser("shegong", "social_worker", "徐晓", "阳光社会工作服务中心", "district"),
    DemoUser("xuexiao", "reporter_school", "赵老师", "镇中心小学", "township"),
    DemoUser("yiyuan", "reporter_hospital", "钱医生", "县人民医院", "district"),
    DemoUser("shenji", "auditor", "孙审", "市民政局审计", "city"),
    DemoUser("admin", "admin", "系统管理员", "市民政局信息中心", "city"),
]


def _busiest_village(district: str) -> Region | None:
    """The demo village of a district with the most children, so the demo director has real work."""
    from django.db.models import Count

    from guanai.registry.models import Child

    low, high = regioncode.prefix_range(district[:6])
    top = (
        Child.objects.filter(is_demo=True, village_id__gte=low, village_id__lte=high)
        .values("village_id")
        .annotate(n=Count("id"))
        .order_by("-n", "village_id")
        .first()
    )
    if top is None:
        return Region.objects.filter(is_demo=True, level=5, code__startswith=district[:6]).order_by("code").first()
    return Region.objects.get(code=top["village_id"])


def _regions(districts: list[str]) -> dict[str, Region]:
    first, second = (d.ljust(12, "0") for d in districts[:2])
    village = _busiest_village(first)
    village2 = _busiest_village(second)
    if village is None or village2 is None:
        raise RuntimeError("demo villages are missing: run `guanai seed` first")
    assert village.parent is not None
    return {
        "village": village,
        "district2_village": village2,
        "township": village.parent,
        "district": Region.objects.get(code=first),
        "city": Region.objects.get(code="500000000000"),
    }


@transaction.atomic
def demo_users_ensure(districts: list[str]) -> list[tuple[DemoUser, Region]]:
    """Create the demo accounts that are missing; reset existing demo accounts' passwords to the demo one."""
    regions = _regions(districts)
    password = settings.GUANAI_DEMO_PASSWORD
    result = []
    for spec in DEMO_USERS:
        region = regions[spec.level]
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user_create(
                actor=None,
                username=spec.username,
                password=password,
                role=spec.role,
                region_code=region.code,
                display_name=spec.display_name,
                organisation=spec.organisation,
                is_demo=True,
                check_password=False,
            )
        elif user.is_demo:
            user.set_password(password)
            user.save(update_fields=["password"])
        result.append((spec, region))
    return result

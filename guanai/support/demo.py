"""Demo support data: a small service catalogue in each demo district, needs from facts and visits, a few
referrals, care plans and a holiday activity, so the support pages have something to show. Idempotent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from guanai.accounts.models import User
from guanai.lib import regioncode
from guanai.registry.models import Child
from guanai.support.models import (
    Activity,
    ActivityInvite,
    CarePlan,
    Need,
    Provider,
    ProviderMember,
    Referral,
    Service,
    ServiceArea,
)

# (provider, kind, [(service, programme, domains, capacity, age_min, age_max, for_parents, schedule)])
CATALOGUE = [
    (
        "阳光社会工作服务中心",
        "social_org",
        [
            ("儿童心理辅导", "童心相伴", ["psychological"], 30, 6, 17, False, "每周六上午"),
            ("学业辅导小组", "", ["education"], 40, 7, 15, False, "工作日放学后"),
            ("防溺水安全课堂", "", ["safety"], 200, 6, 17, False, "暑假每周二"),
        ],
    ),
    (
        "共青团县委",
        "department",
        [
            ("童心港湾陪伴", "童心港湾", ["affection", "recreation"], 60, 3, 14, False, "周末"),
            ("七彩假期", "七彩假期", ["recreation", "education"], 120, 6, 14, False, "寒暑假"),
            ("红领巾学堂", "红领巾学堂", ["education", "recreation"], 80, 6, 12, False, "每周三下午"),
        ],
    ),
    (
        "县妇联巾帼志愿服务队",
        "volunteer",
        [
            ("爱心妈妈结对", "爱心妈妈", ["affection", "guardianship"], 50, 0, 17, False, "每月至少两次"),
            ("家庭教育指导", "", ["guardianship"], 40, 0, 17, True, "每月一次"),
        ],
    ),
    (
        "县残联康复中心",
        "department",
        [
            ("残疾儿童康复训练", "", ["medical"], 25, 0, 17, False, "工作日"),
        ],
    ),
    (
        "县人力社保局",
        "department",
        [
            ("父母就业服务", "", ["living"], 100, 0, 17, True, "工作日"),
        ],
    ),
]


@transaction.atomic
def demo_support_seed(*, today: dt.date, districts: list[str]) -> int:
    """Returns the number of services created (0 when the demo catalogue already exists)."""
    from guanai.support.services import needs_derive

    if Provider.objects.filter(is_demo=True).exists():
        return 0
    created = 0
    first_provider: dict[str, Provider] = {}
    for district in districts:
        code = regioncode.normalise(district)
        prefix = regioncode.prefix(code, 3)
        for name, kind, services in CATALOGUE:
            provider = Provider.objects.create(
                name=name, kind=kind, region_id=code, contact_name="联系人", contact_phone="023-6000 0000", is_demo=True
            )
            first_provider.setdefault(district, provider)
            for s_name, programme, domains, capacity, age_min, age_max, parents, schedule in services:
                service = Service.objects.create(
                    provider=provider,
                    name=s_name,
                    programme=programme,
                    domains=domains,
                    capacity=capacity,
                    age_min=age_min,
                    age_max=age_max,
                    for_parents=parents,
                    schedule=schedule,
                    is_demo=True,
                )
                ServiceArea.objects.create(service=service, prefix=prefix, level=3)
                created += 1
    shegong = User.objects.filter(is_demo=True, username="shegong").first()
    if shegong is not None and districts and districts[0] in first_provider:
        ProviderMember.objects.get_or_create(user=shegong, defaults={"provider": first_provider[districts[0]]})
    ids = list(Child.objects.filter(is_demo=True).exclude(status="exited").values_list("pk", flat=True))
    needs_derive(child_ids=ids, on=today)
    director = User.objects.filter(is_demo=True, username="zhuren").select_related("region").first()
    if director is None or director.region_id is None:
        return created
    # A few children of the demo director's village: a referral to the social organisation, a draft plan each.
    from guanai.support.services import needs_assess, plan_draft, referral_create

    village_children = list(
        Child.objects.filter(village_id=director.region_id).exclude(status="exited").order_by("pk")[:4]
    )
    answers: list[dict[str, dict[str, Any]]] = [
        {
            "psy_mood": {"score": 2, "evidence": "父母外出后话变少，不愿与同学交往"},
            "edu_study": {"score": 2, "evidence": "数学成绩下滑明显"},
        },
        {"aff_company": {"score": 3, "evidence": "由年迈祖母照料，放学后常独自在家"}, "rec_activity": {"score": 1}},
        {
            "safety_home": {"score": 2, "evidence": "家门口有未设护栏的堰塘"},
            "safety_knowledge": {"score": 2, "evidence": "不了解防溺水常识"},
        },
        {"edu_attendance": {"score": 1}, "edu_study": {"score": 2, "evidence": "语文阅读困难，需要辅导"}},
    ]
    for child, answer in zip(village_children, answers, strict=False):
        needs_assess(actor=director, child_pk=child.pk, answers=answer, on=today, summary="演示：走访后需求评估")
    psych = Service.objects.filter(is_demo=True, name="儿童心理辅导", areas__prefix=director.region_id[:6]).first()
    for i, child in enumerate(village_children):
        if i == 0 and psych is not None:
            need = Need.objects.create(
                child=child,
                domain="psychological",
                severity=2,
                source=Need.Source.MANUAL,
                key="manual:demo",
                title="心理健康：情绪低落，想念外出务工的父母",
                evidence="走访时孩子多次提到想念父母，夜里哭闹",
                created_on=today,
            )
            referral_create(
                actor=director,
                child_pk=child.pk,
                service_pk=psych.pk,
                need_pk=need.pk,
                reason="请安排心理辅导",
                on=today,
            )
        if not CarePlan.objects.filter(child=child).exists():
            plan_draft(actor=director, child_pk=child.pk, on=today)
    activity = Activity.objects.create(
        title="七彩假期防溺水安全课堂",
        kind=Activity.Kind.SAFETY,
        programme="七彩假期",
        region_id=director.region_id,
        place="村便民服务中心",
        starts_on=today,
        ends_on=today,
        created_by=director,
        is_demo=True,
    )
    kids = list(
        Child.objects.filter(village_id=director.region_id).exclude(status="exited").values_list("pk", flat=True)[:12]
    )
    ActivityInvite.objects.bulk_create([ActivityInvite(activity=activity, child_id=pk) for pk in kids])
    assert Referral.objects.exists() or psych is None
    return created

"""Demo visit history: six months of contacts and home visits, so worklists and rates look like a real district.

Deterministic by seed. About 80% of children are contacted in a given month and 70% home-visited in a
quarter; some villages lag behind, so the completion table has a worst-first order worth reading.
"""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
from django.db import transaction

from guanai.accounts.models import User
from guanai.lib.dates import add_months, month_start
from guanai.registry.models import Child
from guanai.visits.models import Visit

MODES = np.array(["phone", "phone", "phone", "video", "home", "school"])


@transaction.atomic
def demo_visits_seed(*, today: dt.date, seed: int = 2024, months: int = 6) -> int:
    rng = np.random.default_rng(seed)
    visitors: dict[str, User] = {}
    for user in User.objects.filter(is_demo=True, role__in=["director", "supervisor"]).select_related("region"):
        visitors.setdefault(user.region_id or "", user)
    fallback = User.objects.filter(is_demo=True, role="district_officer").first()
    rows = list(Child.objects.filter(is_demo=True).exclude(status="exited").values_list("pk", "village_id"))
    if not rows or fallback is None:
        return 0
    # A per-village diligence, so some villages lag behind others.
    villages = sorted({v for _, v in rows})
    diligence = dict(zip(villages, rng.uniform(0.55, 0.97, len(villages)), strict=True))
    visits: list[Visit] = []
    start = month_start(add_months(today, -(months - 1)))
    for child_id, village in rows:
        visitor = visitors.get(village) or visitors.get(village[:9].ljust(12, "0")) or fallback
        p = diligence[village]
        month = start
        while month <= today:
            if rng.random() < p:
                last_day = min(today, add_months(month, 1) - dt.timedelta(days=1))
                span = (last_day - month).days
                day = month + dt.timedelta(days=int(rng.integers(0, span + 1)))
                mode = str(MODES[rng.integers(0, len(MODES))])
                if month.month % 3 == 0 and rng.random() < p:
                    mode = "home"  # catch up on the quarter's home visit in its last month
                at = dt.datetime.combine(
                    day,
                    dt.time(9 + int(rng.integers(0, 9)), int(rng.integers(0, 60))),
                    tzinfo=dt.timezone(dt.timedelta(hours=8)),
                )
                visits.append(
                    Visit(
                        id=uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | len(visits)),
                        child_id=child_id,
                        visited_at=at,
                        visited_on=day,
                        mode=mode,
                        visitor=visitor,
                        visitor_name=visitor.shown_name,
                        met="儿童本人和照料人",
                        checklist={},
                        notes="",
                    )
                )
            month = add_months(month, 1)
    Visit.objects.bulk_create(visits, batch_size=2000)
    return len(visits)

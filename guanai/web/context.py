"""Role-aware navigation: each entry is shown only when the user's role grants its permission."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

NAV = [
    ("web:home", "我的工作台", None),
    ("web:children", "儿童名册", "child.view"),
    ("web:audit", "审计查询", "audit.view"),
    ("jobs:list", "我的任务", None),
    ("api:docs", "接口文档", None),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = []
    for name, label, perm in NAV:
        if perm is not None and not user.can(perm):
            continue
        url = reverse(name)
        # A section stays highlighted on its sub-pages (a child's archive is under 儿童名册).
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"url": url, "label": label, "active": active})
    return {"nav": items}

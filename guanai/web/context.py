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
    items = [
        {"url": reverse(name), "label": label, "active": request.path == reverse(name)}
        for name, label, perm in NAV
        if perm is None or user.can(perm)
    ]
    return {"nav": items}

"""Role-aware navigation: each entry is shown only when the user's role grants its permission."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

# (url name, label, permission, deepest region level the entry is shown at)
NAV = [
    ("web:home", "我的工作台", None, 5),
    ("visits:worklist", "走访任务", "visit.record", 5),
    ("web:children", "儿童名册", "child.view", 5),
    ("visits:problems", "问题跟进", "problem.handle", 5),
    ("protection:report-new", "强制报告", "report.file", 5),
    ("protection:inbox", "报告受理", "report.handle", 5),
    ("protection:cases", "个案", "case.manage", 5),
    ("discovery:findings", "比对线索", "finding.handle", 5),
    ("discovery:home", "数据比对", "discovery.run", 5),
    ("support:index", "精准帮扶", "support.manage", 5),
    ("support:provider", "转介服务", "support.provide", 5),
    ("visits:completion", "完成情况", "visit.view", 4),
    ("visits:ledger", "工作台账", "visit.view", 5),
    ("visits:worklog", "工作日志", "worklog.write", 5),
    ("visits:settings", "走访设置", "settings.manage", 5),
    ("oversight:dashboard", "督导评估", "stats.view", 4),
    ("workforce:ledger", "队伍建设", "workforce.view", 4),
    ("oversight:spotchecks", "档案抽查", "oversight.manage", 3),
    ("oversight:milestones", "工作节点", "oversight.manage", 3),
    ("oversight:tasks", "整改任务", "visit.record", 5),
    ("web:audit", "审计查询", "audit.view", 5),
    ("accounts:users", "账号管理", "user.manage", 5),
    ("jobs:list", "我的任务", None, 5),
    ("visits:notifications", "通知", None, 5),
    ("api:docs", "接口文档", "region.import", 5),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = []
    level = user.region.level if getattr(user, "region", None) is not None else 5
    for name, label, perm, deepest in NAV:
        if (perm is not None and not user.can(perm)) or level > deepest:
            continue
        url = reverse(name)
        # A section stays highlighted on its sub-pages (a child's archive is under 儿童名册).
        active = request.path == url or (url != "/" and request.path.startswith(url))
        items.append({"url": url, "label": label, "active": active})
    return {"nav": items}

"""Account services: creating users with a role and jurisdiction the matrix allows."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from guanai.accounts import roles
from guanai.accounts.models import User
from guanai.audit.services import audit_record, snapshot
from guanai.lib import regioncode
from guanai.lib.errors import DomainError
from guanai.regions.models import Region


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    region_code: str,
    display_name: str = "",
    organisation: str = "",
    is_demo: bool = False,
    check_password: bool = True,
) -> User:
    """Create an account bound to one role and one jurisdiction (§8, §16: directors per village...)."""
    try:
        role_obj = roles.get(role)
    except KeyError:
        known = "、".join(f"{r.code}（{r.label}）" for r in roles.matrix().roles.values())
        raise DomainError("unknown_role", f"未知角色：{role}。可用角色：{known}") from None
    try:
        code = regioncode.normalise(region_code)
    except regioncode.RegionCodeError as exc:
        raise DomainError("bad_region_code", exc.message) from None
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise DomainError("unknown_region", f"区划代码{code}不存在")
    if region.level not in role_obj.levels:
        allowed = "、".join(regioncode.LEVEL_NAMES[x] for x in sorted(role_obj.levels))
        raise DomainError(
            "region_level",
            f"{role_obj.label}的管辖区域应为{allowed}，而{region.name}是{region.get_level_display()}",
        )
    if User.objects.filter(username=username).exists():
        raise DomainError("username_taken", f"用户名{username}已被使用")
    if check_password:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise DomainError("weak_password", "；".join(exc.messages)) from None
    user = User(
        username=username,
        role=role,
        region=region,
        display_name=display_name,
        organisation=organisation,
        is_demo=is_demo,
    )
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.pk,
        summary=f"创建账号 {username}（{role_obj.label}，{region.name}）",
        after=snapshot(user, ["username", "role", "region", "display_name", "organisation", "is_demo"]),
    )
    return user

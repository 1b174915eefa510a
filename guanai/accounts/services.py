"""Account services: creating users with a role and jurisdiction the matrix allows."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from guanai.accounts import roles
from guanai.accounts.models import User
from guanai.accounts.scope import covers
from guanai.audit.services import audit_record, snapshot
from guanai.lib import regioncode
from guanai.lib.errors import DomainError, NotFound, PermissionRefused
from guanai.regions.models import Region


def _role_and_region(role: str, region_code: str, *, actor: User | None) -> tuple[roles.Role, Region]:
    """The role and the region of an account, checked against the matrix (levels) and the actor's jurisdiction."""
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
    if actor is not None and not covers(actor, region.code):
        raise DomainError("region_out_of_scope", f"{region.name}不在您的管辖范围内，不能在此设置账号")
    return role_obj, region


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
    if actor is not None and not actor.can("user.manage"):
        raise PermissionRefused("您没有管理账号的权限")
    role_obj, region = _role_and_region(role, region_code, actor=actor)
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


def managed_user(*, actor: User, pk: int) -> User:
    """An account the actor may manage: the permission, and the account's region inside the actor's jurisdiction."""
    if not actor.can("user.manage"):
        raise PermissionRefused("您没有管理账号的权限")
    user = User.objects.select_related("region").filter(pk=pk).first()
    if user is None or (user.region_id is not None and not covers(actor, user.region_id)):
        raise NotFound("账号不存在或不在您的管辖范围内")
    return user


ACCOUNT_FIELDS = ["role", "region", "display_name", "organisation", "is_active"]


@transaction.atomic
def user_update(*, actor: User, pk: int, role: str, region_code: str, display_name: str, organisation: str) -> User:
    """Change an account's role, jurisdiction or names (a director moving to another village, §16)."""
    user = managed_user(actor=actor, pk=pk)
    _, region = _role_and_region(role, region_code, actor=actor)
    before = snapshot(user, ACCOUNT_FIELDS)
    user.role, user.region, user.display_name, user.organisation = role, region, display_name, organisation
    user.save(update_fields=["role", "region", "display_name", "organisation"])
    audit_record(
        actor=actor,
        action="user.update",
        object_type="user",
        object_id=user.pk,
        summary=f"修改账号 {user.username}",
        before=before,
        after=snapshot(user, ACCOUNT_FIELDS),
    )
    return user


@transaction.atomic
def user_set_active(*, actor: User, pk: int, active: bool) -> User:
    """Disable an account (a director who left keeps her history but can no longer sign in) or enable it again."""
    user = managed_user(actor=actor, pk=pk)
    if user.pk == actor.pk and not active:
        raise DomainError("self_disable", "不能停用自己的账号")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="user.enable" if active else "user.disable",
            object_type="user",
            object_id=user.pk,
            summary=f"{'启用' if active else '停用'}账号 {user.username}",
            before={"is_active": not active},
            after={"is_active": active},
        )
    return user


@transaction.atomic
def user_set_password(*, actor: User, pk: int, password: str) -> User:
    """Set a new password for an account (the owner forgot hers); the password itself is never recorded."""
    user = managed_user(actor=actor, pk=pk)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError("weak_password", "；".join(exc.messages)) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=actor,
        action="user.password",
        object_type="user",
        object_id=user.pk,
        summary=f"重置账号 {user.username} 的密码",
    )
    return user

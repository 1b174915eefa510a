"""Registry services. Foundation part: viewing a child's file and revealing masked identifiers, audited."""

from __future__ import annotations

from guanai import privacy
from guanai.accounts.models import User
from guanai.audit.services import access_record
from guanai.lib.errors import DomainError, PermissionRefused
from guanai.registry.models import Child, Person
from guanai.registry.selectors import child_get

REVEALABLE = {"id_number": "身份证号"}


def child_view(*, user: User, pk: int | str) -> Child:
    """Open a child's full file; the view itself is recorded (PIPL: access to minors' data is logged)."""
    child = child_get(user, pk)
    access_record(actor=user, action="child.view", object_type="child", object_id=child.pk)
    return child


def child_reveal(*, user: User, pk: int | str, field: str) -> str:
    """Show a masked identifier of a child in scope in clear, if the role may; each reveal is recorded."""
    child = child_get(user, pk)
    if field not in REVEALABLE:
        raise DomainError("bad_field", f"无法显示该字段：{field}")
    if not user.can("child.reveal"):
        raise PermissionRefused("您的角色无权查看完整身份证号")
    access_record(actor=user, action="child.reveal", object_type="child", object_id=child.pk, field=field)
    return privacy.reveal(child.id_number_enc)


def person_reveal(*, user: User, child_pk: int | str, person_pk: int | str, field: str) -> str:
    """Reveal a parent's or carer's ID number or phone, reachable only through a child in scope."""
    child = child_get(user, child_pk)
    if not user.can("child.reveal"):
        raise PermissionRefused("您的角色无权查看完整身份证号和电话")
    person = Person.objects.filter(pk=person_pk, relations__child=child).first()
    if person is None:
        raise DomainError("not_found", "未找到该家庭成员", status=404)
    token = {"id_number": person.id_number_enc, "phone": person.phone_enc}.get(field)
    if token is None:
        raise DomainError("bad_field", f"无法显示该字段：{field}")
    access_record(actor=user, action="person.reveal", object_type="person", object_id=person.pk, field=field)
    return privacy.reveal(token)

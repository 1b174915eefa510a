from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from guanai.accounts import roles


class User(AbstractUser):
    """A person using 关爱: one role and one jurisdiction region (a region-code prefix)."""

    role = models.CharField("角色", max_length=40, choices=roles.choices, blank=True)
    region = models.ForeignKey(
        "regions.Region",
        verbose_name="管辖区域",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    display_name = models.CharField("姓名", max_length=50, blank=True)
    organisation = models.CharField("单位", max_length=100, blank=True)
    phone_mask = models.CharField("电话", max_length=20, blank=True)
    is_demo = models.BooleanField("演示账号", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def role_obj(self) -> roles.Role | None:
        return roles.matrix().roles.get(self.role)

    @property
    def role_label(self) -> str:
        role = self.role_obj()
        return role.label if role else "未分配角色"

    def can(self, permission: str) -> bool:
        """Whether the role grants ``permission``. An inactive user or one without a region can do nothing."""
        role = self.role_obj()
        if not self.is_active or role is None or self.region_id is None:
            return False
        return permission in role.permissions

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username

from __future__ import annotations

from django.db import models

from guanai.lib import regioncode


class Region(models.Model):
    """A statistical division (统计用区划代码), 12 digits. Jurisdiction is a prefix of ``code``."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, "省级"
        CITY = 2, "市级"
        COUNTY = 3, "区县级"
        TOWNSHIP = 4, "乡镇街道"
        VILLAGE = 5, "村社区"

    code = models.CharField("区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=100)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_active = models.BooleanField("现行", default=True)
    successor = models.ForeignKey(
        "self", verbose_name="并入", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    is_demo = models.BooleanField("演示数据", default=False)
    source = models.CharField("来源", max_length=40, default="official")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "行政区划"
        indexes = [models.Index(fields=["level", "code"], name="region_level_code")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def prefix(self) -> str:
        return regioncode.prefix(self.code, self.level)

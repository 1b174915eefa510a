"""The REST API: thin views over selectors and services. Every list is scoped to the caller."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanai.api import serializers as s
from guanai.audit.selectors import access_events_for, audit_events_for
from guanai.lib import regioncode
from guanai.lib.errors import DomainError
from guanai.regions.models import Region
from guanai.registry.selectors import children_for
from guanai.registry.services import child_reveal, child_view

ERRORS = {400: s.ErrorEnvelopeSerializer, 403: s.ErrorEnvelopeSerializer, 404: s.ErrorEnvelopeSerializer}


class MeView(APIView):
    @extend_schema(responses={200: s.MeSerializer}, summary="当前用户、角色、管辖区域和权限")
    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(request.user).data)


@extend_schema(
    summary="行政区划（按上级、级别或代码前缀筛选）",
    parameters=[
        OpenApiParameter("parent", str, description="上级区划代码（12位）"),
        OpenApiParameter("level", int, description="级别 1-5"),
        OpenApiParameter("prefix", str, description="区划代码前缀"),
    ],
)
class RegionListView(generics.ListAPIView):
    serializer_class = s.RegionSerializer

    def get_queryset(self) -> QuerySet[Region]:
        from guanai.accounts.scope import in_prefix

        qs = Region.objects.all()
        params = self.request.query_params
        try:
            if params.get("parent"):
                qs = qs.filter(parent_id=regioncode.normalise(params["parent"]))
            if params.get("prefix"):
                prefix_value = params["prefix"]
                if not prefix_value.isdigit() or len(prefix_value) > 12:
                    raise DomainError("bad_region_code", "区划代码前缀只能包含数字，最多12位")
                qs = qs.filter(in_prefix("code", prefix_value))
        except regioncode.RegionCodeError as exc:
            raise DomainError("bad_region_code", exc.message) from None
        if params.get("level"):
            if params["level"] not in {"1", "2", "3", "4", "5"}:
                raise DomainError("bad_level", "级别应为1至5")
            qs = qs.filter(level=int(params["level"]))
        return qs


@extend_schema(summary="本辖区儿童列表（身份证号已脱敏）", responses={200: s.ChildListSerializer(many=True), **ERRORS})
class ChildListView(generics.ListAPIView):
    serializer_class = s.ChildListSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return children_for(self.request.user).select_related("village").order_by("village_id", "name", "id")  # type: ignore[arg-type]


class ChildDetailView(APIView):
    @extend_schema(summary="儿童档案（查看留痕）", responses={200: s.ChildDetailSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        child = child_view(user=request.user, pk=pk)  # type: ignore[arg-type]
        return Response(s.ChildDetailSerializer(child).data)


class ChildRevealView(APIView):
    @extend_schema(
        summary="显示完整身份证号（需权限，每次留痕）",
        request=s.RevealRequestSerializer,
        responses={
            200: s.RevealResponseSerializer,
            **ERRORS,
            401: OpenApiResponse(s.ErrorEnvelopeSerializer),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        body = s.RevealRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        field = body.validated_data["field"]
        value = child_reveal(user=request.user, pk=pk, field=field)  # type: ignore[arg-type]
        return Response({"field": field, "value": value})


AUDIT_PARAMS = [
    OpenApiParameter("actor", str),
    OpenApiParameter("action", str, description="操作前缀，如 child."),
    OpenApiParameter("object_type", str),
    OpenApiParameter("object_id", str),
]


def _audit_filters(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in ("actor", "action", "object_type", "object_id")}


@extend_schema(summary="审计事件（审计员）", parameters=AUDIT_PARAMS)
class AuditEventListView(generics.ListAPIView):
    serializer_class = s.AuditEventSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return audit_events_for(self.request.user, **_audit_filters(self.request))  # type: ignore[arg-type]


@extend_schema(summary="访问记录（审计员）", parameters=AUDIT_PARAMS)
class AccessEventListView(generics.ListAPIView):
    serializer_class = s.AccessEventSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return access_events_for(self.request.user, **_audit_filters(self.request))  # type: ignore[arg-type]

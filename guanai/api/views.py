"""The REST API: thin views over selectors and services. Every list is scoped to the caller."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanai.api import serializers as s
from guanai.api.auth import actor
from guanai.audit.selectors import access_events_for, audit_events_for
from guanai.lib import regioncode
from guanai.lib.errors import DomainError
from guanai.regions.models import Region
from guanai.registry.models import Child, ChildGroup
from guanai.registry.selectors import AGE_BANDS, child_get, children_search
from guanai.registry.services import (
    ChildData,
    PersonData,
    StatusData,
    child_exit,
    child_reenter,
    child_register,
    child_reveal,
    child_update,
    child_view,
    family_member_add,
    person_status_add,
)

ERRORS = {400: s.ErrorEnvelopeSerializer, 403: s.ErrorEnvelopeSerializer, 404: s.ErrorEnvelopeSerializer}


class MeView(APIView):
    @extend_schema(responses={200: s.MeSerializer}, summary="当前用户、角色、管辖区域和权限")
    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(actor(request)).data)


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


SEARCH_PARAMS = [
    OpenApiParameter("q", str, description="姓名、全拼、首字母、儿童编号或完整身份证号"),
    OpenApiParameter("region", str, description="区划代码（村、乡镇、区县）"),
    OpenApiParameter("group", str, enum=list(ChildGroup.Code.values)),
    OpenApiParameter("status", str, enum=list(Child.Status.values)),
    OpenApiParameter("age_band", str, enum=list(AGE_BANDS)),
]


def _today() -> dt.date:
    return timezone.localdate()


def _child_data(values: dict[str, Any]) -> ChildData:
    return ChildData(**{k: v for k, v in values.items() if k in ChildData.__dataclass_fields__})


def _person_data(values: dict[str, Any]) -> PersonData:
    statuses = [StatusData(**st) for st in values.pop("statuses", [])]
    return PersonData(**values, statuses=statuses)


class ChildListView(generics.ListCreateAPIView):
    serializer_class = s.ChildListSerializer

    def get_queryset(self) -> QuerySet[Any]:
        p = self.request.query_params
        return (
            children_search(
                actor(self.request),
                q=p.get("q", ""),
                region=p.get("region", ""),
                group=p.get("group", ""),
                status=p.get("status", ""),
                age_band=p.get("age_band", ""),
                today=_today(),
            )
            .prefetch_related("village")  # not a join: see web.views.children
            .order_by("village_id", "name", "id")
        )

    @extend_schema(
        summary="本辖区儿童列表与检索（身份证号已脱敏）",
        parameters=SEARCH_PARAMS,
        responses={200: s.ChildListSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="登记儿童（同身份证号拒绝；同乡镇同名同出生日期需确认）",
        request=s.ChildCreateSerializer,
        responses={201: s.ChildArchiveSerializer, **ERRORS, 409: s.ErrorEnvelopeSerializer},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = s.ChildCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        family = [_person_data(dict(m)) for m in values.pop("family")]
        confirm = values.pop("confirm_similar")
        child = child_register(
            actor=actor(request),
            data=_child_data(values),
            family=family,
            today=_today(),
            confirm_similar=confirm,
        )
        return Response(s.ChildArchiveSerializer(child).data, status=201)


class ChildDetailView(APIView):
    @extend_schema(
        summary="儿童档案：基本信息、家庭成员、类别及认定依据（查看留痕）",
        responses={200: s.ChildArchiveSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        child = child_view(user=actor(request), pk=pk)
        return Response(s.ChildArchiveSerializer(child).data)

    @extend_schema(
        summary="修改儿童信息（须提交所依据的版本号；版本过期返回409）",
        request=s.ChildPatchSerializer,
        responses={200: s.ChildArchiveSerializer, **ERRORS, 409: s.ErrorEnvelopeSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        body = s.ChildPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changes = dict(body.validated_data)
        version = changes.pop("version")
        child = child_update(
            actor=actor(request),
            pk=pk,
            expected_version=version,
            changes=changes,
            today=_today(),
        )
        return Response(s.ChildArchiveSerializer(child).data)


class ChildExitView(APIView):
    @extend_schema(
        summary="儿童退出（保留历史）", request=s.ExitSerializer, responses={200: s.ChildArchiveSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        body = s.ExitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        child = child_exit(actor=actor(request), pk=pk, **body.validated_data)
        return Response(s.ChildArchiveSerializer(child).data)


class ChildReenterView(APIView):
    @extend_schema(summary="重新纳入已退出的儿童", request=None, responses={200: s.ChildArchiveSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        child = child_reenter(actor=actor(request), pk=pk, today=_today())
        return Response(s.ChildArchiveSerializer(child).data)


class ChildTimelineView(generics.ListAPIView):
    serializer_class = s.TimelineSerializer

    @extend_schema(summary="儿童档案时间线（查看留痕）", responses={200: s.TimelineSerializer(many=True), **ERRORS})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        child = child_view(user=actor(self.request), pk=self.kwargs["pk"])
        return child.timeline.all()


class FamilyMemberView(APIView):
    @extend_schema(
        summary="添加家庭成员、监护人或委托照料人",
        request=s.PersonInSerializer,
        responses={201: s.ChildArchiveSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        body = s.PersonInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        family_member_add(
            actor=actor(request),
            child_pk=pk,
            member=_person_data(dict(body.validated_data)),
            today=_today(),
        )
        return Response(s.ChildArchiveSerializer(child_get(actor(request), pk)).data, status=201)


class PersonStatusView(APIView):
    @extend_schema(
        summary="登记家庭成员的新状况（如外出务工、返乡、服刑在押）",
        request=s.StatusSerializer,
        responses={201: s.ChildArchiveSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int, person_pk: int) -> Response:
        body = s.StatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        person_status_add(
            actor=actor(request),
            child_pk=pk,
            person_pk=person_pk,
            status=StatusData(**body.validated_data),
            today=_today(),
        )
        return Response(s.ChildArchiveSerializer(child_get(actor(request), pk)).data, status=201)


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
        value = child_reveal(user=actor(request), pk=pk, field=field)
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
        return audit_events_for(actor(self.request), **_audit_filters(self.request))


@extend_schema(summary="访问记录（审计员）", parameters=AUDIT_PARAMS)
class AccessEventListView(generics.ListAPIView):
    serializer_class = s.AccessEventSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return access_events_for(actor(self.request), **_audit_filters(self.request))

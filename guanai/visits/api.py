"""REST endpoints for visits: record a visit (idempotent with a client key), read worklists and completion."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanai.api.auth import actor
from guanai.api.serializers import ErrorEnvelopeSerializer
from guanai.lib.errors import DomainError
from guanai.lib.parse import ParseError, parse_date
from guanai.visits import services as svc
from guanai.visits.models import Visit
from guanai.visits.selectors import TABS, completion_by_area, problem_categories_list, worklist_page

ERRORS = {400: ErrorEnvelopeSerializer, 403: ErrorEnvelopeSerializer, 404: ErrorEnvelopeSerializer}
WORKLIST_PER_PAGE = 50


class ChecklistAnswerSerializer(serializers.Serializer):
    status = serializers.CharField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ProblemInSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=problem_categories_list())
    description = serializers.CharField()
    due_date = serializers.DateField(required=False, allow_null=True, default=None)


class VisitInSerializer(serializers.Serializer):
    child = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=Visit.Mode.choices)
    visited_at = serializers.DateTimeField()
    met = serializers.CharField(required=False, allow_blank=True, default="")
    checklist = serializers.DictField(child=ChecklistAnswerSerializer(), required=False, default=dict)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True, default=None)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True, default=None)
    late_reason = serializers.CharField(required=False, allow_blank=True, default="")
    client_key = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=64,
        help_text="client-generated key: a resubmission returns the first visit",
    )
    problems = ProblemInSerializer(many=True, required=False, default=list)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class VisitOutSerializer(serializers.Serializer):
    """The visit as stored. Declared field by field (not a ModelSerializer): it is built on every recorded
    visit, and introspecting the model each time was a tenth of the request's time."""

    id = serializers.UUIDField()
    child = serializers.IntegerField(source="child_id")
    mode = serializers.ChoiceField(choices=Visit.Mode.choices)
    mode_label = serializers.CharField(source="get_mode_display")
    visited_at = serializers.DateTimeField()
    visited_on = serializers.DateField()
    visitor_name = serializers.CharField()
    met = serializers.CharField()
    checklist = serializers.JSONField()
    notes = serializers.CharField()
    late_reason = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class ObligationSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    due = serializers.DateField()
    state = serializers.CharField()
    done_on = serializers.DateField(allow_null=True)
    overdue_since = serializers.DateField(allow_null=True)
    raised = serializers.BooleanField()


class WorkItemSerializer(serializers.Serializer):
    child_id = serializers.IntegerField(source="child.pk")
    child_no = serializers.CharField(source="child.child_no")
    name = serializers.CharField(source="child.name")
    village = serializers.CharField(source="child.village_id")
    risk = serializers.IntegerField()
    raised_reasons = serializers.ListField(child=serializers.CharField())
    obligations = ObligationSerializer(many=True)


class CompletionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    children = serializers.IntegerField()
    contacted = serializers.IntegerField()
    home_visited = serializers.IntegerField()
    contact_rate = serializers.FloatField()
    home_rate = serializers.FloatField()


def _day(request: Request) -> Any:
    value = request.query_params.get("on")
    try:
        return parse_date(value) if value else timezone.localdate()
    except ParseError as exc:
        raise DomainError("bad_date", exc.message) from None


class VisitCreateView(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="记录联系或走访（client_key 防止重复提交）",
        request=VisitInSerializer,
        responses={201: VisitOutSerializer, 200: VisitOutSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = VisitInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = dict(body.validated_data)
        visit, created = svc.visit_record_or_existing(
            actor=actor(request),
            child_pk=v["child"],
            now=timezone.now(),
            client_key=v["client_key"],
            photos=v["photos"],
            data=svc.VisitData(
                mode=v["mode"],
                visited_at=v["visited_at"],
                met=v["met"],
                checklist={k: dict(a) for k, a in v["checklist"].items()},
                notes=v["notes"],
                latitude=v["latitude"],
                longitude=v["longitude"],
                late_reason=v["late_reason"],
            ),
            problems=[svc.ProblemData(**p) for p in v["problems"]],
        )
        return Response(VisitOutSerializer(visit).data, status=201 if created else 200)


WORKLIST_TABS = ("all", *TABS)
MAX_PER_PAGE = 200


def _positive(request: Request, name: str, default: int, highest: int | None = None) -> int:
    value = request.query_params.get(name, "")
    if not value:
        return default
    if not value.isdigit() or int(value) < 1 or (highest is not None and int(value) > highest):
        limit = f"，不超过{highest}" if highest else ""
        raise DomainError(f"bad_{name}", f"{name} 应为正整数{limit}")
    return int(value)


class WorklistView(APIView):
    @extend_schema(
        summary="走访任务清单（本期待联系、待入户、已逾期，按紧急程度和风险排序，分页）",
        description=(
            "One page of the worklist, most urgent first. Headers: `X-Total-Count` (children in the tab), "
            "`X-Page` (the page returned: a page beyond the last gives the last), `X-Per-Page`, "
            "`X-Tab-Counts` (children per tab, e.g. `todo=12;overdue=3;contact=9;home=7;done=40`)."
        ),
        parameters=[
            OpenApiParameter("on", str, description="日期，默认今天"),
            OpenApiParameter("region", str, description="区划代码前缀（可选）"),
            OpenApiParameter(
                "tab",
                str,
                enum=list(WORKLIST_TABS),
                description="all 全部（默认）、todo 待办、overdue 已逾期、contact 待联系、home 待入户、done 已完成",
            ),
            OpenApiParameter("page", int, description="页码，从1开始（默认1）"),
            OpenApiParameter("per_page", int, description=f"每页条数（默认50，最多{MAX_PER_PAGE}）"),
            OpenApiParameter(
                "X-Total-Count", int, OpenApiParameter.HEADER, description="本标签下的儿童数", response=[200]
            ),
            OpenApiParameter("X-Page", int, OpenApiParameter.HEADER, description="返回的页码", response=[200]),
            OpenApiParameter("X-Per-Page", int, OpenApiParameter.HEADER, description="每页条数", response=[200]),
            OpenApiParameter(
                "X-Tab-Counts", str, OpenApiParameter.HEADER, description="各标签的儿童数", response=[200]
            ),
        ],
        responses={200: WorkItemSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        region = request.query_params.get("region", "")
        if region and not region.isdigit():
            raise DomainError("bad_region_code", "区划代码只能包含数字")
        tab = request.query_params.get("tab", "all")
        if tab not in WORKLIST_TABS:
            raise DomainError("bad_tab", "tab 应为 " + "、".join(WORKLIST_TABS))
        page = worklist_page(
            actor(request),
            today=_day(request),
            region=region,
            tab=tab,
            page=_positive(request, "page", 1),
            per_page=_positive(request, "per_page", WORKLIST_PER_PAGE, MAX_PER_PAGE),
        )
        response = Response(WorkItemSerializer(page.items, many=True).data)
        response["X-Total-Count"] = str(page.count)
        response["X-Page"] = str(page.number)
        response["X-Per-Page"] = str(page.per_page)
        response["X-Tab-Counts"] = ";".join(f"{k}={n}" for k, n in page.counts.items())
        return response


class CompletionView(APIView):
    @extend_schema(
        summary="下级区域本月联系率和本季度入户走访率",
        parameters=[OpenApiParameter("on", str), OpenApiParameter("level", int, description="4 乡镇 / 5 村")],
        responses={200: CompletionSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        level = request.query_params.get("level", "4")
        if level not in {"3", "4", "5"}:
            raise DomainError("bad_level", "级别应为3、4或5")
        rows = completion_by_area(actor(request), today=_day(request), level=int(level))
        return Response(CompletionSerializer(rows, many=True).data)

"""REST endpoints for oversight: the dashboard of a region (from KPI snapshots) and the KPI definitions."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanai.api.auth import actor
from guanai.api.serializers import ErrorEnvelopeSerializer
from guanai.lib.dates import month_end
from guanai.lib.errors import DomainError
from guanai.oversight.kpis import kpis, parse_period
from guanai.oversight.selectors import dashboard, dashboard_json

ERRORS = {400: ErrorEnvelopeSerializer, 403: ErrorEnvelopeSerializer, 404: ErrorEnvelopeSerializer}


class DashboardView(APIView):
    @extend_schema(
        summary="区域督导看板：各项指标的当期值和趋势、下级区域由差到好（来自指标快照）",
        description='Counts of 1–4 children are returned as "<5" (rates as "—") for roles outside the '
        "civil-affairs line (rules/oversight.yaml).",
        parameters=[
            OpenApiParameter("region", str, description="12位区划代码（默认本人辖区）"),
            OpenApiParameter("period", str, description="YYYY-MM（默认本月）"),
            OpenApiParameter("kpi", str, description="下级区域排序所依据的指标"),
        ],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        today = timezone.localdate()
        day = today
        text = request.query_params.get("period", "")
        if text:
            try:
                kind, start = parse_period(text)
            except ValueError as exc:
                raise DomainError("bad_period", str(exc)) from None
            if kind != "month":
                raise DomainError("bad_period", "期间应为月份 YYYY-MM")
            day = min(month_end(start), today)
        data = dashboard(
            actor(request),
            region_code=request.query_params.get("region", ""),
            day=day,
            today=today,
            kpi_id=request.query_params.get("kpi", ""),
        )
        return Response(dashboard_json(data))


class KpiDefinitionsView(APIView):
    @extend_schema(summary="指标定义（rules/kpis.yaml）", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        actor(request)
        return Response(
            [
                {
                    "id": k.id,
                    "label": k.label,
                    "period": k.period,
                    "unit": k.unit,
                    "better": k.better,
                    "target": k.target,
                    "numerator": k.numerator,
                    "denominator": k.denominator,
                    "source": k.source,
                    "status": k.status,
                    "pending_reason": k.pending_reason,
                }
                for k in kpis().values()
            ]
        )

"""REST endpoints for discovery (/api/v1/discovery/): the findings worklist, closing findings, the review queue
and review decisions. Thin over selectors and services; ID numbers appear masked only."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanai.api.auth import actor
from guanai.api.common import ERRORS, valid_body
from guanai.discovery.models import Finding, Link, LinkDecision
from guanai.discovery.selectors import finding_get, findings_for, link_get, review_queue
from guanai.discovery.services import confirmation_rates, finding_confirm, finding_reject, link_decide


class FindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = [
            "id",
            "rule",
            "rule_version",
            "source_clause",
            "child",
            "name",
            "region_code",
            "explanation",
            "evidence",
            "responsible_role",
            "responsible_region",
            "status",
            "outcome",
            "reason",
            "first_seen",
            "last_seen",
            "registered_child",
        ]


class ConfirmSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Finding.Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class LinkSerializer(serializers.ModelSerializer):
    roster = serializers.CharField(source="row.source")
    row_no = serializers.IntegerField(source="row.row_no")
    row_name = serializers.CharField(source="row.name")
    row_id_number = serializers.CharField(source="row.id_number_mask")

    class Meta:
        model = Link
        fields = [
            "id",
            "roster",
            "row_no",
            "row_name",
            "row_id_number",
            "child",
            "target",
            "probability",
            "explanation",
            "method",
            "state",
        ]


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=LinkDecision.Decision.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class FindingsView(APIView):
    @extend_schema(
        summary="数据比对线索（本人负责或本辖区儿童）",
        parameters=[OpenApiParameter("status", str), OpenApiParameter("rule", str)],
        responses={200: FindingSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        rows = findings_for(actor(request))
        for name in ("status", "rule"):
            value = request.query_params.get(name)
            if value:
                rows = rows.filter(**{name: value})
        return Response(FindingSerializer(rows[:500], many=True).data)


class RuleRateSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="rule code, e.g. DROPOUT")
    title = serializers.CharField()
    open = serializers.IntegerField()
    confirmed = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rate = serializers.FloatField(
        allow_null=True, help_text="confirmed / (confirmed + rejected); null when none closed"
    )


class FindingRatesView(APIView):
    @extend_schema(summary="各规则的核实确认率", responses={200: RuleRateSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(confirmation_rates(findings_for(actor(request))))


class FindingDetailView(APIView):
    @extend_schema(summary="一条线索及其证据", responses={200: FindingSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(FindingSerializer(finding_get(actor(request), pk)).data)


class FindingConfirmView(APIView):
    @extend_schema(
        summary="确认线索（登记建档时按名册预填登记）",
        request=ConfirmSerializer,
        responses={200: FindingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(ConfirmSerializer, request)
        found = finding_get(actor(request), pk)
        done = finding_confirm(
            actor=actor(request), pk=found.pk, outcome=v["outcome"], note=v["note"], today=timezone.localdate()
        )
        return Response(FindingSerializer(done).data)


class FindingRejectView(APIView):
    @extend_schema(
        summary="排除线索（须填写理由）", request=RejectSerializer, responses={200: FindingSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(RejectSerializer, request)
        found = finding_get(actor(request), pk)
        return Response(FindingSerializer(finding_reject(actor=actor(request), pk=found.pk, reason=v["reason"])).data)


class ReviewQueueView(APIView):
    @extend_schema(summary="待审核的疑似匹配（区县民政）", responses={200: LinkSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(LinkSerializer(review_queue(actor(request))[:200], many=True).data)


class ReviewDecideView(APIView):
    @extend_schema(
        summary="审核疑似匹配：是同一人 / 不是同一人",
        request=DecisionSerializer,
        responses={200: LinkSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(DecisionSerializer, request)
        link = link_get(actor(request), pk)
        link_decide(actor=actor(request), link_pk=link.pk, decision=v["decision"], note=v["note"])
        link.refresh_from_db()
        return Response(LinkSerializer(link).data)

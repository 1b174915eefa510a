"""REST endpoints for precise support, mounted at /api/v1/support/. Thin: parse, call one selector or service,
serialise. A provider's answers carry only what it needs about a referred child (see ``selectors``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanai.api.auth import actor
from guanai.api.common import ERRORS, valid_body
from guanai.audit.services import access_record
from guanai.lib.errors import PermissionRefused
from guanai.registry.selectors import child_get
from guanai.support import selectors as sel
from guanai.support import services as svc
from guanai.support.eligibility import benefit_coverage, benefit_label
from guanai.support.matching import match_services
from guanai.support.models import (
    Activity,
    BenefitStandard,
    CarePlan,
    Domain,
    Need,
    PlanAction,
    Provider,
    Referral,
    Service,
)

TAG = ["support"]


def _today() -> dt.date:
    return timezone.localdate()


# --- serializers ---------------------------------------------------------------------------------------------
class NeedSerializer(serializers.ModelSerializer):
    domain_label = serializers.CharField(source="get_domain_display")
    severity_label = serializers.CharField(source="get_severity_display")
    status_label = serializers.CharField(source="get_status_display")
    source_label = serializers.CharField(source="get_source_display")
    posted = serializers.SerializerMethodField()

    class Meta:
        model = Need
        fields = [
            "id", "domain", "domain_label", "severity", "severity_label", "status", "status_label", "source",
            "source_label", "title", "evidence", "created_on", "resolved_on", "resolution", "posted",
        ]  # fmt: skip

    def get_posted(self, obj: Need) -> bool:
        return obj.posted_at is not None


class NeedInSerializer(serializers.Serializer):
    domain = serializers.ChoiceField(choices=Domain.choices)
    severity = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    evidence = serializers.CharField(required=False, allow_blank=True, default="")


class NeedsAssessmentInSerializer(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.DictField(), help_text='item id -> {"score": 0-3, "evidence": "..."}'
    )
    visit = serializers.UUIDField(required=False, allow_null=True, default=None)
    summary = serializers.CharField(required=False, allow_blank=True, default="")


class EnrolmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    household = serializers.SerializerMethodField()
    start = serializers.DateField()
    end = serializers.DateField(allow_null=True)
    monthly_amount = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    lump_sum = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)

    def get_household(self, obj: Any) -> bool:
        return obj.household_id is not None


class EnrolInSerializer(serializers.Serializer):
    kind = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(required=False, allow_null=True, default=None)
    household = serializers.BooleanField(required=False, default=False)
    monthly_amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, required=False, allow_null=True, default=None
    )
    lump_sum = serializers.DecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class EndInSerializer(serializers.Serializer):
    end = serializers.DateField()


class StandardSerializer(serializers.ModelSerializer):
    item_label = serializers.CharField(source="get_item_display")

    class Meta:
        model = BenefitStandard
        fields = ["id", "item", "item_label", "effective_from", "monthly_amount", "source"]


class StandardInSerializer(serializers.Serializer):
    item = serializers.ChoiceField(choices=BenefitStandard.Item.choices)
    effective_from = serializers.DateField()
    monthly_amount = serializers.DecimalField(max_digits=8, decimal_places=2)
    source = serializers.CharField()  # type: ignore[assignment]


class ProviderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Provider
        fields = ["id", "name", "kind", "region", "contact_name", "contact_phone", "is_active"]


class ProviderInSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Provider.Kind.choices)
    region = serializers.CharField()
    contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, default="")


class ServiceSerializer(serializers.ModelSerializer):
    provider_name = serializers.CharField(source="provider.name")
    areas = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = [
            "id", "provider", "provider_name", "name", "programme", "description", "domains", "capacity", "schedule",
            "age_min", "age_max", "sex", "groups", "for_parents", "is_active", "areas",
        ]  # fmt: skip

    def get_areas(self, obj: Service) -> list[str]:
        return [a.prefix for a in obj.areas.all()]


class ServiceInSerializer(serializers.Serializer):
    provider = serializers.IntegerField()
    name = serializers.CharField()
    domains = serializers.ListField(child=serializers.ChoiceField(choices=Domain.choices))
    areas = serializers.ListField(child=serializers.CharField(), help_text="region codes the service covers")
    capacity = serializers.IntegerField()
    programme = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    schedule = serializers.CharField(required=False, allow_blank=True, default="")
    age_min = serializers.IntegerField(required=False, default=0)
    age_max = serializers.IntegerField(required=False, default=17)
    sex = serializers.CharField(required=False, allow_blank=True, default="")
    groups = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    for_parents = serializers.BooleanField(required=False, default=False)


class SuggestionSerializer(serializers.Serializer):
    service_id = serializers.IntegerField()
    service_name = serializers.CharField()
    provider_name = serializers.CharField()
    programme = serializers.CharField()
    score = serializers.FloatField()
    capacity = serializers.IntegerField()
    capacity_left = serializers.IntegerField()
    need_ids = serializers.ListField(child=serializers.IntegerField())
    reasons = serializers.ListField(child=serializers.CharField())


class ReferralSerializer(serializers.ModelSerializer):
    """The workforce's view of a referral."""

    status_label = serializers.CharField(source="get_status_display")
    service_name = serializers.CharField(source="service.name")
    provider_name = serializers.CharField(source="provider.name")

    class Meta:
        model = Referral
        fields = [
            "id", "child", "need", "service", "service_name", "provider", "provider_name", "status", "status_label",
            "via_posting", "reason", "match_explanation", "created_at", "responded_at", "decline_reason",
            "delivered_on", "delivery_note", "sessions",
        ]  # fmt: skip


class ProviderReferralSerializer(serializers.Serializer):
    """A provider's view: the minimum about the child, no ID number, no family, no archive."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    service_name = serializers.CharField(source="service.name")
    need = serializers.SerializerMethodField()
    child = serializers.SerializerMethodField()
    referred_by = serializers.CharField(source="created_by.shown_name")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    delivered_on = serializers.DateField(allow_null=True)
    delivery_note = serializers.CharField()

    def get_need(self, obj: Referral) -> str:
        return obj.need.title if obj.need else ""

    def get_child(self, obj: Referral) -> dict[str, Any]:
        c = sel.provider_child(obj, on=_today())
        return {"name": c.name, "sex": c.sex, "age": c.age, "village": c.village}


class ReferralInSerializer(serializers.Serializer):
    child = serializers.IntegerField()
    service = serializers.IntegerField()
    need = serializers.IntegerField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    explanation = serializers.CharField(required=False, allow_blank=True, default="")


class RespondInSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DeliverInSerializer(serializers.Serializer):
    delivered_on = serializers.DateField()
    note = serializers.CharField(allow_blank=True)
    sessions = serializers.IntegerField(required=False, default=1)
    need_met = serializers.BooleanField(required=False, default=True)


class ReasonInSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class PostingSerializer(serializers.Serializer):
    need_id = serializers.IntegerField()
    domain = serializers.CharField()
    domain_label = serializers.CharField()
    severity_label = serializers.CharField()
    title = serializers.CharField()
    age = serializers.IntegerField()
    sex = serializers.CharField()
    village = serializers.CharField()
    posted_at = serializers.DateTimeField()
    service_ids = serializers.ListField(child=serializers.IntegerField())


class TakeInSerializer(serializers.Serializer):
    service = serializers.IntegerField()


class PlanActionSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    owner_name = serializers.CharField(source="owner.shown_name")

    class Meta:
        model = PlanAction
        fields = [
            "id", "kind", "kind_label", "title", "need", "service", "referral", "benefit", "owner", "owner_name",
            "partner_name", "due_on", "status", "status_label", "done_on", "note",
        ]  # fmt: skip


class PlanSerializer(serializers.ModelSerializer):
    actions = PlanActionSerializer(many=True)
    progress = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = CarePlan
        fields = [
            "id", "child", "status", "status_label", "goals", "next_review_on", "created_on", "activated_on",
            "closed_on", "version", "progress", "actions",
        ]  # fmt: skip

    def get_progress(self, obj: CarePlan) -> int:
        return svc.plan_progress(obj)


class ActionInSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PlanAction.Kind.choices)
    title = serializers.CharField(allow_blank=True)
    owner = serializers.IntegerField(required=False, allow_null=True, default=None)
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    need = serializers.IntegerField(required=False, allow_null=True, default=None)
    service = serializers.IntegerField(required=False, allow_null=True, default=None)
    benefit = serializers.CharField(required=False, allow_blank=True, default="")
    partner_name = serializers.CharField(required=False, allow_blank=True, default="")


class ActionUpdateInSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=PlanAction.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ReviewInSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True)
    close = serializers.BooleanField(required=False, default=False)


class BatchInSerializer(serializers.Serializer):
    region = serializers.CharField()


class ActivitySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    invited = serializers.SerializerMethodField()
    attended = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = [
            "id",
            "title",
            "kind",
            "kind_label",
            "programme",
            "region",
            "place",
            "starts_on",
            "ends_on",
            "invited",
            "attended",
        ]

    def get_invited(self, obj: Activity) -> int:
        return obj.invites.count()

    def get_attended(self, obj: Activity) -> int:
        return obj.invites.filter(attended=True).count()


class ActivityInSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=Activity.Kind.choices)
    region = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    programme = serializers.CharField(required=False, allow_blank=True, default="")
    place = serializers.CharField(required=False, allow_blank=True, default="")
    provider = serializers.IntegerField(required=False, allow_null=True, default=None)


class InviteInSerializer(serializers.Serializer):
    children = serializers.ListField(child=serializers.IntegerField())


class AttendanceInSerializer(serializers.Serializer):
    attended = serializers.DictField(child=serializers.BooleanField(), help_text="child id -> attended")


# --- views -------------------------------------------------------------------------------------------------
class InstrumentView(APIView):
    @extend_schema(tags=TAG, summary="当前需求评估工具（八个领域）", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(svc.instrument())


class ChildNeedsView(APIView):
    @extend_schema(tags=TAG, summary="儿童的需求", responses={200: NeedSerializer(many=True), **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        return Response(NeedSerializer(sel.needs_of(user, child_get(user, pk)), many=True).data)

    @extend_schema(tags=TAG, summary="登记需求", request=NeedInSerializer, responses={201: NeedSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(NeedInSerializer, request)
        need = svc.need_add(actor=actor(request), child_pk=pk, on=_today(), **data)
        return Response(NeedSerializer(need).data, status=201)


class ChildAssessmentsView(APIView):
    @extend_schema(
        tags=TAG,
        summary="开展需求评估",
        request=NeedsAssessmentInSerializer,
        responses={201: NeedSerializer(many=True), **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(NeedsAssessmentInSerializer, request)
        user = actor(request)
        svc.needs_assess(
            actor=user,
            child_pk=pk,
            answers=data["answers"],
            on=_today(),
            visit_id=str(data["visit"]) if data["visit"] else None,
            summary=data["summary"],
        )
        child = child_get(user, pk)
        return Response(
            NeedSerializer(sel.needs_of(user, child).filter(status__in=Need.OPEN_STATUSES), many=True).data, status=201
        )


class ChildBenefitsView(APIView):
    @extend_schema(tags=TAG, summary="儿童的救助保障、应享项目和应享未享", responses={200: dict, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        child = child_get(user, pk)
        today = _today()
        coverage = benefit_coverage(on=today, child_ids=[child.pk])  # one pass for both
        eligible, gaps = coverage.eligibility.get(child.pk, []), coverage.gaps
        return Response(
            {
                "enrolments": EnrolmentSerializer(sel.enrolments_of(user, child), many=True).data,
                "eligible": [
                    {"benefit": b, "label": benefit_label(b), "rule": r, "reason": why} for b, r, why in eligible
                ],
                "gaps": [
                    {
                        "benefit": g.benefit,
                        "label": benefit_label(g.benefit),
                        "rule": g.rule,
                        "explanation": g.explanation,
                        "source": g.source,
                    }
                    for g in gaps
                ],
            }
        )

    @extend_schema(
        tags=TAG,
        summary="录入救助保障（同类期间重叠时拒绝）",
        request=EnrolInSerializer,
        responses={201: EnrolmentSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(EnrolInSerializer, request)
        enrolment = svc.benefit_enrol(actor=actor(request), child_pk=pk, today=_today(), **data)
        return Response(EnrolmentSerializer(enrolment).data, status=201)


class BenefitEndView(APIView):
    @extend_schema(
        tags=TAG, summary="终止救助保障", request=EndInSerializer, responses={200: EnrolmentSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(EndInSerializer, request)
        return Response(
            EnrolmentSerializer(svc.benefit_end(actor=actor(request), pk=pk, end=data["end"], today=_today())).data
        )


class StandardsView(APIView):
    @extend_schema(tags=TAG, summary="重庆市救助保障标准（按执行日期）", responses={200: StandardSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(StandardSerializer(sel.standards_table(), many=True).data)

    @extend_schema(
        tags=TAG,
        summary="新增或更正标准（系统管理员）",
        request=StandardInSerializer,
        responses={201: StandardSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = valid_body(StandardInSerializer, request)
        return Response(StandardSerializer(svc.standard_set(actor=actor(request), **data)).data, status=201)


class ChildMatchesView(APIView):
    @extend_schema(
        tags=TAG,
        summary="为儿童的待帮扶需求推荐服务（附理由）",
        responses={200: SuggestionSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        if not user.can("support.manage"):
            raise PermissionRefused()
        child = child_get(user, pk)
        return Response(SuggestionSerializer(match_services(child=child, on=_today()), many=True).data)


class ProvidersView(APIView):
    @extend_schema(tags=TAG, summary="服务提供方", responses={200: ProviderSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(ProviderSerializer(sel.providers_for(actor(request)), many=True).data)

    @extend_schema(
        tags=TAG, summary="新增服务提供方", request=ProviderInSerializer, responses={201: ProviderSerializer, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        data = valid_body(ProviderInSerializer, request)
        region = data.pop("region")
        return Response(
            ProviderSerializer(svc.provider_create(actor=actor(request), region_code=region, **data)).data, status=201
        )


class MemberInSerializer(serializers.Serializer):
    user = serializers.IntegerField(help_text="a user with the role 社会组织工作者")


class ProviderMembersView(APIView):
    @extend_schema(
        tags=TAG, summary="把服务提供方人员账号关联到机构", request=MemberInSerializer, responses={201: dict, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(MemberInSerializer, request)
        member = svc.provider_member_add(actor=actor(request), provider_pk=pk, user_pk=data["user"])
        return Response({"provider": member.provider_id, "user": member.user_id}, status=201)


class ServicesView(APIView):
    @extend_schema(tags=TAG, summary="服务目录（覆盖本辖区的服务）", responses={200: ServiceSerializer(many=True)})
    def get(self, request: Request) -> Response:
        qs = sel.services_for(actor(request)).prefetch_related("areas")[:500]
        return Response(ServiceSerializer(qs, many=True).data)

    @extend_schema(
        tags=TAG, summary="新增服务项目", request=ServiceInSerializer, responses={201: ServiceSerializer, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        data = valid_body(ServiceInSerializer, request)
        provider = data.pop("provider")
        return Response(
            ServiceSerializer(svc.service_create(actor=actor(request), provider_pk=provider, **data)).data, status=201
        )


class ReferralsView(APIView):
    @extend_schema(
        tags=TAG,
        operation_id="v1_support_referrals_list",
        summary="转介列表：服务提供方看转介给本机构的；工作人员看本辖区的",
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        user = actor(request)
        if user.can("support.provide"):
            referrals = list(sel.referrals_for_provider(user))
            for r in referrals:
                access_record(actor=user, action="provider.view", object_type="child", object_id=r.child_id)
            return Response(ProviderReferralSerializer(referrals, many=True).data)
        if not user.can("support.manage"):
            raise PermissionRefused()
        qs = sel.referrals_for_workforce(user).order_by("-created_at")[:500]
        return Response(ReferralSerializer(qs, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="转介儿童到服务（服务区域、名额、适用条件不符时拒绝）",
        request=ReferralInSerializer,
        responses={201: ReferralSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = valid_body(ReferralInSerializer, request)
        referral = svc.referral_create(
            actor=actor(request),
            child_pk=data["child"],
            service_pk=data["service"],
            need_pk=data["need"],
            reason=data["reason"],
            explanation=data["explanation"],
            on=_today(),
        )
        return Response(ReferralSerializer(referral).data, status=201)


class ReferralDetailView(APIView):
    @extend_schema(tags=TAG, summary="一条转介", responses={200: dict, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        if user.can("support.provide"):
            return Response(ProviderReferralSerializer(sel.referral_for_provider(user, pk)).data)
        return Response(ReferralSerializer(sel.referral_for_workforce(user, pk)).data)


class ReferralRespondView(APIView):
    @extend_schema(
        tags=TAG,
        summary="服务提供方接收或拒绝转介",
        request=RespondInSerializer,
        responses={200: ProviderReferralSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(RespondInSerializer, request)
        user = actor(request)
        svc.referral_respond(actor=user, pk=pk, **data)
        return Response(
            ProviderReferralSerializer(sel.referral_for_provider(user, pk)).data
            if data["accept"]
            else {"id": pk, "status": "declined"}
        )


class ReferralDeliverView(APIView):
    @extend_schema(
        tags=TAG,
        summary="服务提供方登记服务完成",
        request=DeliverInSerializer,
        responses={200: ProviderReferralSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(DeliverInSerializer, request)
        user = actor(request)
        svc.referral_deliver(actor=user, pk=pk, today=_today(), **data)
        return Response(ProviderReferralSerializer(sel.referral_for_provider(user, pk)).data)


class ReferralCancelView(APIView):
    @extend_schema(
        tags=TAG, summary="撤回转介", request=ReasonInSerializer, responses={200: ReferralSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(ReasonInSerializer, request)
        return Response(
            ReferralSerializer(svc.referral_cancel(actor=actor(request), pk=pk, reason=data["reason"])).data
        )


class PostInSerializer(serializers.Serializer):
    posted = serializers.BooleanField(default=True, help_text="false withdraws the posting")


class NeedPostView(APIView):
    @extend_schema(
        tags=TAG,
        summary="发布需求供服务机构接单（posted=false 撤回）",
        request=PostInSerializer,
        responses={200: NeedSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        posted = str(body.get("posted", "true")).lower() not in ("false", "0", "")
        return Response(NeedSerializer(svc.need_post(actor=actor(request), pk=pk, posted=posted)).data)


class PostingsView(APIView):
    @extend_schema(
        tags=TAG,
        summary="服务提供方：本机构服务区域内可接单的需求（不含儿童姓名）",
        responses={200: PostingSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        user = actor(request)
        if not user.can("support.provide"):
            raise PermissionRefused()
        return Response(PostingSerializer(sel.postings_for_provider(user, on=_today()), many=True).data)


class PostingTakeView(APIView):
    @extend_schema(
        tags=TAG, summary="接单", request=TakeInSerializer, responses={201: ProviderReferralSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(TakeInSerializer, request)
        user = actor(request)
        referral = svc.need_take(actor=user, need_pk=pk, service_pk=data["service"], on=_today())
        return Response(ProviderReferralSerializer(sel.referral_for_provider(user, referral.pk)).data, status=201)


class ChildPlanView(APIView):
    @extend_schema(tags=TAG, summary="儿童当前的关爱帮扶方案", responses={200: PlanSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        user = actor(request)
        plan = sel.current_plan(user, child_get(user, pk))
        if plan is None:
            return Response(None)
        return Response(PlanSerializer(plan).data)

    @extend_schema(
        tags=TAG, summary="根据需求和匹配生成方案草稿", request=None, responses={201: PlanSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        plan = svc.plan_draft(actor=actor(request), child_pk=pk, on=_today())
        return Response(PlanSerializer(plan).data, status=201)


class PlanActionsView(APIView):
    @extend_schema(
        tags=TAG,
        summary="方案新增措施（须指定负责人）",
        request=ActionInSerializer,
        responses={201: PlanActionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(ActionInSerializer, request)
        action = svc.plan_action_add(
            actor=actor(request),
            plan_pk=pk,
            kind=data["kind"],
            title=data["title"],
            owner_pk=data["owner"],
            due_on=data["due_on"],
            need_pk=data["need"],
            service_pk=data["service"],
            benefit=data["benefit"],
            partner_name=data["partner_name"],
        )
        return Response(PlanActionSerializer(action).data, status=201)


class PlanActionUpdateView(APIView):
    @extend_schema(
        tags=TAG,
        summary="更新措施进度（开始转介类措施即发出转介）",
        request=ActionUpdateInSerializer,
        responses={200: PlanActionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(ActionUpdateInSerializer, request)
        return Response(
            PlanActionSerializer(svc.plan_action_update(actor=actor(request), pk=pk, on=_today(), **data)).data
        )


class PlanActivateView(APIView):
    @extend_schema(tags=TAG, summary="启动方案", request=None, responses={200: PlanSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        return Response(PlanSerializer(svc.plan_activate(actor=actor(request), pk=pk, on=_today())).data)


class PlanReviewView(APIView):
    @extend_schema(
        tags=TAG,
        summary="方案评估（可结束方案）",
        request=ReviewInSerializer,
        responses={200: PlanSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(ReviewInSerializer, request)
        user = actor(request)
        svc.plan_review(actor=user, pk=pk, on=_today(), **data)
        return Response(PlanSerializer(sel.plan_get(user, pk)).data)


class PlansBatchView(APIView):
    @extend_schema(
        tags=TAG,
        summary="为一个区域批量生成方案草稿（后台任务）",
        request=BatchInSerializer,
        responses={202: dict, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        from guanai.accounts.scope import covers
        from guanai.jobs.runner import job_enqueue

        data = valid_body(BatchInSerializer, request)
        user = actor(request)
        if not user.can("support.manage"):
            raise PermissionRefused()
        if not covers(user, data["region"]):
            raise PermissionRefused("该区域不在您的管辖范围内")
        job = job_enqueue(
            kind="support.plans_draft",
            title="批量生成关爱帮扶方案草稿",
            params={"actor": user.pk, "region": data["region"], "on": _today().isoformat()},
            actor=user,
        )
        return Response({"job": job.pk, "url": f"/jobs/{job.pk}/"}, status=202)


class ActivitiesView(APIView):
    @extend_schema(tags=TAG, summary="关爱活动", responses={200: ActivitySerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(ActivitySerializer(sel.activities_for(actor(request))[:200], many=True).data)

    @extend_schema(
        tags=TAG, summary="新增关爱活动", request=ActivityInSerializer, responses={201: ActivitySerializer, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        data = valid_body(ActivityInSerializer, request)
        activity = svc.activity_create(
            actor=actor(request),
            title=data["title"],
            kind=data["kind"],
            region_code=data["region"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            programme=data["programme"],
            place=data["place"],
            provider_pk=data["provider"],
        )
        return Response(ActivitySerializer(activity).data, status=201)


class ActivityInviteView(APIView):
    @extend_schema(tags=TAG, summary="邀请目标儿童", request=InviteInSerializer, responses={200: dict, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(InviteInSerializer, request)
        return Response({"invited": svc.activity_invite(actor=actor(request), pk=pk, child_ids=data["children"])})


class ActivityAttendanceView(APIView):
    @extend_schema(tags=TAG, summary="登记出席", request=AttendanceInSerializer, responses={200: dict, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        data = valid_body(AttendanceInSerializer, request)
        try:
            attended = {int(k): v for k, v in data["attended"].items()}
        except ValueError:
            from guanai.lib.errors import DomainError

            raise DomainError("invalid", "儿童编号无效") from None
        return Response({"changed": svc.activity_attendance(actor=actor(request), pk=pk, attended=attended)})

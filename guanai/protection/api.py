"""REST endpoints for child protection: mandatory reports, cases, assessments, entrusted-care checks,
placements, court and procuratorate actions, risk grades. Thin: parse, call one service or selector, serialise.

A report's representation depends on who asks: its reporter gets status and feedback only; the local workforce
gets the content; handling departments also get the reporter's identity (see ``selectors.report_access``).
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from guanai.api.auth import actor
from guanai.api.common import ERRORS, valid_body
from guanai.lib.errors import DomainError
from guanai.protection import services as svc
from guanai.protection.models import (
    Assessment,
    CarerAction,
    CarerCheck,
    Case,
    CaseNote,
    CaseTask,
    ChildRisk,
    Department,
    InstrumentVersion,
    LegalAction,
    Placement,
    Report,
    ReportFeedback,
    ReportRouting,
)
from guanai.protection.selectors import (
    cases_for,
    instrument_current,
    reports_filed_by,
    risk_colour,
    risk_for,
    routings_inbox,
    situation_labels,
    situations,
)
from guanai.registry.selectors import children_for

# --- reports -----------------------------------------------------------------------------------------------


class ReportInSerializer(serializers.Serializer):
    situations = serializers.ListField(
        child=serializers.ChoiceField(choices=[s["id"] for s in situations()]),
        allow_empty=True,
        help_text="ids of the nine reportable situations (at least one)",
    )
    description = serializers.CharField(allow_blank=True)
    reporter_phone = serializers.CharField(help_text="contact phone of the reporter (stored encrypted)")
    reporter_name = serializers.CharField(required=False, allow_blank=True, default="")
    reporter_unit = serializers.CharField(required=False, allow_blank=True, default="")
    reporter_kind = serializers.CharField(required=False, allow_blank=True, default="")
    child = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="registry child in scope")
    region_code = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="where the child is (district or below)"
    )
    child_name = serializers.CharField(required=False, allow_blank=True, default="")
    child_sex = serializers.CharField(required=False, allow_blank=True, default="", help_text="M, F or empty")
    child_age = serializers.IntegerField(required=False, allow_null=True, default=None)
    child_location = serializers.CharField(required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    occurred_place = serializers.CharField(required=False, allow_blank=True, default="")
    school_involved = serializers.BooleanField(required=False, default=False)
    client_key = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


class FeedbackSerializer(serializers.ModelSerializer):
    department = serializers.CharField(source="routing.get_department_display")

    class Meta:
        model = ReportFeedback
        fields = ["department", "text", "concludes", "at"]


class ReporterReportSerializer(serializers.ModelSerializer):
    """What the reporter sees: status and the outcome fed back, nothing of the handling."""

    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    situation_labels = serializers.SerializerMethodField()
    feedback = FeedbackSerializer(many=True)

    class Meta:
        model = Report
        fields = ["id", "number", "filed_at", "situation_labels", "status", "status_label", "feedback"]

    def get_situation_labels(self, obj: Report) -> list[str]:
        return situation_labels(obj.situations)


class RoutingSerializer(serializers.ModelSerializer):
    # Plain strings, not enums: several models share the field names "status" and "kind".
    department = serializers.CharField()
    status = serializers.CharField()
    department_label = serializers.CharField(source="get_department_display")
    region_name = serializers.CharField(source="region.name")
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = ReportRouting
        fields = [
            "id",
            "department",
            "department_label",
            "region",
            "region_name",
            "status",
            "status_label",
            "created_at",
            "accept_due",
            "result_due",
            "accepted_at",
            "first_result_at",
            "transfer_reason",
            "transferred_to",
            "accept_escalated_at",
            "result_escalated_at",
        ]


class ReporterIdentitySerializer(serializers.Serializer):
    name = serializers.CharField()
    unit = serializers.CharField()
    phone = serializers.CharField()


class ReportDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="report.pk")
    number = serializers.CharField(source="report.number")
    status = serializers.CharField(source="report.status")
    status_label = serializers.CharField(source="report.get_status_display")
    filed_at = serializers.DateTimeField(source="report.filed_at")
    situations = serializers.ListField(child=serializers.CharField(), source="report.situations")
    situation_labels = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField(source="report.description")
    occurred_at = serializers.DateTimeField(source="report.occurred_at", allow_null=True)
    occurred_place = serializers.CharField(source="report.occurred_place")
    region = serializers.CharField(source="report.region_id")
    region_name = serializers.CharField(source="report.region.name")
    child = serializers.IntegerField(source="report.child_id", allow_null=True)
    child_label = serializers.CharField(source="report.child_label")
    child_sex = serializers.CharField(source="report.child_sex")
    child_age = serializers.IntegerField(source="report.child_age", allow_null=True)
    child_location = serializers.CharField(source="report.child_location")
    school_involved = serializers.BooleanField(source="report.school_involved")
    reporter_kind = serializers.CharField(allow_blank=True, help_text="handling departments only")
    reporter = ReporterIdentitySerializer(source="identity", allow_null=True, help_text="handling departments only")
    routings = RoutingSerializer(many=True)
    feedback = FeedbackSerializer(many=True)
    can_handle = serializers.ListField(child=serializers.IntegerField(), help_text="routing ids the caller handles")


class InboxSerializer(RoutingSerializer):
    report = serializers.IntegerField(source="report_id")
    number = serializers.CharField(source="report.number")
    filed_at = serializers.DateTimeField(source="report.filed_at")
    situation_labels = serializers.SerializerMethodField()
    place = serializers.CharField(source="report.region.name")

    class Meta(RoutingSerializer.Meta):
        fields = [*RoutingSerializer.Meta.fields, "report", "number", "filed_at", "situation_labels", "place"]

    def get_situation_labels(self, obj: ReportRouting) -> list[str]:
        return situation_labels(obj.report.situations)


class TransferInSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)
    department = serializers.ChoiceField(choices=Department.choices, required=False, default="")
    region_code = serializers.CharField(required=False, allow_blank=True, default="")


class FeedbackInSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)
    concludes = serializers.BooleanField(required=False, default=False)


class ReportsView(APIView):
    @extend_schema(
        summary="我提交的强制报告（状态和处理结果反馈）", responses={200: ReporterReportSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        rows = reports_filed_by(actor(request)).prefetch_related("feedback__routing")[:200]
        return Response(ReporterReportSerializer(rows, many=True).data)

    @extend_schema(
        summary="提交强制报告（立即分送儿童所在地公安、民政，涉及学校时分送教育）",
        request=ReportInSerializer,
        responses={201: ReporterReportSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        v = valid_body(ReportInSerializer, request)
        child = v.pop("child")
        report = svc.report_file(actor=actor(request), data=svc.ReportData(**v, child_pk=child), now=timezone.now())
        return Response(ReporterReportSerializer(report).data, status=201)


class InboxView(APIView):
    @extend_schema(
        summary="本部门、本辖区收到的强制报告",
        parameters=[OpenApiParameter("status", str, description="pending/accepted/transferred/concluded")],
        responses={200: InboxSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        rows = routings_inbox(actor(request)).order_by("status", "accept_due")
        status = request.query_params.get("status")
        if status:
            rows = rows.filter(status=status)
        return Response(InboxSerializer(rows[:500], many=True).data)


class ReportDetailView(APIView):
    @extend_schema(
        summary="强制报告详情（每次查看留痕；报告人信息仅对办理部门可见）",
        responses={200: ReportDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        view = svc.report_view(user=actor(request), pk=pk)
        if not view.access.content:
            return Response(ReporterReportSerializer(view.report).data)
        data = {
            "report": view.report,
            "situation_labels": view.situation_labels,
            "identity": view.identity,
            # Even the kind of unit (a school, a hospital) can point to the reporter: handlers only.
            "reporter_kind": view.report.reporter_kind if view.identity else "",
            "routings": view.routings,
            "feedback": view.feedback,
            "can_handle": sorted(view.access.routing_ids),
        }
        return Response(ReportDetailSerializer(data).data)


class RoutingAcceptView(APIView):
    @extend_schema(summary="受理", request=None, responses={200: RoutingSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        routing = svc.report_accept(actor=actor(request), routing_pk=pk, now=timezone.now())
        return Response(RoutingSerializer(routing).data)


class RoutingTransferView(APIView):
    @extend_schema(
        summary="转交其他辖区或部门（须说明理由）",
        request=TransferInSerializer,
        responses={201: RoutingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(TransferInSerializer, request)
        new = svc.report_transfer(actor=actor(request), routing_pk=pk, now=timezone.now(), **v)
        return Response(RoutingSerializer(new).data, status=201)


class RoutingFeedbackView(APIView):
    @extend_schema(
        summary="向报告人反馈处理结果（concludes=true 办结）",
        request=FeedbackInSerializer,
        responses={201: FeedbackSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(FeedbackInSerializer, request)
        feedback = svc.report_feedback(actor=actor(request), routing_pk=pk, now=timezone.now(), **v)
        return Response(FeedbackSerializer(feedback).data, status=201)


# --- cases -------------------------------------------------------------------------------------------------


class CaseNoteSerializer(serializers.ModelSerializer):
    kind = serializers.CharField()
    author = serializers.CharField(source="author.shown_name")

    class Meta:
        model = CaseNote
        fields = ["id", "kind", "text", "author", "at"]


class CaseTaskSerializer(serializers.ModelSerializer):
    owner_name = serializers.CharField(source="owner.shown_name")
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = CaseTask
        fields = ["id", "title", "owner", "owner_name", "due_date", "status", "status_label", "done_at", "result"]


class PlacementSerializer(serializers.ModelSerializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Placement
        fields = ["id", "kind", "kind_label", "start", "end", "responsible_body", "note"]


class LegalActionSerializer(serializers.ModelSerializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    document_url = serializers.SerializerMethodField()

    class Meta:
        model = LegalAction
        fields = [
            "id",
            "kind",
            "kind_label",
            "body",
            "filed_on",
            "decided_on",
            "result",
            "person",
            "effective_on",
            "document_name",
            "document_url",
        ]

    def get_document_url(self, obj: LegalAction) -> str:
        return f"/protection/legal/{obj.pk}/document/" if obj.document else ""


class CaseSerializer(serializers.ModelSerializer):
    number = serializers.CharField()
    child_label = serializers.CharField()
    # DRF's Field declares `source` too; here it is the API field of that name.
    source = serializers.CharField()  # type: ignore[assignment]
    stage = serializers.CharField()
    department = serializers.CharField()
    stage_label = serializers.CharField(source="get_stage_display")
    source_label = serializers.CharField(source="get_source_display")
    department_label = serializers.CharField(source="get_department_display")

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "title",
            "child",
            "child_label",
            "region",
            "source",
            "source_label",
            "report",
            "problem",
            "assessment",
            "stage",
            "stage_label",
            "department",
            "department_label",
            "owner",
            "close_reason",
            "close_requested_at",
            "closed_at",
            "created_at",
        ]


class CaseDetailSerializer(CaseSerializer):
    notes = CaseNoteSerializer(many=True)
    tasks = CaseTaskSerializer(many=True)
    placements = PlacementSerializer(many=True)
    legal_actions = LegalActionSerializer(many=True)

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "notes", "tasks", "placements", "legal_actions"]


class CaseInSerializer(serializers.Serializer):
    source = serializers.ChoiceField(  # type: ignore[assignment]  # the API field, not DRF's Field.source
        choices=Case.Source.choices, default=Case.Source.MANUAL
    )
    title = serializers.CharField(required=False, allow_blank=True, default="")
    child = serializers.IntegerField(required=False, allow_null=True, default=None)
    report = serializers.IntegerField(required=False, allow_null=True, default=None)
    problem = serializers.IntegerField(required=False, allow_null=True, default=None)
    assessment = serializers.IntegerField(required=False, allow_null=True, default=None)
    subject = serializers.CharField(required=False, allow_blank=True, default="")
    region_code = serializers.CharField(required=False, allow_blank=True, default="")
    department = serializers.ChoiceField(choices=Department.choices, default=Department.CIVIL_AFFAIRS)


class StageInSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Case.Stage.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CaseTransferInSerializer(serializers.Serializer):
    department = serializers.ChoiceField(choices=Department.choices)
    reason = serializers.CharField(allow_blank=True)
    region_code = serializers.CharField(required=False, allow_blank=True, default="")


class TextInSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True)


class TaskInSerializer(serializers.Serializer):
    title = serializers.CharField(allow_blank=True)
    owner = serializers.IntegerField()
    due_date = serializers.DateField()


class TaskDoneInSerializer(serializers.Serializer):
    result = serializers.CharField(allow_blank=True)
    cancel = serializers.BooleanField(required=False, default=False)


class CloseInSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class CloseDecisionInSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PlacementInSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="; ".join(f"{v} {label}" for v, label in Placement.Kind.choices))
    start = serializers.DateField()
    end = serializers.DateField(required=False, allow_null=True, default=None)
    responsible_body = serializers.CharField(allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PlacementEndInSerializer(serializers.Serializer):
    end = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class LegalInSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="; ".join(f"{v} {label}" for v, label in LegalAction.Kind.choices))
    body = serializers.CharField(allow_blank=True)
    filed_on = serializers.DateField()
    decided_on = serializers.DateField(required=False, allow_null=True, default=None)
    result = serializers.CharField(required=False, allow_blank=True, default="")
    person = serializers.IntegerField(required=False, allow_null=True, default=None)
    effective_on = serializers.DateField(required=False, allow_null=True, default=None)
    document = serializers.FileField(required=False, allow_null=True, default=None)


class LegalDecisionInSerializer(serializers.Serializer):
    decided_on = serializers.DateField()
    result = serializers.CharField(allow_blank=True)
    effective_on = serializers.DateField(required=False, allow_null=True, default=None)
    document = serializers.FileField(required=False, allow_null=True, default=None)


class CasesView(APIView):
    @extend_schema(
        summary="本辖区的个案",
        parameters=[OpenApiParameter("open", bool, description="只看未结案")],
        responses={200: CaseSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        rows = cases_for(actor(request)).select_related("child").order_by("-created_at", "-id")
        if request.query_params.get("open") in ("1", "true"):
            rows = rows.exclude(stage=Case.Stage.CLOSED)
        return Response(CaseSerializer(rows[:500], many=True).data)

    @extend_schema(
        summary="立案（来自强制报告、走访问题、评估或手动）",
        request=CaseInSerializer,
        responses={201: CaseSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        v = valid_body(CaseInSerializer, request)
        case = svc.case_open(
            actor=actor(request),
            now=timezone.now(),
            source=v["source"],
            title=v["title"],
            child_pk=v["child"],
            report_pk=v["report"],
            problem_pk=v["problem"],
            assessment_pk=v["assessment"],
            subject=v["subject"],
            region_code=v["region_code"],
            department=v["department"],
        )
        return Response(CaseSerializer(case).data, status=201)


class CaseDetailView(APIView):
    @extend_schema(summary="个案详情（查看留痕）", responses={200: CaseDetailSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(CaseDetailSerializer(svc.case_view(user=actor(request), pk=pk)).data)


class CaseStageView(APIView):
    @extend_schema(summary="推进个案阶段", request=StageInSerializer, responses={200: CaseSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(StageInSerializer, request)
        case = svc.case_stage_change(actor=actor(request), case_pk=pk, now=timezone.now(), **v)
        return Response(CaseSerializer(case).data)


class CaseTransferView(APIView):
    @extend_schema(summary="转交其他部门", request=CaseTransferInSerializer, responses={200: CaseSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(CaseTransferInSerializer, request)
        case = svc.case_transfer(actor=actor(request), case_pk=pk, now=timezone.now(), **v)
        return Response(CaseSerializer(case).data)


class CaseNotesView(APIView):
    @extend_schema(summary="添加个案记录", request=TextInSerializer, responses={201: CaseNoteSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(TextInSerializer, request)
        note = svc.case_note_add(actor=actor(request), case_pk=pk, text=v["text"], now=timezone.now())
        return Response(CaseNoteSerializer(note).data, status=201)


class CaseTasksView(APIView):
    @extend_schema(summary="添加个案任务", request=TaskInSerializer, responses={201: CaseTaskSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(TaskInSerializer, request)
        task = svc.case_task_add(
            actor=actor(request),
            case_pk=pk,
            title=v["title"],
            owner_pk=v["owner"],
            due_date=v["due_date"],
            today=timezone.localdate(),
            now=timezone.now(),
        )
        return Response(CaseTaskSerializer(task).data, status=201)


class TaskCompleteView(APIView):
    @extend_schema(
        summary="办结（或取消）任务", request=TaskDoneInSerializer, responses={200: CaseTaskSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(TaskDoneInSerializer, request)
        task = svc.case_task_complete(actor=actor(request), task_pk=pk, now=timezone.now(), **v)
        return Response(CaseTaskSerializer(task).data)


class CaseCloseView(APIView):
    @extend_schema(
        summary="申请结案（有未完成任务时不能申请）",
        request=CloseInSerializer,
        responses={200: CaseSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(CloseInSerializer, request)
        case = svc.case_close_request(actor=actor(request), case_pk=pk, reason=v["reason"], now=timezone.now())
        return Response(CaseSerializer(case).data)


class CaseCloseDecisionView(APIView):
    @extend_schema(
        summary="结案审批（申请人以外的督导员或区县民政）",
        request=CloseDecisionInSerializer,
        responses={200: CaseSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(CloseDecisionInSerializer, request)
        case = svc.case_close_decide(actor=actor(request), case_pk=pk, now=timezone.now(), **v)
        return Response(CaseSerializer(case).data)


class PlacementsView(APIView):
    @extend_schema(
        summary="记录临时监护安置", request=PlacementInSerializer, responses={201: PlacementSerializer, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(PlacementInSerializer, request)
        row = svc.placement_add(actor=actor(request), case_pk=pk, now=timezone.now(), **v)
        return Response(PlacementSerializer(row).data, status=201)


class PlacementEndView(APIView):
    @extend_schema(summary="结束安置", request=PlacementEndInSerializer, responses={200: PlacementSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(PlacementEndInSerializer, request)
        row = svc.placement_end(actor=actor(request), placement_pk=pk, now=timezone.now(), **v)
        return Response(PlacementSerializer(row).data)


class LegalActionsView(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        summary="记录法院、检察院措施（可上传文书：PDF、JPEG、PNG）",
        request={"multipart/form-data": LegalInSerializer, "application/json": LegalInSerializer},
        responses={201: LegalActionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(LegalInSerializer, request)
        row = svc.legal_action_record(
            actor=actor(request),
            case_pk=pk,
            kind=v["kind"],
            body=v["body"],
            filed_on=v["filed_on"],
            decided_on=v["decided_on"],
            result=v["result"],
            person_pk=v["person"],
            effective_on=v["effective_on"],
            document=v["document"],
            today=timezone.localdate(),
            now=timezone.now(),
        )
        return Response(LegalActionSerializer(row).data, status=201)


class LegalDecisionView(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        summary="记录措施的决定结果",
        request={"multipart/form-data": LegalDecisionInSerializer, "application/json": LegalDecisionInSerializer},
        responses={200: LegalActionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(LegalDecisionInSerializer, request)
        row = svc.legal_action_decide(
            actor=actor(request), action_pk=pk, today=timezone.localdate(), now=timezone.now(), **v
        )
        return Response(LegalActionSerializer(row).data)


# --- assessments -------------------------------------------------------------------------------------------


class InstrumentVersionSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="instrument.code")
    name = serializers.CharField(source="instrument.name")

    class Meta:
        model = InstrumentVersion
        fields = ["id", "code", "name", "version", "definition", "source", "published_at"]


class AssessmentSerializer(serializers.ModelSerializer):
    version_number = serializers.IntegerField(source="version.version")

    class Meta:
        model = Assessment
        fields = [
            "id",
            "child",
            "version",
            "version_number",
            "answers",
            "total",
            "max_total",
            "percent",
            "result",
            "result_label",
            "explanation",
            "vetoes",
            "breakdown",
            "note",
            "assessed_on",
            "reassess_due",
            "support_problem",
            "created_at",
        ]


class AssessmentInSerializer(serializers.Serializer):
    child = serializers.IntegerField()
    answers = serializers.DictField(child=serializers.CharField(), help_text="item id → option value")
    assessed_on = serializers.DateField(required=False, allow_null=True, default=None)
    version = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="the version the form was filled with"
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class InstrumentView(APIView):
    @extend_schema(summary="评估工具的现行版本", responses={200: InstrumentVersionSerializer, **ERRORS})
    def get(self, request: Request, code: str) -> Response:
        return Response(InstrumentVersionSerializer(instrument_current(code)).data)


class AssessmentsView(APIView):
    @extend_schema(
        summary="提交家庭监护能力评估，返回评分结果",
        request=AssessmentInSerializer,
        responses={201: AssessmentSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        v = valid_body(AssessmentInSerializer, request)
        assessment = svc.assessment_submit(
            actor=actor(request),
            child_pk=v["child"],
            answers=dict(v["answers"]),
            assessed_on=v["assessed_on"] or timezone.localdate(),
            version_pk=v["version"],
            note=v["note"],
            now=timezone.now(),
        )
        return Response(AssessmentSerializer(assessment).data, status=201)


class AssessmentDetailView(APIView):
    @extend_schema(summary="评估结果（查看留痕）", responses={200: AssessmentSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        return Response(AssessmentSerializer(svc.assessment_view(user=actor(request), pk=pk)).data)


# --- entrusted care ----------------------------------------------------------------------------------------


class CarerActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CarerAction
        fields = ["id", "kind", "on", "note", "created_at"]


class CarerCheckSerializer(serializers.ModelSerializer):
    actions = CarerActionSerializer(many=True)

    class Meta:
        model = CarerCheck
        fields = [
            "id",
            "child",
            "carer",
            "carer_name",
            "answers",
            "passed",
            "failed_items",
            "checked_on",
            "follow_up_due",
            "note",
            "actions",
        ]


class CarerCheckInSerializer(serializers.Serializer):
    child = serializers.IntegerField()
    carer = serializers.IntegerField(required=False, allow_null=True, default=None)
    carer_name = serializers.CharField(required=False, allow_blank=True, default="")
    answers = serializers.DictField(child=serializers.BooleanField())
    checked_on = serializers.DateField(required=False, allow_null=True, default=None)
    action = serializers.CharField(required=False, allow_blank=True, default="")
    action_note = serializers.CharField(required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CarerActionInSerializer(serializers.Serializer):
    kind = serializers.CharField()
    on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CarerChecksView(APIView):
    @extend_schema(
        summary="委托照护能力核查", request=CarerCheckInSerializer, responses={201: CarerCheckSerializer, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        v = valid_body(CarerCheckInSerializer, request)
        check = svc.carer_check_record(
            actor=actor(request),
            child_pk=v["child"],
            carer_pk=v["carer"],
            carer_name=v["carer_name"],
            answers=dict(v["answers"]),
            checked_on=v["checked_on"] or timezone.localdate(),
            action=v["action"],
            action_note=v["action_note"],
            note=v["note"],
            now=timezone.now(),
        )
        return Response(CarerCheckSerializer(check).data, status=201)


class CarerActionsView(APIView):
    @extend_schema(
        summary="记录核查不合格后的跟进措施",
        request=CarerActionInSerializer,
        responses={201: CarerActionSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        v = valid_body(CarerActionInSerializer, request)
        row = svc.carer_action_add(actor=actor(request), check_pk=pk, now=timezone.now(), **v)
        return Response(CarerActionSerializer(row).data, status=201)


# --- risk --------------------------------------------------------------------------------------------------


class RiskSerializer(serializers.Serializer):
    child = serializers.IntegerField()
    grade = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the API field, not DRF's Field.label
    colour = serializers.CharField()
    explanation = serializers.CharField()


class RiskView(APIView):
    @extend_schema(
        summary="儿童风险等级（高/中/低）及说明",
        parameters=[OpenApiParameter("child", str, description="儿童ID，逗号分隔（最多500个）")],
        responses={200: RiskSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        raw = [x for x in request.query_params.get("child", "").split(",") if x.strip()]
        if not raw or len(raw) > 500 or not all(x.strip().isdigit() for x in raw):
            raise DomainError("bad_children", "请用逗号分隔的儿童ID（1至500个）")
        ids = list(children_for(actor(request)).filter(pk__in=[int(x) for x in raw]).values_list("pk", flat=True))
        grades = risk_for(ids)
        names = dict(ChildRisk.Grade.choices)
        rows = [
            {"child": pk, "grade": g, "label": names.get(g, g), "colour": risk_colour(g), "explanation": text}
            for pk, (g, text) in sorted(grades.items())
        ]
        return Response(RiskSerializer(rows, many=True).data)

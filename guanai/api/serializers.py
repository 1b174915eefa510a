from __future__ import annotations

from typing import Any

from rest_framework import serializers

from guanai.accounts.models import User
from guanai.audit.models import AccessEvent, AuditEvent
from guanai.regions.models import Region
from guanai.registry.models import Child, ChildRelation, HukouType, PersonStatus, Sex
from guanai.registry.services import EXIT_REASONS


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="stable English code")
    message = serializers.CharField(help_text="message for users, in Chinese")
    detail = serializers.JSONField(allow_null=True, required=False)


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorSerializer()


class MeSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True, default="")
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "username",
            "display_name",
            "role",
            "role_label",
            "region",
            "region_name",
            "organisation",
            "permissions",
        ]

    def get_permissions(self, obj: User) -> list[str]:
        role = obj.role_obj()
        return sorted(role.permissions) if role else []


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "is_active", "successor", "is_demo"]


class ChildListSerializer(serializers.ModelSerializer):
    village_name = serializers.CharField(source="village.name", read_only=True)
    id_number = serializers.CharField(source="id_number_mask", read_only=True, help_text="masked")
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Child
        fields = [
            "id",
            "child_no",
            "name",
            "sex",
            "birth_date",
            "village",
            "village_name",
            "id_number",
            "status",
            "status_label",
        ]


class ChildDetailSerializer(ChildListSerializer):
    class Meta(ChildListSerializer.Meta):
        fields = [
            *ChildListSerializer.Meta.fields,
            "ethnicity",
            "hukou_type",
            "hukou_address",
            "current_address",
            "health_status",
            "disability_type",
            "disability_grade",
            "serious_illness",
            "schooling",
            "school_name",
            "grade",
            "boarding",
            "exit_reason",
            "exit_date",
            "version",
            "updated_at",
        ]


class RevealRequestSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=["id_number"])


class RevealResponseSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor_username",
            "action",
            "object_type",
            "object_id",
            "summary",
            "before",
            "after",
            "request_id",
        ]


class AccessEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccessEvent
        fields = ["id", "at", "actor_username", "action", "object_type", "object_id", "field", "request_id"]


class GroupSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField(source="get_code_display")  # type: ignore[assignment]
    explanation = serializers.CharField()
    rule_id = serializers.CharField()
    rule_version = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]
    derived_on = serializers.DateField()


class StatusSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PersonStatus.Kind.choices)
    since = serializers.DateField(required=False, allow_null=True)
    until = serializers.DateField(required=False, allow_null=True)
    work_place = serializers.CharField(required=False, allow_blank=True, default="")
    cross_county = serializers.BooleanField(required=False, allow_null=True, default=None)
    disability_type = serializers.CharField(required=False, allow_blank=True, default="")
    disability_grade = serializers.IntegerField(required=False, allow_null=True, default=None)


class PersonInSerializer(serializers.Serializer):
    relation = serializers.ChoiceField(choices=ChildRelation.Relation.choices)
    name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, default="")
    is_guardian = serializers.BooleanField(required=False, default=False)
    is_entrusted_carer = serializers.BooleanField(required=False, default=False)
    statuses = StatusSerializer(many=True, required=False, default=list)


class RelationOutSerializer(serializers.Serializer):
    person_id = serializers.IntegerField(source="person.pk")
    relation = serializers.CharField()
    relation_label = serializers.CharField(source="get_relation_display")
    name = serializers.CharField(source="person.name")
    id_number = serializers.CharField(source="person.id_number_mask", help_text="masked")
    phone = serializers.CharField(source="person.phone_mask", help_text="masked")
    is_guardian = serializers.BooleanField()
    is_entrusted_carer = serializers.BooleanField()
    statuses = StatusSerializer(source="person.statuses.all", many=True)


class ChildInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_date = serializers.DateField()
    village_code = serializers.CharField(max_length=12)
    hukou_type = serializers.ChoiceField(choices=HukouType.choices)
    id_number = serializers.CharField(required=False, allow_blank=True, default="")
    ethnicity = serializers.CharField(required=False, default="汉族")
    hukou_address = serializers.CharField(required=False, allow_blank=True, default="")
    current_address = serializers.CharField(required=False, allow_blank=True, default="")
    health_status = serializers.CharField(required=False, allow_blank=True, default="健康")
    disability_type = serializers.CharField(required=False, allow_blank=True, default="")
    disability_grade = serializers.IntegerField(required=False, allow_null=True, default=None)
    serious_illness = serializers.CharField(required=False, allow_blank=True, default="")
    schooling = serializers.CharField(required=False, allow_blank=True, default="")
    school_name = serializers.CharField(required=False, allow_blank=True, default="")
    grade = serializers.CharField(required=False, allow_blank=True, default="")
    boarding = serializers.BooleanField(required=False, default=False)


class ChildCreateSerializer(ChildInSerializer):
    family = PersonInSerializer(many=True, required=False, default=list)
    confirm_similar = serializers.BooleanField(
        required=False, default=False, help_text="confirm a same-name, same-birth-date child is another child"
    )


class ChildPatchSerializer(ChildInSerializer):
    version = serializers.IntegerField(help_text="the version the edit is based on (optimistic concurrency)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, partial=True, **kwargs)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # partial=True lets every field be left out, but an edit without the version it is based on cannot be
        # checked for a concurrent change.
        if "version" not in attrs:
            raise serializers.ValidationError({"version": ["请提交所依据的档案版本号（version）"]})
        return attrs


class ChildArchiveSerializer(ChildDetailSerializer):
    groups = GroupSerializer(many=True, source="groups.all")
    family = RelationOutSerializer(many=True, source="relations.all")

    class Meta(ChildDetailSerializer.Meta):
        fields = [*ChildDetailSerializer.Meta.fields, "exit_proposal", "groups", "family"]


class ExitSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=EXIT_REASONS)
    on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class TimelineSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    summary = serializers.CharField()
    actor_username = serializers.CharField()
    source_type = serializers.CharField()
    source_id = serializers.CharField()

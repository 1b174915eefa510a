from __future__ import annotations

from rest_framework import serializers

from guanai.accounts.models import User
from guanai.audit.models import AccessEvent, AuditEvent
from guanai.regions.models import Region
from guanai.registry.models import Child


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

"""Catalogue API serializers (read-only): categories, items with their form, services."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..choices import Operator, VariableType
from ..models import CatalogueItem, Category, Service
from ..templatetags.catalogue_ui import render_markdown


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "description", "icon", "order"]
        read_only_fields = fields


class ServiceSerializer(serializers.ModelSerializer):
    owner = serializers.StringRelatedField()
    support_team = serializers.StringRelatedField()

    class Meta:
        model = Service
        fields = [
            "id",
            "name",
            "description",
            "kind",
            "lifecycle",
            "criticality",
            "owner",
            "support_team",
            "parent",
        ]
        read_only_fields = fields


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class ConditionSerializer(serializers.Serializer):
    variable = serializers.CharField(help_text="Name of the earlier question it depends on.")
    operator = serializers.ChoiceField(choices=Operator.choices)
    value = serializers.CharField(allow_blank=True)


class VariableSerializer(serializers.Serializer):
    """One question. Answer it under `answers[name]` when ordering."""

    name = serializers.CharField()
    label = serializers.CharField()
    help_text = serializers.CharField(allow_blank=True)
    type = serializers.ChoiceField(choices=VariableType.choices)
    required = serializers.BooleanField()
    default = serializers.CharField(allow_blank=True)
    choices = ChoiceSerializer(many=True)
    min_value = serializers.CharField(allow_null=True)
    max_value = serializers.CharField(allow_null=True)
    condition = ConditionSerializer(
        allow_null=True, help_text="Shown (and answered) only when this holds."
    )


class ItemCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug"]
        read_only_fields = fields


class CatalogueItemSerializer(serializers.ModelSerializer):
    category = ItemCategorySerializer(read_only=True)
    service = serializers.StringRelatedField()
    expected_delivery_seconds = serializers.SerializerMethodField(
        help_text="Working time from approval to delivery."
    )
    approval = serializers.SerializerMethodField(help_text="Who approves, stage by stage.")

    class Meta:
        model = CatalogueItem
        fields = [
            "id",
            "name",
            "slug",
            "short_description",
            "category",
            "service",
            "expected_delivery_seconds",
            "price",
            "cost_note",
            "max_quantity",
            "approval",
            "form_version",
        ]
        read_only_fields = fields

    def get_expected_delivery_seconds(self, item: CatalogueItem) -> int | None:
        delivery = item.expected_delivery
        return None if delivery is None else int(delivery.total_seconds())

    def get_approval(self, item: CatalogueItem) -> str:
        return item.approval_summary(list(item.approval_stages.all()))


class CatalogueItemDetailSerializer(CatalogueItemSerializer):
    description_html = serializers.SerializerMethodField()
    form = serializers.SerializerMethodField()

    class Meta(CatalogueItemSerializer.Meta):
        fields = [*CatalogueItemSerializer.Meta.fields, "description", "description_html", "form"]
        read_only_fields = fields

    def get_description_html(self, item: CatalogueItem) -> str:
        return str(render_markdown(item.description))

    @extend_schema_field(VariableSerializer(many=True))
    def get_form(self, item: CatalogueItem) -> list[dict[str, Any]]:
        return [v.to_dict() for v in item.definition() if v.asked]

"""The service catalogue: the services the desk supports, and the items people order from it,
each with its own form, approval stages and fulfilment task templates.

Requests keep a snapshot of the item (name, form version, questions, stages, tasks), so
editing an item never rewrites the history of what was ordered."""

from datetime import timedelta
from typing import Any, Self

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from . import formdef
from .choices import (
    PRIORITY_CHOICES,
    Approver,
    Audience,
    Criticality,
    Lifecycle,
    Operator,
    ServiceKind,
    TeamRule,
    VariableType,
)


# ------------------------------------------------------------------ services
class ServiceQuerySet(models.QuerySet):
    def orderable(self) -> Self:
        """Services people may pick in a form: active and not retired."""
        return self.filter(active=True).exclude(lifecycle=Lifecycle.RETIRED)


class Service(models.Model):
    """A business or technical service that tickets (incidents, requests, changes) are about."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=ServiceKind, default=ServiceKind.BUSINESS)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_services",
    )
    support_team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )
    criticality = models.CharField(max_length=10, choices=Criticality, default=Criticality.MEDIUM)
    lifecycle = models.CharField(max_length=10, choices=Lifecycle, default=Lifecycle.LIVE)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text="The service this one is part of (a technical service under a business one).",
    )
    active = models.BooleanField(default=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="catalogue_service_not_own_parent"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        seen = {self.pk}
        parent = self.parent
        while parent is not None:
            if parent.pk in seen:
                raise ValidationError({"parent": "A service cannot be inside itself."})
            seen.add(parent.pk)
            parent = parent.parent


# ------------------------------------------------------------------ categories and items
class Category(models.Model):
    """A shelf of the catalogue (hardware, software, access…); may sit inside another."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    description = models.CharField(max_length=300, blank=True)
    icon = models.CharField(
        max_length=16, blank=True, help_text="An emoji shown next to the name, e.g. 💻."
    )
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="catalogue_category_unique"),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="catalogue_category_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name

    def get_absolute_url(self) -> str:
        return reverse("portal:catalogue-category", args=[self.slug])

    def clean(self) -> None:
        seen = {self.pk}
        parent = self.parent
        while parent is not None:
            if parent.pk in seen:
                raise ValidationError({"parent": "A category cannot be inside itself."})
            seen.add(parent.pk)
            parent = parent.parent


class CatalogueItemQuerySet(models.QuerySet):
    def orderable_by(self, user: Any) -> Self:
        """Active items in active categories that `user` may order: everyone's, their
        organisation's, or their groups' (semi-joins, so no duplicates)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        items = self.filter(active=True, category__active=True)
        if user.is_superuser:
            return items
        org_match = CatalogueItem.organizations.through.objects.filter(
            catalogueitem_id=OuterRef("pk"), organization_id=user.organization_id
        )
        group_match = CatalogueItem.groups.through.objects.filter(
            catalogueitem_id=OuterRef("pk"), group__user=user
        )
        return items.filter(
            Q(audience=Audience.EVERYONE)
            | Q(Exists(org_match), audience=Audience.ORGANIZATIONS)
            | Q(Exists(group_match), audience=Audience.GROUPS)
        )

    def search(self, text: str) -> Self:
        """Items whose name or descriptions contain every word of `text`."""
        items = self
        for word in text.split()[:8]:
            items = items.filter(
                Q(name__icontains=word)
                | Q(short_description__icontains=word)
                | Q(description__icontains=word)
                | Q(category__name__icontains=word)
            )
        return items


slug_validator = RegexValidator(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "Lower-case words joined by -.")


class CatalogueItem(models.Model):
    """Something people can order (a laptop, access to a system, a new starter's set-up),
    with the form they fill, who approves it and the tasks that fulfil it."""

    name = models.CharField(max_length=150)
    slug = models.SlugField(max_length=150, unique=True, validators=[slug_validator])
    short_description = models.CharField(max_length=300)
    description = models.TextField(
        blank=True, help_text="Markdown. Shown on the item page (rendered safely)."
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="items")
    service = models.ForeignKey(
        Service,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="catalogue_items",
    )
    fulfilment_team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Owns the request; tasks without a team of their own go here. "
        "Empty: the service's support team.",
    )
    expected_delivery = models.DurationField(
        null=True,
        blank=True,
        help_text="Working time from approval to delivery, e.g. '2 days, 0:00:00' or '16:00:00'.",
    )
    audience = models.CharField(max_length=16, choices=Audience, default=Audience.EVERYONE)
    organizations = models.ManyToManyField(
        "accounts.Organization",
        blank=True,
        related_name="+",
        help_text="Who may order it when the audience is organisations.",
    )
    groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="+",
        help_text="Who may order it when the audience is groups.",
    )
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    cost_note = models.CharField(
        max_length=200, blank=True, help_text="E.g. 'charged to your cost centre', 'free'."
    )
    priority = models.PositiveSmallIntegerField(
        choices=PRIORITY_CHOICES,
        default=4,
        help_text="SLA hint: the priority its requests get (SLA policies match on it).",
    )
    max_quantity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="How many one request may order (1: no quantity asked).",
    )
    approval_reminder_hours = models.PositiveSmallIntegerField(
        default=8,
        help_text="Remind approvers every this many working hours while they have not "
        "decided (0: never).",
    )
    featured = models.BooleanField(default=False, help_text="Shown among the popular items.")
    order = models.PositiveSmallIntegerField(default=100)
    active = models.BooleanField(default=True)
    form_version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Goes up whenever the questions change."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CatalogueItemQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        indexes = [models.Index(fields=["category", "active"], name="catalogue_item_category_idx")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("portal:catalogue-item", args=[self.slug])

    def clean(self) -> None:
        if self.expected_delivery is not None and self.expected_delivery <= timedelta(0):
            raise ValidationError({"expected_delivery": "Leave it empty or give a positive time."})

    @property
    def team(self) -> Any:
        """The team that owns requests for this item."""
        if self.fulfilment_team_id:
            return self.fulfilment_team
        return self.service.support_team if self.service_id else None

    def definition(self) -> list[formdef.Variable]:
        """The current form (one query unless `variables` was prefetched)."""
        return [v.to_variable() for v in self.variables.all()]

    def approval_summary(self, stages: list["ApprovalStage"] | None = None) -> str:
        stages = list(self.approval_stages.all()) if stages is None else stages
        if not stages:
            return "No approval needed"
        return " → ".join(stage.describe() for stage in stages)

    def is_orderable_by(self, user: Any) -> bool:
        return CatalogueItem.objects.orderable_by(user).filter(pk=self.pk).exists()


class ApprovalStage(models.Model):
    """One stage of an item's approval; stages run in `order`, each after the previous one
    is approved. No stages: no approval."""

    item = models.ForeignKey(
        CatalogueItem, on_delete=models.CASCADE, related_name="approval_stages"
    )
    order = models.PositiveSmallIntegerField(default=10)
    approver = models.CharField(max_length=16, choices=Approver, default=Approver.MANAGER)
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a team stage.",
    )
    team_rule = models.CharField(
        max_length=3,
        choices=TeamRule,
        default=TeamRule.ANY,
        help_text="For a team stage: one member decides, or every member must approve.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a named-person stage.",
    )

    class Meta:
        ordering = ["item", "order", "pk"]

    def __str__(self) -> str:
        return self.describe()

    def clean(self) -> None:
        if self.approver == Approver.TEAM and self.team_id is None:
            raise ValidationError({"team": "Choose the team that approves."})
        if self.approver == Approver.USER and self.user_id is None:
            raise ValidationError({"user": "Choose who approves."})

    def describe(self) -> str:
        if self.approver == Approver.TEAM:
            rule = "any member" if self.team_rule == TeamRule.ANY else "every member"
            return f"{self.team} ({rule})"
        if self.approver == Approver.USER:
            return str(self.user)
        return Approver(self.approver).label

    def snapshot(self) -> dict[str, Any]:
        return {
            "approver": self.approver,
            "team_id": self.team_id,
            "team_rule": self.team_rule,
            "user_id": self.user_id,
            "label": self.describe(),
        }


class TaskTemplate(models.Model):
    """A fulfilment task created for each approved request of the item."""

    item = models.ForeignKey(CatalogueItem, on_delete=models.CASCADE, related_name="task_templates")
    order = models.PositiveSmallIntegerField(default=10)
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the item's fulfilment team.",
    )
    waits_for_previous = models.BooleanField(
        default=True, help_text="Starts only when every task with a lower order is finished."
    )

    class Meta:
        ordering = ["item", "order", "pk"]

    def __str__(self) -> str:
        return self.title

    def snapshot(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "instructions": self.instructions,
            "team_id": self.team_id,
            "order": self.order,
            "waits_for_previous": self.waits_for_previous,
        }


name_validator = RegexValidator(
    formdef.NAME_RE.pattern,
    "Lower-case letters, digits and _, starting with a letter.",
)


class FormVariable(models.Model):
    """One question of an item's form. The set is validated as a whole on save
    (catalogue.formdef.validate_definition)."""

    item = models.ForeignKey(CatalogueItem, on_delete=models.CASCADE, related_name="variables")
    order = models.PositiveSmallIntegerField(default=10)
    name = models.CharField(max_length=50, validators=[name_validator])
    label = models.CharField(max_length=200)
    help_text = models.CharField(max_length=300, blank=True)
    type = models.CharField(max_length=16, choices=VariableType, default=VariableType.TEXT)
    required = models.BooleanField(default=False)
    default = models.CharField(max_length=200, blank=True)
    choices = models.JSONField(default=list, blank=True)
    min_value = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    show_if_variable = models.CharField(
        "show if", max_length=50, blank=True, help_text="Name of an earlier question."
    )
    show_if_operator = models.CharField("operator", max_length=16, choices=Operator, blank=True)
    show_if_value = models.CharField("value", max_length=200, blank=True)

    class Meta:
        ordering = ["item", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["item", "name"], name="catalogue_variable_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.label}"

    def to_variable(self) -> formdef.Variable:
        condition = None
        if self.show_if_variable:
            condition = formdef.Condition(
                variable=self.show_if_variable,
                operator=self.show_if_operator or Operator.EQUALS,
                value=self.show_if_value,
            )
        return formdef.Variable(
            name=self.name,
            label=self.label,
            type=self.type,
            help_text=self.help_text,
            required=self.required,
            default=self.default,
            choices=tuple(
                formdef.Choice(value=str(c.get("value", "")), label=str(c.get("label") or ""))
                for c in (self.choices or [])
                if isinstance(c, dict)
            ),
            min_value=self.min_value,
            max_value=self.max_value,
            condition=condition,
        )

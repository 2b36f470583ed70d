"""Builders for catalogue items with forms, approval stages and task templates. They create
configuration (what an admin would set up); tests of behaviour then call the services."""

from itertools import count
from typing import Any

from catalogue.choices import Approver, Operator, TeamRule, VariableType
from catalogue.models import ApprovalStage, CatalogueItem, Category, FormVariable, TaskTemplate

_seq = count(1)

T, Op = VariableType, Operator


def make_category(
    name: str = "Hardware", parent: Category | None = None, **fields: Any
) -> Category:
    slug = fields.pop("slug", f"{name.lower().replace(' ', '-')}-{next(_seq)}")
    return Category.objects.create(name=name, slug=slug, parent=parent, **fields)


def make_item(
    *,
    name: str = "Laptop",
    category: Category | None = None,
    variables: list[dict[str, Any]] = (),  # type: ignore[assignment]
    stages: list[dict[str, Any]] = (),  # type: ignore[assignment]
    tasks: list[dict[str, Any]] = (),  # type: ignore[assignment]
    **fields: Any,
) -> CatalogueItem:
    fields.setdefault("short_description", f"Order a {name.lower()}")
    fields.setdefault("slug", f"{name.lower().replace(' ', '-')}-{next(_seq)}")
    item = CatalogueItem.objects.create(name=name, category=category or make_category(), **fields)
    for index, variable in enumerate(variables):
        FormVariable.objects.create(item=item, order=(index + 1) * 10, **variable)
    for index, stage in enumerate(stages):
        ApprovalStage.objects.create(item=item, order=(index + 1) * 10, **stage)
    for index, task in enumerate(tasks):
        task = dict(task)
        task.setdefault("order", (index + 1) * 10)
        TaskTemplate.objects.create(item=item, **task)
    return item


def choices(*values: str) -> list[dict[str, str]]:
    """`choices("a", "b|Bee")` → [{"value": "a", "label": "a"}, {"value": "b", "label": "Bee"}]."""
    result = []
    for value in values:
        val, _sep, label = value.partition("|")
        result.append({"value": val, "label": label or val})
    return result


def laptop_form() -> list[dict[str, Any]]:
    """The laptop order form: RAM only for developer laptops, monitors only with a dock."""
    return [
        {
            "name": "model",
            "label": "Which laptop?",
            "type": T.CHOICE,
            "required": True,
            "choices": choices("standard|Standard laptop", "developer|Developer laptop"),
        },
        {
            "name": "ram",
            "label": "Memory",
            "type": T.CHOICE,
            "required": True,
            "choices": choices("16|16 GB", "32|32 GB", "64|64 GB"),
            "show_if_variable": "model",
            "show_if_operator": Op.EQUALS,
            "show_if_value": "developer",
        },
        {"name": "docking", "label": "Docking station?", "type": T.YES_NO, "default": "no"},
        {
            "name": "monitors",
            "label": "How many monitors?",
            "type": T.NUMBER,
            "required": True,
            "min_value": 1,
            "max_value": 3,
            "show_if_variable": "docking",
            "show_if_operator": Op.EQUALS,
            "show_if_value": "yes",
        },
        {"name": "needed_by", "label": "Needed by", "type": T.DATE},
        {"name": "notes", "label": "Anything else?", "type": T.MULTILINE},
    ]


def manager_stage() -> dict[str, Any]:
    return {"approver": Approver.MANAGER}


def team_stage(team: Any, rule: str = TeamRule.ANY) -> dict[str, Any]:
    return {"approver": Approver.TEAM, "team": team, "team_rule": rule}

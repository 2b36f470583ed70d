"""The ITIL default impact × urgency → priority matrix (H×H→P1 … L×L→P4); admins edit it."""

from django.db import migrations

MATRIX = {
    ("high", "high"): 1, ("high", "medium"): 2, ("high", "low"): 3,
    ("medium", "high"): 2, ("medium", "medium"): 3, ("medium", "low"): 4,
    ("low", "high"): 3, ("low", "medium"): 4, ("low", "low"): 4,
}


def seed(apps, schema_editor):
    Cell = apps.get_model("incidents", "PriorityMatrixCell")
    for (impact, urgency), priority in MATRIX.items():
        Cell.objects.get_or_create(impact=impact, urgency=urgency, defaults={"priority": priority})


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

"""The built-in CAB policies as editable rows: normal low → any one, moderate → majority,
high → all; emergency low/moderate → any one, high → majority."""

from django.db import migrations

DEFAULTS = [
    ("normal", "low", "any"),
    ("normal", "moderate", "majority"),
    ("normal", "high", "all"),
    ("emergency", "low", "any"),
    ("emergency", "moderate", "any"),
    ("emergency", "high", "majority"),
]


def create(apps, schema_editor):
    rule = apps.get_model("changes", "CabPolicyRule")
    for change_type, risk, policy in DEFAULTS:
        rule.objects.get_or_create(change_type=change_type, risk=risk, defaults={"policy": policy})


class Migration(migrations.Migration):
    dependencies = [("changes", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]

"""Partial index for "breaching soon": running, unbreached clocks in deadline order, so the
queue's page 1 reads its first rows instead of sorting every open ticket (issue #12)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("slas", "0005_calendar_versions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="slaclock",
            index=models.Index(
                condition=models.Q(
                    ("breached_at__isnull", True),
                    ("due_at__isnull", False),
                    ("running_since__isnull", False),
                ),
                fields=["due_at", "ticket"],
                name="slas_clock_breaching_soon",
            ),
        ),
    ]

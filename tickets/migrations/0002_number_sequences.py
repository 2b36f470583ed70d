"""One PostgreSQL sequence per ticket kind for human numbers (INC0001001 …): concurrent
creations never collide; a rolled-back creation leaves a gap, which is fine."""

from django.db import migrations

KINDS = ["incident", "request", "task", "change"]


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [
        migrations.RunSQL(
            sql=f"CREATE SEQUENCE IF NOT EXISTS tickets_number_{kind} START 1001",
            reverse_sql=f"DROP SEQUENCE IF EXISTS tickets_number_{kind}",
        )
        for kind in KINDS
    ]

"""Index behind the team OLA figures (dashboards.queries.ola).

The OLA figures read slas.OlaClock directly (no rollup); this covering partial index answers
"clocks stopped in a period" with an index-only range scan. It lives here, beside the query
it serves, rather than on the model: slas does not read it. CONCURRENTLY is not used (it
cannot run in a migration transaction); the OLA table is small next to the tickets."""

from django.db import migrations

INDEX = "dashboards_ola_stopped"


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0001_read_models_and_subscriptions"),
        ("slas", "0004_team_olas"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"""
                CREATE INDEX IF NOT EXISTS {INDEX} ON slas_olaclock (stopped_at)
                INCLUDE (team_id, ticket_id, breached_at, elapsed)
                WHERE stopped_at IS NOT NULL
            """,
            reverse_sql=f"DROP INDEX IF EXISTS {INDEX}",
        )
    ]

"""Rebuild the dashboards' read models from the raw tables (after imports, restores, bulk
fixes, or to check the incremental sync: the figures must not change)."""

from django.core.management.base import BaseCommand

from dashboards.rollups import rollups_rebuild, rollups_sync


class Command(BaseCommand):
    help = "Rebuild the dashboards' facts and daily rollups from scratch (or --sync only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--sync",
            action="store_true",
            help="Only apply the tickets changed since the last run (what beat does).",
        )

    def handle(self, *args, **options) -> None:
        result = rollups_sync() if options["sync"] else rollups_rebuild()
        what = "Rebuilt" if result.rebuilt else "Synced"
        self.stdout.write(
            f"{what}: {result.tickets} tickets, {result.days} days, "
            f"{result.zones_built} time zones built, in {result.ms} ms."
        )

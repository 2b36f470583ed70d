"""Rebuild SLA clocks from the journal: a dry run by default, --apply to rewrite.

manage.py sla_replay --ticket INC0001234
manage.py sla_replay --policy 3 --since 2026-01-01 --until 2026-02-01 --apply
"""

from datetime import date, datetime, time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from slas.models import SlaClock
from slas.replay import clock_replay


class Command(BaseCommand):
    help = "Compare SLA clocks with a replay of their tickets' journals; --apply fixes them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ticket", help="Ticket number")
        parser.add_argument("--policy", type=int, help="Policy id")
        parser.add_argument(
            "--since", type=date.fromisoformat, help="Clocks started on or after (YYYY-MM-DD)"
        )
        parser.add_argument(
            "--until", type=date.fromisoformat, help="Clocks started before (YYYY-MM-DD)"
        )
        parser.add_argument("--apply", action="store_true", help="Rewrite the clocks that differ")

    def handle(
        self, *args, ticket=None, policy=None, since=None, until=None, apply=False, **options
    ) -> None:
        if not (ticket or policy or since or until):
            raise CommandError("Choose clocks with --ticket, --policy and/or --since/--until.")
        clocks = SlaClock.objects.order_by("pk")
        if ticket:
            clocks = clocks.filter(ticket__number=ticket.upper())
        if policy:
            clocks = clocks.filter(policy_id=policy)
        if since:
            clocks = clocks.filter(
                started_at__gte=timezone.make_aware(datetime.combine(since, time()))
            )
        if until:
            clocks = clocks.filter(
                started_at__lt=timezone.make_aware(datetime.combine(until, time()))
            )
        checked = differing = 0
        for clock_id in clocks.values_list("pk", flat=True).iterator():
            result = clock_replay(clock_id=clock_id, apply=apply)
            checked += 1
            if result.differences:
                differing += 1
                verb = "fixed" if result.applied else "differs"
                changes = "; ".join(f"{k}: {a} → {b}" for k, (a, b) in result.differences.items())
                self.stdout.write(f"{result.ticket} {result.metric} {verb}: {changes}")
        mode = "applied" if apply else "dry run, nothing written"
        self.stdout.write(f"{checked} clocks checked, {differing} differ ({mode}).")

"""Demo data for `make run`: organisations, teams, one user per role, services, categories,
routing rules and a realistic spread of incidents. Idempotent: a second run adds nothing."""

import random
from datetime import timedelta
from importlib import import_module

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F

from accounts.models import AssignmentMethod, Organization, Team, TeamMembership, User
from accounts.roles import Role
from catalogue.models import Service
from incidents import services as incidents
from incidents.choices import Channel, IncidentStatus, Level, OnHoldReason, ResolutionCode
from incidents.models import Category, Incident, RoutingRule
from slas.choices import Action, Trigger
from slas.models import BusinessCalendar, ClockSegment, EscalationRule, SlaClock, SlaPolicy
from slas.replay import clock_replay
from slas.services import sla_sweep
from tickets.models import Ticket, TicketEvent

PASSWORD = "demo-pass-2026"
#: Apps with a `demo.seed(*, people, services, teams)` function, called after the incidents.
DEMO_MODULES = [
    "servicerequests.demo",
    "changes.demo",
    "integrations.demo",
    "tickets.demo",
    "dashboards.demo",
    "desk.demo",
]

PEOPLE = [
    # username, display name, roles, teams, staff
    ("rita", "Rita Requester", [Role.REQUESTER], [], False),
    ("oscar", "Oscar Okafor", [Role.REQUESTER], [], False),
    ("alice", "Alice Agent", [Role.AGENT], ["Service Desk", "Network"], False),
    ("ben", "Ben Barros", [Role.AGENT], ["Service Desk"], False),
    ("nina", "Nina Network", [Role.AGENT], ["Network"], False),
    ("dev", "Dev Database", [Role.AGENT], ["Database", "Applications"], False),
    ("carl", "Carl Change", [Role.AGENT, Role.CHANGE_MANAGER], ["Applications"], False),
    ("cathy", "Cathy CAB", [Role.CAB_MEMBER], [], False),
    ("sam", "Sam Service-Level", [Role.AGENT, Role.SERVICE_LEVEL_MANAGER], [], False),
    ("maria", "Maria Manager", [Role.AGENT, Role.SERVICE_DESK_MANAGER], ["Service Desk"], False),
    ("admin", "Ada Admin", [Role.ADMINISTRATOR], [], True),
]
TEAMS = {
    "Service Desk": AssignmentMethod.ROUND_ROBIN,
    "Network": AssignmentMethod.LEAST_LOADED,
    "Database": AssignmentMethod.OFF,
    "Applications": AssignmentMethod.LEAST_LOADED,
}
SERVICES = {
    "E-mail": ("Applications", "high"),
    "VPN": ("Network", "high"),
    "Wi-Fi": ("Network", "medium"),
    "ERP": ("Applications", "critical"),
    "Laptops": ("Service Desk", "medium"),
    "Printing": ("Service Desk", "low"),
    "Customer database": ("Database", "critical"),
}
CATEGORIES = {
    "Hardware": ["Laptop", "Printer", "Monitor"],
    "Software": ["E-mail client", "ERP", "Office"],
    "Network": ["VPN", "Wi-Fi"],
    "Access": ["Password", "Permissions"],
}
INCIDENTS = [
    ("VPN drops every few minutes", "VPN", "Network", "VPN", Level.MEDIUM, Level.HIGH),
    (
        "Cannot print to 3rd floor printer",
        "Printing",
        "Hardware",
        "Printer",
        Level.LOW,
        Level.MEDIUM,
    ),
    (
        "Outlook keeps asking for my password",
        "E-mail",
        "Software",
        "E-mail client",
        Level.LOW,
        Level.HIGH,
    ),
    ("ERP invoices screen very slow", "ERP", "Software", "ERP", Level.HIGH, Level.MEDIUM),
    ("Laptop battery swollen", "Laptops", "Hardware", "Laptop", Level.LOW, Level.HIGH),
    ("Wi-Fi down in meeting room B", "Wi-Fi", "Network", "Wi-Fi", Level.MEDIUM, Level.MEDIUM),
    ("Customer database timeouts", "Customer database", None, None, Level.HIGH, Level.HIGH),
    ("Second monitor flickers", "Laptops", "Hardware", "Monitor", Level.LOW, Level.LOW),
    ("Locked out of my account", None, "Access", "Password", Level.LOW, Level.HIGH),
    ("Need access to finance share", None, "Access", "Permissions", Level.LOW, Level.LOW),
    ("E-mails to partners bounce", "E-mail", "Software", "E-mail client", Level.MEDIUM, Level.HIGH),
    ("Excel crashes on open", None, "Software", "Office", Level.LOW, Level.MEDIUM),
]


class Command(BaseCommand):
    help = "Load demo data (idempotent) and print the demo logins."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            teams = self._teams()
            people = self._people(teams)
            services = self._services(teams, people)
            categories = self._categories()
            self._routing(teams, categories, services)
            self._slas(teams, people)
        if not Ticket.objects.exists():
            self._incidents(people, services, categories)
        # Each domain app seeds its own demo data (idempotent); order matters only for links.
        for module in DEMO_MODULES:
            import_module(module).seed(people=people, services=services, teams=teams)
        self._print_logins()

    def _teams(self) -> dict[str, Team]:
        teams = {}
        for name, method in TEAMS.items():
            team, _ = Team.objects.get_or_create(
                name=name,
                defaults={
                    "assignment_method": method,
                    "email": f"{name.lower().replace(' ', '')}@example.com",
                },
            )
            teams[name] = team
        return teams

    def _people(self, teams: dict[str, Team]) -> dict[str, User]:
        acme, _ = Organization.objects.get_or_create(
            name="Acme Corp", defaults={"email_domain": "acme.example"}
        )
        people = {}
        for username, name, roles, team_names, staff in PEOPLE:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@acme.example",
                    "display_name": name,
                    "first_name": name.split()[0],
                    "last_name": name.split()[-1],
                    "organization": acme,
                    "is_staff": staff,
                    "is_superuser": staff,
                    "time_zone": "Europe/London",
                },
            )
            if created:
                user.set_password(PASSWORD)
                user.save()
            user.groups.add(*Group.objects.filter(name__in=[r.value for r in roles]))
            for team_name in team_names:
                TeamMembership.objects.get_or_create(team=teams[team_name], user=user)
            people[username] = user
        if teams["Service Desk"].lead_id is None:
            Team.objects.filter(pk=teams["Service Desk"].pk).update(lead=people["maria"])
        return people

    def _services(self, teams: dict[str, Team], people: dict[str, User]) -> dict[str, Service]:
        result = {}
        for name, (team, criticality) in SERVICES.items():
            service, _ = Service.objects.get_or_create(
                name=name,
                defaults={
                    "support_team": teams[team],
                    "criticality": criticality,
                    "owner": people["maria"],
                },
            )
            result[name] = service
        return result

    def _categories(self) -> dict[str, Category]:
        result = {}
        for order, (parent_name, children) in enumerate(CATEGORIES.items()):
            parent, _ = Category.objects.get_or_create(
                name=parent_name, parent=None, defaults={"order": order}
            )
            result[parent_name] = parent
            for child in children:
                result[child], _ = Category.objects.get_or_create(name=child, parent=parent)
        return result

    def _routing(self, teams, categories, services) -> None:
        RoutingRule.objects.get_or_create(
            name="Network problems to Network",
            defaults={"category": categories["Network"], "team": teams["Network"], "order": 10},
        )
        RoutingRule.objects.get_or_create(
            name="Access requests to the Service Desk",
            defaults={"category": categories["Access"], "team": teams["Service Desk"], "order": 20},
        )

    def _slas(self, teams, people) -> None:
        """Calendars and incident SLAs: P1 around the clock, the rest in London office hours."""
        always, _ = BusinessCalendar.objects.get_or_create(
            name="24x7",
            defaults={"timezone": "UTC", "hours": {str(d): [["00:00", "24:00"]] for d in range(7)}},
        )
        office, _ = BusinessCalendar.objects.get_or_create(
            name="London office",
            defaults={
                "timezone": "Europe/London",
                "hours": {str(d): [["08:00", "18:00"]] for d in range(5)},
            },
        )
        targets = {
            1: (always, timedelta(minutes=15), timedelta(hours=4)),
            2: (office, timedelta(hours=1), timedelta(hours=8)),
            3: (office, timedelta(hours=4), timedelta(hours=30)),
            4: (office, timedelta(hours=8), timedelta(hours=50)),
        }
        for priority, (calendar, response, resolution) in targets.items():
            for metric, target in (("response", response), ("resolution", resolution)):
                policy, created = SlaPolicy.objects.get_or_create(
                    name=f"P{priority} {metric}",
                    defaults={
                        "metric": metric,
                        "target": target,
                        "calendar": calendar,
                        "order": priority * 10,
                        "priorities": [priority],
                        "pause_statuses": ["on_hold"],
                    },
                )
                if created and metric == "resolution":
                    EscalationRule.objects.create(
                        policy=policy,
                        trigger=Trigger.WARNING,
                        threshold=75,
                        action=Action.NOTIFY_ASSIGNEE,
                    )
                    EscalationRule.objects.create(
                        policy=policy, trigger=Trigger.BREACH, action=Action.NOTIFY_TEAM_LEAD
                    )
                    if priority > 1:
                        EscalationRule.objects.create(
                            policy=policy,
                            trigger=Trigger.BREACH,
                            delay=timedelta(hours=1),
                            action=Action.RAISE_PRIORITY,
                        )

    def _incidents(self, people, services, categories) -> None:
        rng = random.Random(2026)
        callers = [people["rita"], people["oscar"]]
        agent = people["alice"]
        for n, (title, service, cat, sub, impact, urgency) in enumerate(INCIDENTS * 2):
            requester = callers[n % 2]
            incident = incidents.incident_create(
                requester=requester,
                by=requester if n % 3 else agent,
                title=title,
                description=f"{title}. Reported by {requester}.",
                channel=Channel.PORTAL if n % 3 else Channel.PHONE,
                impact=impact,
                urgency=urgency,
                service=services.get(service),
                category=categories.get(cat),
                subcategory=categories.get(sub),
            )
            self._advance(incident, n, rng, people)
            self._backdate(incident.pk, timedelta(hours=rng.randint(1, 24 * 6)))
        Incident.objects.filter(ticket__title__startswith="Customer database").update(is_major=True)
        # Rebuild every clock from its (backdated) journal, then let the sweep record what is
        # overdue: the demo's SLA figures are what the engine would have produced live.
        for clock_id in SlaClock.objects.values_list("pk", flat=True):
            clock_replay(clock_id=clock_id, apply=True)
        sla_sweep()

    def _backdate(self, ticket_id: int, back: timedelta) -> None:
        """Shift a new ticket's whole history into the past, so the demo has ages and SLAs."""
        Ticket.objects.filter(pk=ticket_id).update(
            created_at=F("created_at") - back,
            updated_at=F("updated_at") - back,
            first_responded_at=F("first_responded_at") - back,
            resolved_at=F("resolved_at") - back,
            closed_at=F("closed_at") - back,
        )
        TicketEvent.objects.filter(ticket_id=ticket_id).update(created_at=F("created_at") - back)
        clocks = SlaClock.objects.filter(ticket_id=ticket_id)
        clocks.update(started_at=F("started_at") - back)
        clocks.filter(running_since__isnull=False).update(running_since=F("running_since") - back)
        ClockSegment.objects.filter(clock__ticket_id=ticket_id).update(
            started_at=F("started_at") - back
        )

    def _advance(self, incident: Incident, n: int, rng: random.Random, people) -> None:
        agent = incident.ticket.assignee or people["alice"]
        stage = n % 6
        if stage == 0:
            return
        incidents.incident_comment(
            incident=incident, by=agent, body="Thanks, we are looking into it.", public=True
        )
        if stage == 1:
            incidents.incident_transition(
                incident=incident, by=agent, target=IncidentStatus.IN_PROGRESS
            )
            incidents.incident_comment(
                incident=incident,
                by=agent,
                body="Checked the logs; suspect the gateway.",
                public=False,
            )
        elif stage == 2:
            incidents.incident_transition(
                incident=incident,
                by=agent,
                target=IncidentStatus.ON_HOLD,
                on_hold_reason=OnHoldReason.AWAITING_CALLER,
            )
        elif stage in (3, 4, 5):
            incidents.incident_transition(
                incident=incident,
                by=agent,
                target=IncidentStatus.RESOLVED,
                resolution_code=ResolutionCode.FIXED,
                resolution_notes="Fixed: please check and confirm.",
            )
            if stage == 5:
                incidents.incident_confirm(incident=incident, by=incident.ticket.requester)

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {PASSWORD})\n")
        for username, name, roles, _teams, _staff in PEOPLE:
            self.stdout.write(f"  {username:<8} {name:<20} {', '.join(r.value for r in roles)}")
        self.stdout.write("")

"""Demo data for the API platform: a Prometheus service account with one firing alert (and
its incident), and an example webhook subscription, switched off so nothing is sent.

Idempotent: everything is looked up by name or fingerprint first. Tokens are not seeded:
their secret is shown once, so create one in the profile page (API tokens) or, for the
service account, with the admin action. Called by seed_demo."""

from django.db import transaction

from accounts.models import Team, User
from catalogue.models import Service

from .alerts import alerts_receive
from .choices import WebhookEvent
from .models import Alert, ServiceAccount, WebhookSubscription
from .tokens import service_account_create

FINGERPRINT = "demo-vpn-gateway-latency"


@transaction.atomic
def seed(*, people: dict[str, User], services: dict[str, Service], teams: dict[str, Team]) -> None:
    account = ServiceAccount.objects.filter(user__username="svc-prometheus").first()
    if account is None:
        account = service_account_create(
            name="Prometheus",
            by=people.get("maria"),
            description="Alertmanager webhook receiver: raises and resolves incidents.",
            roles=("requester",),
        )
    if not Alert.objects.filter(fingerprint=FINGERPRINT).exists():
        alerts_receive(
            alerts=[
                {
                    "status": "firing",
                    "labels": {
                        "alertname": "VPNGatewayLatency",
                        "severity": "warning",
                        "service": "VPN" if "VPN" in services else "",
                        "team": "Network" if "Network" in teams else "",
                        "instance": "vpn-gw-1:9100",
                    },
                    "annotations": {
                        "summary": "VPN gateway latency above 200 ms",
                        "description": "p95 latency 340 ms over 10 minutes.",
                    },
                    "generatorURL": "http://prometheus.example.com/graph",
                    "fingerprint": FINGERPRINT,
                }
            ],
            by=account.user,
        )
    WebhookSubscription.objects.get_or_create(
        name="Chat bot (example)",
        defaults={
            "target_url": "https://chat.example.com/hooks/servicedesk",
            "event_types": [WebhookEvent.TICKET_CREATED, WebhookEvent.SLA_BREACH],
            "active": False,
            "created_by": people.get("maria"),
        },
    )

"""Monitoring alerts → incidents, one per alert fingerprint and firing episode.

The payload is Prometheus Alertmanager's webhook (version 4); any tool can send the same
shape. Per alert:
- firing, fingerprint unknown or its last episode resolved → a new incident (channel api,
  raised by the caller), impact and urgency from the `severity` label, team from a `team`
  label naming a team (else routing), service from a `service` label naming a service;
- firing again while the episode is open → the same incident (dedup): the alert row counts
  the notification, nothing is journalled twice;
- resolved → the incident is resolved (code "fixed", "Resolved by the monitoring alert")
  unless someone already resolved, closed or cancelled it;
- resolved for an unknown or already resolved fingerprint → ignored.
All alerts of one payload are handled in one transaction."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from catalogue.models import Service
from incidents.choices import Channel, IncidentStatus, Level, ResolutionCode
from incidents.models import Incident
from incidents.services import incident_create, incident_transition
from incidents.workflow import OPEN_STATUSES
from tickets import events

from .choices import AlertAction, AlertStatus
from .models import Alert

RESOLUTION_NOTES = "Resolved by the monitoring alert"
#: severity label → (impact, urgency).
SEVERITY_LEVELS: dict[str, tuple[str, str]] = {
    "critical": (Level.HIGH, Level.HIGH),
    "page": (Level.HIGH, Level.HIGH),
    "major": (Level.HIGH, Level.MEDIUM),
    "error": (Level.MEDIUM, Level.HIGH),
    "high": (Level.MEDIUM, Level.HIGH),
    "warning": (Level.MEDIUM, Level.MEDIUM),
    "minor": (Level.LOW, Level.MEDIUM),
    "info": (Level.LOW, Level.LOW),
    "low": (Level.LOW, Level.LOW),
}


@dataclass
class AlertOutcome:
    fingerprint: str
    action: str
    incident: str | None = None


def alert_fingerprint(alert: dict[str, Any]) -> str:
    """Alertmanager's fingerprint when sent, else a hash of the sorted labels."""
    given = str(alert.get("fingerprint") or "").strip()
    if given:
        return given[:128]
    labels = json.dumps(alert.get("labels") or {}, sort_keys=True)
    return "sha256:" + hashlib.sha256(labels.encode()).hexdigest()


def _title(alert: dict[str, Any]) -> str:
    labels, annotations = alert.get("labels") or {}, alert.get("annotations") or {}
    name = labels.get("alertname") or "Monitoring alert"
    summary = annotations.get("summary") or annotations.get("title") or ""
    instance = labels.get("instance") or labels.get("job") or ""
    title = f"{name}: {summary}" if summary else f"{name} on {instance}" if instance else name
    return title.strip()[:200] or "Monitoring alert"


def _description(alert: dict[str, Any]) -> str:
    annotations = alert.get("annotations") or {}
    lines = [annotations.get("description", "")] if annotations.get("description") else []
    lines.append("Labels:")
    lines += [f"  {k} = {v}" for k, v in sorted((alert.get("labels") or {}).items())]
    if alert.get("generatorURL"):
        lines.append(f"Source: {alert['generatorURL']}")
    lines.append(f"Fingerprint: {alert_fingerprint(alert)}")
    return "\n".join(lines)


def _routing(labels: dict[str, str]) -> dict[str, Any]:
    impact, urgency = SEVERITY_LEVELS.get(
        str(labels.get("severity", "")).lower(), (Level.MEDIUM, Level.MEDIUM)
    )
    team = Team.objects.filter(name__iexact=labels["team"]).first() if labels.get("team") else None
    service = (
        Service.objects.filter(name__iexact=labels["service"], active=True).first()
        if labels.get("service")
        else None
    )
    return {"impact": impact, "urgency": urgency, "team": team, "service": service}


def _raise(alert: dict[str, Any], by: User) -> Incident:
    return incident_create(
        requester=by,
        by=by,
        title=_title(alert),
        description=_description(alert),
        channel=Channel.API,
        **_routing(alert.get("labels") or {}),
    )


def _firing(row: Alert, alert: dict[str, Any], by: User) -> AlertOutcome:
    number = row.ticket.number if row.ticket_id else None
    if row.ticket_id and row.status == AlertStatus.FIRING:
        return AlertOutcome(row.fingerprint, AlertAction.UPDATED, number)
    incident = _raise(alert, by)
    row.ticket, row.status, row.ends_at = incident.ticket, AlertStatus.FIRING, None
    return AlertOutcome(row.fingerprint, AlertAction.CREATED, incident.ticket.number)


def _resolved(row: Alert, alert: dict[str, Any], by: User, at: datetime) -> AlertOutcome:
    if row.status == AlertStatus.RESOLVED or not row.ticket_id:
        return AlertOutcome(row.fingerprint, AlertAction.IGNORED, None)
    row.status, row.ends_at = AlertStatus.RESOLVED, alert.get("endsAt") or at
    incident = Incident.objects.select_related("ticket").get(pk=row.ticket_id)
    if incident.status not in OPEN_STATUSES:
        events.system(
            ticket=incident.ticket, code="alert_resolved", body="The monitoring alert resolved."
        )
        return AlertOutcome(row.fingerprint, AlertAction.IGNORED, incident.ticket.number)
    incident_transition(
        incident=incident,
        by=by,
        target=IncidentStatus.RESOLVED,
        resolution_code=ResolutionCode.FIXED,
        resolution_notes=RESOLUTION_NOTES,
    )
    return AlertOutcome(row.fingerprint, AlertAction.RESOLVED, incident.ticket.number)


def _process(alert: dict[str, Any], by: User, at: datetime) -> AlertOutcome:
    fingerprint = alert_fingerprint(alert)
    labels = alert.get("labels") or {}
    row, created = Alert.objects.select_for_update().get_or_create(
        fingerprint=fingerprint,
        defaults={"status": AlertStatus.RESOLVED, "first_received_at": at, "source": by},
    )
    if created and alert.get("status") == AlertStatus.RESOLVED:
        outcome = AlertOutcome(fingerprint, AlertAction.IGNORED, None)
    elif alert.get("status") == AlertStatus.RESOLVED:
        outcome = _resolved(row, alert, by, at)
    else:
        outcome = _firing(row, alert, by)
    row.name = str(labels.get("alertname", ""))[:200]
    row.labels, row.annotations = labels, alert.get("annotations") or {}
    row.generator_url = str(alert.get("generatorURL") or "")[:1000]
    row.starts_at = alert.get("startsAt") or row.starts_at
    row.received_count += 1
    row.last_received_at, row.source = at, by
    row.save()
    return outcome


@transaction.atomic
def alerts_receive(*, alerts: list[dict[str, Any]], by: User) -> list[AlertOutcome]:
    """Handle one notification's alerts (see the module docstring), in the order sent."""
    at = timezone.now()
    return [_process(alert, by, at) for alert in alerts]

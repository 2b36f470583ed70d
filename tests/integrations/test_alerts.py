"""Monitoring alerts (Prometheus Alertmanager webhook): one incident per fingerprint and
firing episode, deduplicated, resolved by the resolved alert."""

import copy
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.choices import Channel, IncidentStatus, ResolutionCode
from incidents.models import Incident
from incidents.services import incident_transition
from integrations.alerts import RESOLUTION_NOTES
from integrations.api.views import FIRING_EXAMPLE, RESOLVED_EXAMPLE
from integrations.choices import AlertStatus
from integrations.models import Alert
from tickets.models import TicketEvent

from .conftest import bearer

pytestmark = pytest.mark.django_db

URL = "/api/v1/alerts/"


def payload(status: str = "firing", *, fingerprint: str = "b1b6bbd2e8a1c0f3", **labels) -> dict:
    body = copy.deepcopy(FIRING_EXAMPLE if status == "firing" else RESOLVED_EXAMPLE)
    body["alerts"][0]["fingerprint"] = fingerprint
    body["alerts"][0]["labels"].update(labels)
    return body


def test_a_firing_alert_raises_one_incident(monitoring_client, monitoring, network_team):
    # when Alertmanager posts the documented example
    response = monitoring_client.post(URL, payload(), format="json")
    # then
    assert response.status_code == 200, response.json()
    (outcome,) = response.json()["results"]
    assert outcome["action"] == "created"
    incident = Incident.objects.select_related("ticket").get(ticket__number=outcome["incident"])
    assert incident.channel == Channel.API
    assert incident.ticket.requester == monitoring
    assert incident.ticket.title == "HighErrorRate: 5xx above 5% on checkout"
    assert incident.ticket.team == network_team  # the `team` label
    assert (incident.impact, incident.urgency) == ("high", "high")  # severity critical
    assert "b1b6bbd2e8a1c0f3" in incident.ticket.description


def test_repeated_notifications_are_deduplicated(monitoring_client):
    # given
    first = monitoring_client.post(URL, payload(), format="json").json()["results"][0]
    # when Alertmanager repeats the notification (repeat_interval, group changes)
    for _ in range(3):
        again = monitoring_client.post(URL, payload(), format="json").json()["results"][0]
    # then
    assert again == {**first, "action": "updated"}
    assert Incident.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.received_count == 4
    assert alert.status == AlertStatus.FIRING


def test_the_resolved_alert_resolves_its_incident(monitoring_client, monitoring):
    # given
    number = monitoring_client.post(URL, payload(), format="json").json()["results"][0]["incident"]
    # when
    response = monitoring_client.post(URL, payload("resolved"), format="json")
    # then
    assert response.json()["results"][0] == {
        "fingerprint": "b1b6bbd2e8a1c0f3",
        "action": "resolved",
        "incident": number,
    }
    incident = Incident.objects.get(ticket__number=number)
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.resolution_code == ResolutionCode.FIXED
    assert incident.resolution_notes == RESOLUTION_NOTES
    assert Alert.objects.get().status == AlertStatus.RESOLVED
    # and resolved twice changes nothing more
    again = monitoring_client.post(URL, payload("resolved"), format="json")
    assert again.json()["results"][0]["action"] == "ignored"


def test_firing_again_after_resolution_raises_a_new_incident(monitoring_client):
    first = monitoring_client.post(URL, payload(), format="json").json()["results"][0]
    monitoring_client.post(URL, payload("resolved"), format="json")

    second = monitoring_client.post(URL, payload(), format="json").json()["results"][0]

    assert second["action"] == "created"
    assert second["incident"] != first["incident"]
    assert Alert.objects.get().ticket.number == second["incident"]


def test_one_payload_with_several_alerts_handles_each(monitoring_client):
    body = payload()
    body["alerts"].append(
        {**body["alerts"][0], "fingerprint": "other", "labels": {"alertname": "Disk"}}
    )
    body["alerts"].append({**body["alerts"][0], "fingerprint": "unknown", "status": "resolved"})

    results = monitoring_client.post(URL, body, format="json").json()["results"]

    assert [r["action"] for r in results] == ["created", "created", "ignored"]
    assert Incident.objects.count() == 2


def test_without_fingerprint_the_labels_identify_the_alert(monitoring_client):
    body = payload(fingerprint="")
    del body["alerts"][0]["fingerprint"]

    first = monitoring_client.post(URL, body, format="json").json()["results"][0]
    again = monitoring_client.post(URL, body, format="json").json()["results"][0]

    assert first["fingerprint"].startswith("sha256:")
    assert again["action"] == "updated"


def test_an_incident_resolved_by_an_agent_is_left_alone(monitoring_client, agent):
    number = monitoring_client.post(URL, payload(), format="json").json()["results"][0]["incident"]
    incident = Incident.objects.get(ticket__number=number)
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.RESOLVED,
        resolution_code=ResolutionCode.WORKAROUND,
        resolution_notes="Restarted the pods.",
    )

    outcome = monitoring_client.post(URL, payload("resolved"), format="json").json()["results"][0]

    assert outcome["action"] == "ignored"
    incident.refresh_from_db()
    assert incident.resolution_code == ResolutionCode.WORKAROUND
    assert TicketEvent.objects.filter(ticket_id=incident.pk, data__code="alert_resolved").exists()


def test_requesters_cannot_post_alerts(requester, make_token):
    response = bearer(make_token(requester)).post(URL, payload(), format="json")

    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_a_read_token_cannot_post_alerts(monitoring, make_token):
    response = bearer(make_token(monitoring, scope="read")).post(URL, payload(), format="json")

    assert response.status_code == 403


def test_bad_payloads_are_field_errors_and_write_nothing(monitoring_client):
    cases = [
        {},
        {"alerts": []},
        {"alerts": [{"status": "burning", "labels": {}}]},
        {"alerts": [{"status": "firing", "labels": {"a\x00": "b"}}]},
        {"alerts": [{"status": "firing", "labels": {"a": "b\x00"}}]},
        {"alerts": [{"status": "firing", "labels": ["x"]}]},
        {"alerts": [{"status": "firing", "labels": {}, "startsAt": "yesterday"}]},
    ]
    for body in cases:
        response = monitoring_client.post(URL, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert response.json()["errors"]
    assert not Incident.objects.exists()
    assert not Alert.objects.exists()


def test_the_alert_list_shows_each_alert_and_its_incident(monitoring_client, agent, make_token):
    number = monitoring_client.post(URL, payload(), format="json").json()["results"][0]["incident"]

    listed = bearer(make_token(agent)).get(URL + "?status=firing").json()["results"]
    own = monitoring_client.get(URL).json()["results"]

    assert [a["incident"] for a in listed] == [number]
    assert own[0]["fingerprint"] == "b1b6bbd2e8a1c0f3"


def test_an_alert_replayed_with_its_idempotency_key_is_not_counted_twice(monitoring_client):
    key = str(uuid.uuid4())

    first = monitoring_client.post(URL, payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = monitoring_client.post(URL, payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Alert.objects.get().received_count == 1


def test_the_alert_list_costs_the_same_queries_for_3_and_12_alerts(monitoring_client):
    def count(n: int) -> int:
        for i in range(Alert.objects.count(), n):
            monitoring_client.post(URL, payload(fingerprint=f"fp-{i}"), format="json")
        with CaptureQueriesContext(connection) as ctx:
            response = monitoring_client.get(URL + "?page_size=50")
        assert len(response.json()["results"]) == n
        return len(ctx.captured_queries)

    assert count(3) == count(12)

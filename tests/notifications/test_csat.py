"""Satisfaction survey: signed, expiring, single-use links from the resolution e-mail."""

import re

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from tests.notifications.conftest import dispatch_all, resolve, send_all
from tickets.choices import CsatRating, EventType
from tickets.csat import csat_record
from tickets.models import Notification, SatisfactionResponse, TicketEvent
from tickets.notifications import notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey_url(mailoutbox, raise_incident, requester, agent):
    """The "bad" link of the survey the requester got when the incident was resolved."""
    incident = raise_incident()
    resolve(incident, agent)
    dispatch_all()
    send_all()
    (message,) = [m for m in mailoutbox if m.to == [requester.email] and "Resolved" in m.subject]
    url = re.search(r"(http\S+/survey/\S+)\?rating=bad", message.body)[1]
    return url.split("127.0.0.1:8000", 1)[1], incident


def test_link_opens_the_survey_without_login_and_does_not_vote_by_itself(client, survey_url):
    path, _ = survey_url
    page = client.get(path + "?rating=bad")
    assert page.status_code == 200
    (bad,) = re.findall(r'<input[^>]*value="bad"[^>]*>', page.content.decode())
    assert "checked" in bad
    assert not SatisfactionResponse.objects.exists()  # a mail scanner opening it casts no vote


def test_answer_is_recorded_once_and_journaled(client, survey_url, requester, agent):
    # given
    path, incident = survey_url
    # when
    page = client.post(path, {"rating": "bad", "comment": "Took three days"})
    # then
    assert "Thank you" in page.content.decode()
    answer = SatisfactionResponse.objects.get()
    assert (answer.ticket_id, answer.rating, answer.comment) == (
        incident.pk,
        "bad",
        "Took three days",
    )
    assert answer.respondent == requester
    entry = TicketEvent.objects.get(
        ticket=incident.ticket, type=EventType.SYSTEM, data__code="csat"
    )
    assert not entry.public
    # single use: a second answer through the same link changes nothing
    again = client.post(path, {"rating": "good"})
    assert "already" in again.content.decode() or "Thank you" in again.content.decode()
    assert SatisfactionResponse.objects.get().rating == "bad"
    # a bad rating reaches the assignee
    dispatch_all()
    assert Notification.objects.filter(recipient=agent, event="csat_bad").exists()


def test_tampered_link_is_refused(client, survey_url):
    path, _ = survey_url
    tampered = path[:-3] + ("a" if path[-3] != "a" else "b") + path[-2:]
    assert client.get(tampered).status_code == 400
    assert client.post(tampered, {"rating": "good"}).status_code == 400
    assert not SatisfactionResponse.objects.exists()


def test_link_expires(client, settings, survey_url):
    path, _ = survey_url
    with time_machine.travel(
        timezone.now() + timezone.timedelta(days=settings.CSAT_LINK_MAX_AGE_DAYS + 1)
    ):
        page = client.post(path, {"rating": "good"})
    assert page.status_code == 400
    assert "expired" in page.content.decode()


def test_record_refuses_a_second_answer(survey_url):
    from core.exceptions import DomainError

    path, _ = survey_url
    token = path.rstrip("/").rsplit("/", 1)[1]
    csat_record(token=token, rating=CsatRating.GOOD)
    with pytest.raises(DomainError, match="already"):
        csat_record(token=token, rating=CsatRating.BAD)


def test_fulfilled_notice_from_a_service_carries_the_survey_instead(
    mailoutbox, raise_incident, requester, agent
):
    # given: a service tells the requester itself, in the resolving transaction
    incident = raise_incident()
    with transaction.atomic():
        resolve(incident, agent)
        notify(recipients=[requester], ticket=incident.ticket, event="fulfilled", subject="Done")
    # when
    dispatch_all()
    send_all()
    # then: one resolution e-mail, and it has the survey
    (done,) = [m for m in mailoutbox if m.to == [requester.email] and "Done" in m.subject]
    assert "/survey/" in done.body
    assert not [m for m in mailoutbox if "Resolved" in m.subject and m.to == [requester.email]]

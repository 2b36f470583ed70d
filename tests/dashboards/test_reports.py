"""Weekly report e-mails: subscribe from a dashboard, sent by beat on the chosen weekday at
07:00 in the subscriber's time zone, once, with the tables attached as CSV."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.http import QueryDict

from dashboards.forms import filters_from
from dashboards.models import ReportSubscription
from dashboards.pages import compute
from dashboards.services import reports_send_due
from dashboards.tasks import send_due_reports_task, send_report_task
from tests.dashboards.history import add_ticket

pytestmark = pytest.mark.django_db

MONDAY_0805_LONDON = datetime(2026, 4, 13, 7, 5, tzinfo=UTC)  # BST: 08:05 local


@pytest.fixture
def londoner(manager):
    manager.time_zone = "Europe/London"
    manager.save(update_fields=["time_zone"])
    return manager


def test_subscribing_from_a_dashboard_keeps_its_filters(client, londoner, network_team):
    client.force_login(londoner)
    response = client.post(
        "/dashboards/reports/",
        {
            "dashboard": "backlog",
            "params": f"period=last_7&team={network_team.pk}&bogus=1",
            "weekday": "0",
        },
        follow=True,
    )
    assert response.status_code == 200
    subscription = ReportSubscription.objects.get(user=londoner)
    assert subscription.dashboard == "backlog"
    assert subscription.params == {"period": ["last_7"], "team": [str(network_team.pk)]}
    assert b"Backlog" in client.get("/dashboards/reports/").content


def test_unsubscribing_deletes_only_ones_own(client, londoner, team_lead):
    other = ReportSubscription.objects.create(user=team_lead, dashboard="overview")
    mine = ReportSubscription.objects.create(user=londoner, dashboard="overview")
    client.force_login(londoner)
    assert client.post(f"/dashboards/reports/{other.pk}/delete/").status_code == 404
    client.post(f"/dashboards/reports/{mine.pk}/delete/")
    assert list(ReportSubscription.objects.all()) == [other]


def test_a_report_is_due_once_on_its_weekday_from_seven_local(
    londoner, django_capture_on_commit_callbacks
):
    ReportSubscription.objects.create(user=londoner, dashboard="overview", weekday=0)
    sunday = MONDAY_0805_LONDON - timedelta(days=1)
    assert reports_send_due(now=sunday) == 0
    assert reports_send_due(now=MONDAY_0805_LONDON - timedelta(hours=2)) == 0  # 06:05 local
    with django_capture_on_commit_callbacks() as callbacks:
        assert reports_send_due(now=MONDAY_0805_LONDON) == 1
    assert len(callbacks) == 1
    assert reports_send_due(now=MONDAY_0805_LONDON + timedelta(hours=3)) == 0  # sent today
    assert reports_send_due(now=MONDAY_0805_LONDON + timedelta(days=7)) == 1  # next week


def test_the_report_attaches_every_table_as_its_csv(londoner, world, time_machine):
    # given
    time_machine.move_to(MONDAY_0805_LONDON, tick=False)
    rng = random.Random(4)
    for _ in range(20):
        add_ticket(rng, world, start=MONDAY_0805_LONDON - timedelta(days=9), now=MONDAY_0805_LONDON)
    subscription = ReportSubscription.objects.create(
        user=londoner, dashboard="overview", params={"period": ["last_7"]}
    )
    # when
    sent = send_report_task(subscription_id=subscription.pk, at=MONDAY_0805_LONDON.isoformat())
    # then
    assert sent is True
    (message,) = mail.outbox
    assert message.to == [londoner.email]
    assert message.subject.startswith("SLA overview: ")
    query = QueryDict("period=last_7")
    filters = filters_from(query, zone="Europe/London", now=MONDAY_0805_LONDON, teams=None)
    page = compute("overview", filters)
    attachments = {name: content for name, content, _mime in message.attachments}
    assert attachments == {f"overview-{t.key}.csv": t.csv() for t in page.tables}
    assert "Response compliance" in message.body
    html = message.alternatives[0][0]
    assert "Compliance trend" in html


def test_a_subscriber_who_lost_the_role_gets_nothing(londoner):
    ReportSubscription.objects.create(user=londoner, dashboard="overview", weekday=0)
    londoner.groups.remove(Group.objects.get(name="service desk manager"))
    assert reports_send_due(now=MONDAY_0805_LONDON) == 0
    assert not ReportSubscription.objects.get().active


def test_the_beat_task_queues_what_is_due(londoner, time_machine):
    ReportSubscription.objects.create(user=londoner, dashboard="volumes", weekday=0)
    time_machine.move_to(MONDAY_0805_LONDON, tick=False)
    assert send_due_reports_task() == 1

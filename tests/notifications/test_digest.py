"""Daily digest: one e-mail per user at their hour, holding what waited."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.notifications.conftest import send_all
from tickets.choices import EmailMode, EmailStatus
from tickets.mail import digest_send, digests_due
from tickets.models import Notification
from tickets.notifications import notification_preferences_save, notify

pytestmark = pytest.mark.django_db


def test_digest_users_get_one_email_at_their_hour(settings, mailoutbox, requester, agent):
    # given: Rita wants a digest and lives in Berlin
    settings.NOTIFY_DIGEST_HOUR = 7
    requester.time_zone = "Europe/Berlin"
    requester.save()
    notification_preferences_save(user=requester, email_mode=EmailMode.DIGEST, categories={})
    notify(recipients=[requester, agent], ticket=None, event="test", subject="First")
    notify(recipients=[requester], ticket=None, event="test", subject="Second")
    send_all()
    assert [m.to for m in mailoutbox] == [[agent.email]]  # Alice gets hers at once
    assert set(
        Notification.objects.filter(recipient=requester).values_list("email_status", flat=True)
    ) == {EmailStatus.DIGEST}
    # when: the hourly run comes at 06:00 UTC = 07:00 in Berlin (winter)
    berlin_seven = datetime(2025, 1, 15, 7, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert digests_due(now=berlin_seven - timedelta(hours=1)) == []
    assert digests_due(now=berlin_seven) == [requester.pk]
    assert digest_send(user_id=requester.pk) == 2
    # then
    digest = mailoutbox[-1]
    assert digest.to == [requester.email]
    assert "First" in digest.body
    assert "Second" in digest.body
    assert digest_send(user_id=requester.pk) == 0  # nothing twice
    assert not Notification.objects.filter(email_status=EmailStatus.DIGEST).exists()


def test_a_missed_digest_run_is_caught_up_after_a_day(requester):
    notification_preferences_save(user=requester, email_mode=EmailMode.DIGEST, categories={})
    notify(recipients=[requester], ticket=None, event="test", subject="Old")
    Notification.objects.update(created_at=datetime(2025, 1, 1, 3, tzinfo=ZoneInfo("UTC")))
    assert digests_due(now=datetime(2025, 1, 2, 5, tzinfo=ZoneInfo("UTC"))) == [requester.pk]


def test_leaving_digest_mode_releases_the_waiting_emails(mailoutbox, requester):
    notification_preferences_save(user=requester, email_mode=EmailMode.DIGEST, categories={})
    notify(recipients=[requester], ticket=None, event="test", subject="Waiting")
    notification_preferences_save(user=requester, email_mode=EmailMode.IMMEDIATE, categories={})
    send_all()
    assert [m.subject for m in mailoutbox] == ["Waiting"]

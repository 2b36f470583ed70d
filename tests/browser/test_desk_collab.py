"""Two agents on the same desk ticket, in two real Chromium contexts: each sees the other
(and when they type); the second save on a stale version is caught, shows what changed,
keeps the typed text, and "Apply mine anyway" saves it."""

import pytest
from django.conf import settings as django_settings
from playwright.sync_api import expect

from incidents.services import incident_create
from tests.browser.conftest import log_in
from tests.factories import MembershipFactory, UserFactory
from tickets.choices import EventType
from tickets.models import TicketEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT = 15_000  # ms: a few presence polls


@pytest.fixture(autouse=True)
def _fast_presence(settings):
    """Poll every second instead of ten: the same code path, a shorter test."""
    settings.DESK_PRESENCE_POLL_SECONDS = 1
    settings.DESK_PRESENCE_TTL_SECONDS = 30
    yield
    from desk.presence import _redis

    client, _ = _redis()
    for key in client.scan_iter(f"{django_settings.CACHES['default']['KEY_PREFIX']}:desk:*"):
        client.delete(key)


@pytest.fixture
def nick(network_team):
    user = UserFactory(username="nick", display_name="Nick Network", roles=["agent"])
    MembershipFactory(team=network_team, user=user)
    return user


def test_two_agents_see_each_other_and_the_second_save_is_caught(
    new_page, agent, nick, requester, network_team
):
    incident = incident_create(
        requester=requester, by=requester, title="Wi-Fi drops", team=network_team
    )
    url = f"/desk/incidents/{incident.pk}/"
    alice, bob = new_page(), new_page()
    log_in(alice, "alice")
    log_in(bob, "nick")
    alice.goto(url)
    bob.goto(url)

    # both see the other in the presence area
    expect(alice.locator("#presence")).to_contain_text("Also here:", timeout=WAIT)
    expect(alice.locator("#presence")).to_contain_text("Nick Network (viewing)", timeout=WAIT)
    expect(bob.locator("#presence")).to_contain_text("Alice Agent (viewing)", timeout=WAIT)
    expect(alice.locator("#presence")).not_to_contain_text("Alice Agent")

    # Nick starts typing a note: Alice sees it
    draft = "Swapped the access point on floor 2; please confirm."
    bob.locator("#reply-form textarea[name=body]").press_sequentially(draft[:12], delay=20)
    expect(alice.locator("#presence")).to_contain_text("Nick Network (typing…)", timeout=WAIT)
    bob.locator("#reply-form textarea[name=body]").fill(draft)

    # Alice saves first: she takes the ticket
    alice.locator("#assign-to-me").click()
    expect(alice.locator("#assignee-name")).to_have_text("Alice Agent")

    # Nick's save is on a stale version: caught, the change shown, his text kept
    bob.locator("#add-note").click()
    notice = bob.locator("#stale")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Someone else changed this ticket")
    expect(bob.locator("#stale-changes")).to_contain_text("Alice Agent")
    expect(bob.locator("#stale-changes")).to_contain_text("changed assignee")
    expect(notice).to_be_focused()
    expect(bob.locator("#reply-form textarea[name=body]")).to_have_value(draft)
    assert not TicketEvent.objects.filter(ticket_id=incident.pk, body=draft).exists()

    # "Apply mine anyway" saves it on top of the current version
    bob.locator("#stale-apply").click()
    expect(bob.locator("#stale")).to_have_count(0)
    expect(bob.locator("#timeline")).to_contain_text(draft)
    note = TicketEvent.objects.get(ticket_id=incident.pk, body=draft)
    assert note.type == EventType.WORK_NOTE
    assert note.actor == nick

    # the presence area goes quiet once Nick leaves the page (no waiting for the TTL)
    bob.goto("/desk/")
    expect(alice.locator("#presence")).not_to_contain_text("Nick Network", timeout=WAIT)

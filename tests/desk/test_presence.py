"""Presence on desk tickets: Redis entries with expiry, the typing state, and the endpoint's
visibility rules (hidden ticket 404, requesters have no desk)."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from desk.presence import (
    TYPING,
    VIEWING,
    _key,
    _redis,
    presence_leave,
    presence_others,
    presence_touch,
)
from tests.conftest import wait_until
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_presence():
    """Ticket ids repeat across test databases: start and end with no presence keys."""
    client, _ = _redis()
    pattern = f"{settings.CACHES['default']['KEY_PREFIX']}:desk:presence:*"
    for key in client.scan_iter(pattern):
        client.delete(key)
    yield
    for key in client.scan_iter(pattern):
        client.delete(key)


def url(pk):
    return f"/desk/tickets/{pk}/presence/"


# ------------------------------------------------------------------ the Redis store
def test_touch_returns_the_others_and_others_sees_everyone_but_me(agent, nick):
    assert presence_touch(ticket_id=10_001, user=agent, state=VIEWING) == []
    seen_by_nick = presence_touch(ticket_id=10_001, user=nick, state=TYPING)
    assert [(p.user_id, p.name, p.state) for p in seen_by_nick] == [
        (agent.pk, "Alice Agent", VIEWING)
    ]
    seen_by_alice = presence_others(ticket_id=10_001, user=agent)
    assert [(p.name, p.typing) for p in seen_by_alice] == [("Nick Network", True)]
    # other tickets are separate
    assert presence_others(ticket_id=10_002, user=agent) == []


def test_typing_goes_back_to_viewing_on_the_next_touch(agent, nick):
    presence_touch(ticket_id=10_003, user=nick, state=TYPING)
    assert presence_others(ticket_id=10_003, user=agent)[0].state == TYPING
    presence_touch(ticket_id=10_003, user=nick, state=VIEWING)
    assert presence_others(ticket_id=10_003, user=agent)[0].state == VIEWING


def test_entries_expire_after_the_ttl_and_the_key_goes_away(agent, nick, settings):
    settings.DESK_PRESENCE_TTL_SECONDS = 1
    presence_touch(ticket_id=10_004, user=nick, state=VIEWING)
    assert [p.name for p in presence_others(ticket_id=10_004, user=agent)] == ["Nick Network"]
    wait_until(
        lambda: presence_others(ticket_id=10_004, user=agent) == [],
        timeout=5,
        message="presence did not expire",
    )
    client, _ = _redis()
    wait_until(lambda: not client.exists(_key(10_004)), timeout=5, message="key kept")


def test_an_agent_who_keeps_touching_stays_while_a_silent_one_expires(agent, nick, settings):
    settings.DESK_PRESENCE_TTL_SECONDS = 1.5
    presence_touch(ticket_id=10_005, user=nick, state=VIEWING)
    presence_touch(ticket_id=10_005, user=agent, state=VIEWING)

    def nick_gone_alice_present():
        presence_touch(ticket_id=10_005, user=agent, state=VIEWING)  # alice keeps polling
        names = [p.name for p in presence_others(ticket_id=10_005, user=nick)]
        gone = presence_others(ticket_id=10_005, user=agent) == []
        return gone and names == ["Alice Agent"]

    wait_until(nick_gone_alice_present, timeout=6, interval=0.2)


def test_leave_forgets_at_once(agent, nick):
    presence_touch(ticket_id=10_006, user=nick, state=VIEWING)
    presence_leave(ticket_id=10_006, user=nick)
    assert presence_others(ticket_id=10_006, user=agent) == []


def test_unknown_state_is_refused(agent):
    with pytest.raises(ValueError, match="unknown presence state"):
        presence_touch(ticket_id=10_007, user=agent, state="dancing")


def test_redis_down_shows_nobody_instead_of_failing(agent, settings):
    settings.DESK_PRESENCE_REDIS_URL = "redis://127.0.0.1:1/0"
    assert presence_touch(ticket_id=10_008, user=agent, state=VIEWING) == []
    presence_leave(ticket_id=10_008, user=agent)  # no exception either


# ------------------------------------------------------------------ the endpoint
def test_endpoint_lists_the_other_agents_with_their_state(client, agent, nick, incident):
    client.force_login(nick)
    assert client.post(url(incident.pk), {"state": "typing"}).status_code == 200
    client.force_login(agent)
    response = client.post(url(incident.pk), {"state": "viewing"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Also here:" in body
    assert "Nick Network (typing…)" in body
    assert "Alice Agent" not in body  # never yourself
    assert response["Cache-Control"] == "no-store"


def test_endpoint_left_removes_the_agent(client, agent, nick, incident):
    client.force_login(nick)
    client.post(url(incident.pk), {"state": "viewing"})
    assert client.post(url(incident.pk), {"state": "left"}).status_code == 204
    assert presence_others(ticket_id=incident.pk, user=agent) == []


def test_nobody_else_renders_an_empty_slot(client, agent, incident):
    client.force_login(agent)
    response = client.post(url(incident.pk))
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_a_ticket_the_agent_cannot_see_is_404_and_records_nothing(
    client, other_agent, agent, incident
):
    client.force_login(other_agent)  # Database team; the incident is the Network team's
    assert client.post(url(incident.pk), {"state": "viewing"}).status_code == 404
    assert presence_others(ticket_id=incident.pk, user=agent) == []
    assert client.post(url(999_999)).status_code == 404


def test_a_requester_has_no_desk_presence(client, requester, agent, incident):
    client.force_login(requester)  # it is their own ticket, but the desk is for agents
    assert client.post(url(incident.pk), {"state": "viewing"}).status_code == 403
    assert presence_others(ticket_id=incident.pk, user=agent) == []


def test_anonymous_is_sent_to_log_in(client, incident):
    response = client.post(url(incident.pk))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_get_is_not_allowed(client, agent, incident):
    client.force_login(agent)
    assert client.get(url(incident.pk)).status_code == 405


def test_endpoint_queries_are_the_permission_check_only(client, agent, nick, incident):
    client.force_login(agent)
    client.post(url(incident.pk))  # warm up
    with CaptureQueriesContext(connection) as one:
        client.post(url(incident.pk))
    for name in ("nick", "nora", "noel"):
        user = nick if name == "nick" else UserFactory(username=name, roles=["agent"])
        presence_touch(ticket_id=incident.pk, user=user, state=VIEWING)
    with CaptureQueriesContext(connection) as three:
        response = client.post(url(incident.pk))
    assert response.content.decode().count("(viewing)") == 3
    assert len(three) == len(one)  # presence itself costs no SQL, whatever the crowd
    tables = " ".join(q["sql"] for q in three.captured_queries)
    assert "tickets_ticketevent" not in tables


def test_every_ticket_page_has_the_presence_slot(client, agent, incident):
    client.force_login(agent)
    page = client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    assert f'hx-post="/desk/tickets/{incident.pk}/presence/"' in page
    assert 'aria-live="polite"' in page
    assert 'data-collab-panel="incident"' in page
    assert "js/desk-collab.js" in page

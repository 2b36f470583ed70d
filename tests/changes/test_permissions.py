"""Who sees which change (Change.objects.visible_to) and who may do what (predicates)."""

import pytest

from changes import permissions, services
from changes.models import Change
from tickets.models import Approval

pytestmark = pytest.mark.django_db


@pytest.fixture
def network_change(make_change, network_team, requester, agent):
    return make_change(title="Network change", team=network_team, requester=requester)


@pytest.fixture
def database_change(make_change, database_team, other_agent):
    return make_change(title="Database change", team=database_team, by=other_agent)


def visible(user):
    return set(Change.objects.visible_to(user).values_list("ticket__title", flat=True))


def test_agents_see_their_teams_changes(network_change, database_change, agent, other_agent):
    assert visible(agent) == {"Network change"}
    assert visible(other_agent) == {"Database change"}


def test_the_requester_sees_their_own_change(network_change, database_change, requester):
    assert visible(requester) == {"Network change"}


def test_change_managers_and_managers_see_every_change(
    network_change, database_change, change_manager, manager
):
    assert visible(change_manager) == {"Network change", "Database change"}
    assert visible(manager) == {"Network change", "Database change"}


def test_a_cab_member_sees_only_the_changes_they_are_asked_about(
    network_change, database_change, advance, cab
):
    assert visible(cab[0]) == set()
    advance(network_change, "authorize", approvers=[cab[0]])
    assert visible(cab[0]) == {"Network change"}
    assert visible(cab[1]) == set()


def test_an_approval_addressed_to_a_team_shows_the_change_to_its_members(
    network_change, database_team, other_agent, cab
):
    Approval.objects.create(ticket=network_change.ticket, stage=2, approver_team=database_team)
    assert "Network change" in visible(other_agent)


def test_inactive_and_anonymous_users_see_nothing(network_change, agent):
    from django.contrib.auth.models import AnonymousUser

    agent.is_active = False
    agent.save()
    assert not Change.objects.visible_to(agent).exists()
    assert not Change.objects.visible_to(AnonymousUser()).exists()


def test_predicates_by_persona(network_change, advance, agent, requester, change_manager, cab):
    change = advance(network_change, "authorize", approvers=[cab[0]])
    approval = Approval.objects.get(ticket_id=change.pk, stage=2)
    matrix = {
        "agent": (agent, True, False, False, True),
        "requester": (requester, False, False, False, False),
        "change manager": (change_manager, True, True, False, True),
        "approver": (cab[0], False, False, True, True),
        "other CAB member": (cab[1], False, False, False, True),
    }
    for name, (user, work, manage, decide, calendar) in matrix.items():
        assert permissions.can_work(user, change) is work, name
        assert permissions.can_manage(user, change) is manage, name
        assert permissions.can_decide(user, change, approval) is decide, name
        assert permissions.can_use_calendar(user) is calendar, name
    assert permissions.can_manage_blackouts(change_manager)
    assert not permissions.can_manage_blackouts(agent)


def test_send_to_cab_and_risk_predicates_follow_the_status(
    network_change, advance, agent, change_manager
):
    assert permissions.can_assess_risk(agent, network_change)
    assert not permissions.can_send_to_cab(change_manager, network_change)  # draft: assess first
    change = advance(network_change, "assess")
    assert permissions.can_send_to_cab(change_manager, change)
    assert permissions.can_override_risk(change_manager, change)
    assert not permissions.can_override_risk(agent, change)
    change = services.change_send_to_cab(change=change, by=change_manager)
    assert not permissions.can_assess_risk(agent, change)

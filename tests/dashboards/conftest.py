from datetime import timedelta

import pytest

from accounts.models import Team
from incidents.models import Category
from slas.models import BusinessCalendar, SlaPolicy
from tests.dashboards.history import World
from tests.factories import MembershipFactory, OrganizationFactory, ServiceFactory, UserFactory


@pytest.fixture
def always():
    return BusinessCalendar.objects.create(
        name="24x7", timezone="UTC", hours={str(d): [["00:00", "24:00"]] for d in range(7)}
    )


@pytest.fixture
def world(requester, agent, network_team, database_team, always):
    policies = {
        metric: SlaPolicy.objects.create(
            name=f"History {metric}", kind="incident", metric=metric, target=target, calendar=always
        )
        for metric, target in (("response", timedelta(hours=1)), ("resolution", timedelta(hours=8)))
    }
    return World(
        requester=requester,
        agent=agent,
        teams=[network_team, database_team],
        services=[ServiceFactory(name="VPN"), ServiceFactory(name="E-mail")],
        orgs=[requester.organization, OrganizationFactory(name="Globex")],
        categories=[
            Category.objects.create(name="Network"),
            Category.objects.create(name="Access"),
        ],
        policies=policies,
    )


@pytest.fixture
def team_lead(network_team):
    """An agent who leads the Network team (and only that)."""
    lead = UserFactory(username="lena", display_name="Lena Lead", roles=["agent"])
    MembershipFactory(team=network_team, user=lead)
    Team.objects.filter(pk=network_team.pk).update(lead=lead)
    return lead

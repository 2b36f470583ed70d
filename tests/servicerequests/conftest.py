import pytest

from tests.factories import MembershipFactory, UserFactory
from tests.servicerequests.builders import laptop_form, make_item, manager_stage


@pytest.fixture
def boss(requester):
    """The requester's line manager (a portal user, not an agent)."""
    user = UserFactory(username="bea", display_name="Bea Boss")
    requester.manager = user
    requester.save(update_fields=["manager"])
    return user


@pytest.fixture
def second_agent(network_team):
    user = UserFactory(username="nick", display_name="Nick Network", roles=["agent"])
    MembershipFactory(team=network_team, user=user)
    return user


@pytest.fixture
def laptop(network_team, database_team):
    """A laptop with a conditional form, manager approval and two sequenced tasks."""
    return make_item(
        name="Laptop",
        fulfilment_team=network_team,
        variables=laptop_form(),
        stages=[manager_stage()],
        tasks=[
            {"title": "Prepare the laptop", "team": network_team, "waits_for_previous": False},
            {"title": "Hand it over", "team": database_team, "waits_for_previous": True},
        ],
    )


STANDARD = {"model": "standard"}

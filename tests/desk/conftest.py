"""Desk personas shared by the desk tests."""

import pytest

from incidents.services import incident_create
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def teammate(network_team):
    """A second agent in the Network team (Nick)."""
    user = UserFactory(username="nick", display_name="Nick Network", roles=["agent"])
    MembershipFactory(team=network_team, user=user)
    return user


@pytest.fixture
def nick(teammate):
    return teammate


@pytest.fixture
def incident(requester, network_team):
    """An open Network incident raised by Rita."""
    return incident_create(requester=requester, by=requester, title="Printer", team=network_team)

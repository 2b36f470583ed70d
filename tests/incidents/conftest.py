import pytest

from incidents.services import incident_create


@pytest.fixture
def make_incident(requester):
    def make(**kwargs):
        kwargs.setdefault("requester", requester)
        kwargs.setdefault("by", kwargs["requester"])
        kwargs.setdefault("title", "VPN is down")
        return incident_create(**kwargs)

    return make


@pytest.fixture
def incident(make_incident, network_team):
    return make_incident(team=network_team)

"""The queue's filter and bulk bars in a real browser: their long selects (teams, services,
organisations, agents) load their options when they first come into view."""

import re

import pytest
from playwright.sync_api import expect

from incidents.services import incident_create
from tests.browser.conftest import log_in
from tests.factories import TeamFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_by_a_team_from_the_lazily_loaded_select(new_page, agent, requester, network_team):
    database = TeamFactory(name="Database")
    incident_create(requester=requester, by=requester, title="Switch down", team=network_team)
    incident_create(requester=requester, by=requester, title="Pool empty", team=None)
    page = new_page()
    log_in(page, "alice")
    page.goto("/desk/")
    team = page.locator("#filter-team")
    expect(team.locator("option")).to_have_count(1)  # nothing loaded while the menu is shut
    page.locator("#filters-menu summary").click()
    expect(team.locator("option")).to_have_count(3)  # "Any", Database, Network
    team.select_option(label="Network")
    page.locator("#filter-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"team=\d+"))
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    expect(page.locator("#queue")).to_contain_text("Switch down")
    # the chosen team is still selected after the reload, before and after its options load
    expect(page.locator("#filter-team")).to_have_value(str(network_team.pk))
    page.locator("#filters-menu summary").click()
    expect(page.locator("#filter-team option")).to_have_count(3)
    expect(page.locator("#filter-team")).to_have_value(str(network_team.pk))
    assert database.pk

    # the bulk bar's lists load when their action shows them
    expect(page.locator("#bulk-assignee")).to_contain_text("Alice Agent")  # the default action
    expect(page.locator("#bulk-team option")).to_have_count(1)
    page.locator("#bulk-action").select_option("team")
    expect(page.locator("#bulk-team option")).to_have_count(3)

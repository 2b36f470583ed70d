"""The item admin: the form editor is validated as a whole on save, a destructive edit says
what it removes and asks for confirmation, and a changed form gets a new version."""

from html.parser import HTMLParser

import pytest

from catalogue.models import CatalogueItem, FormVariable
from servicerequests.services import service_request_submit
from tests.factories import UserFactory
from tests.servicerequests.builders import choices, make_item

pytestmark = pytest.mark.django_db


class FormValues(HTMLParser):
    """The values a browser would post for the admin change form."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.values.append((name, a.get("value", "on")))
            else:
                self.values.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.values.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def item(network_team):
    return make_item(
        name="Laptop",
        fulfilment_team=network_team,
        variables=[
            {"name": "os", "label": "OS", "type": "choice", "choices": choices("win", "mac")},
            {
                "name": "mac_model",
                "label": "Which Mac",
                "type": "choice",
                "choices": choices("air", "pro"),
                "show_if_variable": "os",
                "show_if_operator": "equals",
                "show_if_value": "mac",
            },
            {"name": "notes", "label": "Notes", "type": "multiline"},
        ],
    )


def url(item):
    return f"/admin/catalogue/catalogueitem/{item.pk}/change/"


def current(admin_client, item) -> dict[str, list[str]]:
    parser = FormValues()
    parser.feed(admin_client.get(url(item)).content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.values:
        data.setdefault(name, []).append(value)
    return data


def field(data, name, row, value):
    data[f"variables-{row}-{name}"] = [value]


def rows(data):
    """Row index by question name in the posted formset."""
    return {
        data[key][0]: int(key.split("-")[1])
        for key in data
        if key.startswith("variables-")
        and key.endswith("-name")
        and data[key]
        and "__prefix__" not in key
    }


def test_the_change_page_renders_the_form_editor(admin_client, item):
    page = admin_client.get(url(item)).content.decode()
    assert "Form (questions, asked in order)" in page
    assert "win\nmac" in page or "win\r\nmac" in page


def test_an_invalid_definition_is_refused_with_messages_on_the_questions(admin_client, item):
    data = current(admin_client, item)
    index = rows(data)
    field(data, "name", index["mac_model"], "os")  # duplicate name
    field(data, "show_if_variable", index["mac_model"], "notes")  # points at a later question

    response = admin_client.post(url(item), data)

    page = response.content.decode()
    assert response.status_code == 200
    assert "is already the name of question 1" in page
    assert "a condition must point at an earlier question" in page
    assert set(item.variables.values_list("name", flat=True)) == {"os", "mac_model", "notes"}


def test_a_destructive_edit_asks_for_confirmation_then_saves(admin_client, item):
    # given an edit that deletes a question and drops a choice
    data = current(admin_client, item)
    index = rows(data)
    data[f"variables-{index['notes']}-DELETE"] = ["on"]
    field(data, "choices", index["mac_model"], "air | Air")

    # when it is saved: a confirmation page lists what goes, and nothing changed yet
    response = admin_client.post(url(item), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="confirm-removal"' in page
    assert "The question “Notes” (notes)." in page
    assert "The choice “pro” of “Which Mac”." in page
    assert FormVariable.objects.filter(item=item).count() == 3

    # then confirming saves it and moves the form to a new version
    data["_confirm_removal"] = ["1"]
    saved = admin_client.post(url(item), data)
    assert saved.status_code == 302
    item.refresh_from_db()
    assert item.form_version == 2
    assert list(item.variables.values_list("name", flat=True)) == ["os", "mac_model"]
    assert item.variables.get(name="mac_model").choices == [{"value": "air", "label": "Air"}]


def test_removing_the_last_choice_removes_the_choices_altogether(admin_client, item, requester):
    data = current(admin_client, item)
    index = rows(data)
    field(data, "choices", index["mac_model"], "")

    page = admin_client.post(url(item), data).content.decode()

    assert "All choices of “Which Mac” (air, pro)" in page
    assert "no longer be asked" in page
    data["_confirm_removal"] = ["1"]
    assert admin_client.post(url(item), data).status_code == 302
    assert item.variables.get(name="mac_model").choices == []
    # the question is skipped when ordering
    request = service_request_submit(item=item, by=requester, answers={"os": "mac"})
    assert request.answers == {"os": "mac"}


def test_a_condition_left_dangling_by_a_removed_choice_is_refused(admin_client, item):
    data = current(admin_client, item)
    field(data, "choices", rows(data)["os"], "win")  # mac_model's condition needs "mac"

    page = admin_client.post(url(item), data).content.decode()

    assert "is not a choice of “OS”" in page
    assert 'id="confirm-removal"' not in page


def test_edits_that_remove_nothing_save_at_once_and_bump_the_version(admin_client, item):
    data = current(admin_client, item)
    field(data, "label", rows(data)["notes"], "Anything else?")

    response = admin_client.post(url(item), data)

    assert response.status_code == 302
    item.refresh_from_db()
    assert item.form_version == 2
    assert item.variables.get(name="notes").label == "Anything else?"


def test_edits_outside_the_form_keep_the_version(admin_client, item):
    data = current(admin_client, item)
    data["name"] = ["Notebook"]

    assert admin_client.post(url(item), data).status_code == 302
    item.refresh_from_db()
    assert (item.name, item.form_version) == ("Notebook", 1)


def test_adding_an_item_with_its_first_questions(admin_client, item):
    data = {k: v for k, v in current(admin_client, item).items() if not k.startswith("variables-")}
    data.update(
        {
            "name": ["Monitor"],
            "slug": ["monitor"],
            "variables-TOTAL_FORMS": ["1"],
            "variables-INITIAL_FORMS": ["0"],
            "variables-0-order": ["10"],
            "variables-0-name": ["size"],
            "variables-0-label": ["Size"],
            "variables-0-type": ["number"],
            "variables-0-min_value": ["20"],
            "variables-0-max_value": ["40"],
        }
    )

    response = admin_client.post("/admin/catalogue/catalogueitem/add/", data)

    errors = [line for line in response.content.decode().splitlines() if "errorlist" in line]
    assert response.status_code == 302, errors
    monitor = CatalogueItem.objects.get(slug="monitor")
    assert [v.name for v in monitor.definition()] == ["size"]
    assert monitor.form_version == 1

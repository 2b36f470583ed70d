"""Catalogue models: services, categories, item search and safe Markdown."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from catalogue.choices import Lifecycle
from catalogue.models import CatalogueItem, Service
from catalogue.templatetags.catalogue_ui import render_markdown, working_time
from tests.factories import ServiceFactory
from tests.servicerequests.builders import make_category, make_item


@pytest.mark.django_db
def test_services_have_kinds_lifecycles_and_a_parent():
    business = ServiceFactory(name="Payroll", kind="business")
    technical = ServiceFactory(name="Payroll DB", kind="technical", parent=business)
    retired = ServiceFactory(name="Fax", lifecycle=Lifecycle.RETIRED)

    assert list(business.children.all()) == [technical]
    assert retired not in Service.objects.orderable()
    business.parent = technical
    with pytest.raises(ValidationError):
        business.clean()


@pytest.mark.django_db
def test_categories_nest_but_never_inside_themselves():
    hardware = make_category("Hardware")
    accessories = make_category("Accessories", parent=hardware)
    hardware.parent = accessories
    with pytest.raises(ValidationError):
        hardware.clean()
    assert str(accessories) == "Hardware › Accessories"


@pytest.mark.django_db
def test_search_matches_every_word_in_names_and_descriptions():
    make_item(name="Laptop", short_description="A computer", description="Fast **SSD**")
    make_item(name="Docking station", short_description="For a laptop", description="USB-C")

    def names(text):
        return sorted(CatalogueItem.objects.search(text).values_list("name", flat=True))

    assert names("laptop") == ["Docking station", "Laptop"]
    assert names("laptop ssd") == ["Laptop"]
    assert names("usb-c") == ["Docking station"]
    assert names("tablet") == []


@pytest.mark.parametrize(
    ("source", "present", "absent"),
    [
        (
            "**bold** and [link](https://example.com)",
            ["<strong>bold</strong>", 'rel="noopener noreferrer"'],
            [],
        ),
        ("<script>alert(1)</script>hi", ["hi"], ["<script"]),
        ('<img src=x onerror="alert(1)">', [], ["onerror", "<img"]),
        ("[x](javascript:alert(1))", [], ["javascript:"]),
        ("- one\n- two", ["<li>one</li>"], []),
    ],
)
def test_descriptions_render_markdown_safely(source, present, absent):
    html = str(render_markdown(source))
    for fragment in present:
        assert fragment in html
    for fragment in absent:
        assert fragment not in html


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        (8, "1 working day"),
        (24, "3 working days"),
        (4, "4 working hours"),
        (0.5, "30 working minutes"),
    ],
)
def test_working_time_reads_naturally(hours, text):
    assert working_time(timedelta(hours=hours)) == text


@pytest.mark.django_db
def test_expected_delivery_must_be_positive():
    item = make_item(name="Thing")
    item.expected_delivery = timedelta(0)
    with pytest.raises(ValidationError):
        item.clean()

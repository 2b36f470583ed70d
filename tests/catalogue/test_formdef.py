"""Form definition validation and the description of destructive edits (no database)."""

from decimal import Decimal

import pytest

from catalogue.choices import Operator as O
from catalogue.choices import VariableType as T
from catalogue.formdef import (
    Choice,
    Condition,
    Variable,
    definition_from_json,
    definition_to_json,
    removals,
    shown_names,
    validate_definition,
)


def var(name, type=T.TEXT, **kw):
    choices = kw.pop("choices", ())
    return Variable(
        name=name,
        label=kw.pop("label", name.title()),
        type=type,
        choices=tuple(Choice(c, c.title()) for c in choices),
        **kw,
    )


def problems(*variables):
    return [(e.index, e.field) for e in validate_definition(list(variables))]


def test_a_good_form_has_no_problems():
    assert (
        problems(
            var("os", T.CHOICE, choices=("win", "mac"), default="win"),
            var("ram", T.NUMBER, min_value=Decimal(8), max_value=Decimal(64), default="16"),
            var("dock", T.YES_NO, default="no"),
            var("extra", T.TEXT, condition=Condition("os", O.EQUALS, "mac")),
            var("when", T.DATE, default="2026-01-01"),
            var("apps", T.MULTI_CHOICE, choices=("a", "b"), default="a,b"),
        )
        == []
    )


def test_names_must_be_unique_and_well_formed():
    assert problems(var("os"), var("os")) == [(1, "name")]
    assert problems(var("Bad Name")) == [(0, "name")]
    assert problems(var("9lives")) == [(0, "name")]
    assert problems(var("x" * 51)) == [(0, "name")]


def test_every_question_needs_a_label_and_a_known_type():
    assert problems(var("a", label=" ")) == [(0, "label")]
    assert problems(var("a", type="colour")) == [(0, "type")]


@pytest.mark.parametrize(
    ("values", "why"),
    [
        (("a", "a"), "twice"),
        (("a,b",), "comma"),
        ((" a",), "padded"),
        (("",), "empty"),
    ],
)
def test_choices_must_be_valid(values, why):
    variable = Variable(
        name="pick", label="Pick", type=T.CHOICE, choices=tuple(Choice(v, v or "x") for v in values)
    )
    [error] = validate_definition([variable])
    assert error.field == "choices"


def test_only_choice_questions_have_choices_and_only_numbers_bounds():
    assert problems(var("a", T.TEXT, choices=("x",))) == [(0, "choices")]
    assert problems(var("a", T.TEXT, min_value=Decimal(1))) == [(0, "min_value")]
    assert problems(var("n", T.NUMBER, min_value=Decimal(5), max_value=Decimal(1))) == [
        (0, "max_value")
    ]


@pytest.mark.parametrize(
    "variable",
    [
        var("os", T.CHOICE, choices=("win",), default="linux"),
        var("n", T.NUMBER, max_value=Decimal(3), default="4"),
        var("n", T.NUMBER, default="lots"),
        var("y", T.YES_NO, default="maybe"),
        var("d", T.DATE, default="tomorrow"),
        var("apps", T.MULTI_CHOICE, choices=("a",), default="a,z"),
        var("who", T.USER, default="1"),
    ],
)
def test_defaults_must_fit_the_question(variable):
    assert problems(variable) == [(0, "default")]


def test_conditions_must_point_at_an_earlier_question():
    later = [var("a", condition=Condition("b", O.EQUALS, "x")), var("b")]
    assert problems(*later) == [(0, "show_if_variable")]
    assert "comes later" in validate_definition(later)[0].message
    assert problems(var("a", condition=Condition("nope", O.ANSWERED))) == [(0, "show_if_variable")]
    assert problems(var("a", condition=Condition("a", O.ANSWERED))) == [(0, "show_if_variable")]


def test_conditions_must_compare_in_a_way_that_fits_the_source():
    source = var("os", T.CHOICE, choices=("win", "mac"))
    assert problems(source, var("x", condition=Condition("os", O.EQUALS, "linux"))) == [
        (1, "show_if_value")
    ]
    assert problems(source, var("x", condition=Condition("os", O.GREATER_THAN, "1"))) == [
        (1, "show_if_operator")
    ]
    number = var("n", T.NUMBER)
    assert problems(number, var("x", condition=Condition("n", O.LESS_THAN, "abc"))) == [
        (1, "show_if_value")
    ]
    flag = var("f", T.YES_NO)
    assert problems(flag, var("x", condition=Condition("f", O.EQUALS, "yes"))) == []


def test_definitions_round_trip_through_json():
    form = [
        var("os", T.CHOICE, choices=("win",), required=True, default="win"),
        var("n", T.NUMBER, min_value=Decimal("1.5"), condition=Condition("os", O.EQUALS, "win")),
    ]
    assert definition_from_json(definition_to_json(form)) == form


def test_shown_names_follow_conditions_in_order():
    form = [
        var("os", T.CHOICE, choices=("win", "mac")),
        var("mac_only", T.YES_NO, condition=Condition("os", O.EQUALS, "mac")),
        var("deeper", T.TEXT, condition=Condition("mac_only", O.EQUALS, "yes")),
    ]
    assert shown_names(form, {"os": "win", "mac_only": True}) == {"os"}
    assert shown_names(form, {"os": "mac", "mac_only": True}) == {"os", "mac_only", "deeper"}


# ------------------------------------------------------------------ destructive edits
def test_removals_name_deleted_questions_and_removed_choices():
    before = {1: var("os", T.CHOICE, choices=("win", "mac", "linux")), 2: var("notes")}
    after = {1: var("os", T.CHOICE, choices=("win",))}

    lines = removals(before, after)

    assert lines == [
        "The choices “Mac”, “Linux” of “Os”.",
        "The question “Notes” (notes).",
    ]


def test_removing_the_last_choice_removes_the_questions_choices_altogether():
    before = {1: var("os", T.CHOICE, choices=("win",))}
    after = {1: var("os", T.CHOICE)}

    [line] = removals(before, after)

    assert line.startswith("All choices of “Os” (Win)")
    assert "no longer be asked" in line
    assert validate_definition(list(after.values())) == []  # allowed: the question is skipped
    assert not after[1].asked


def test_renames_and_additions_remove_nothing():
    before = {1: var("os", T.CHOICE, choices=("win",))}
    after = {
        1: var("system", T.CHOICE, choices=("win", "mac"), label="System"),
        None: var("new"),
    }
    assert removals(before, after) == []


def test_changing_a_choice_question_to_text_removes_its_choices():
    before = {1: var("os", T.CHOICE, choices=("win",))}
    after = {1: var("os", T.TEXT)}
    [line] = removals(before, after)
    assert "All choices of “Os”" in line

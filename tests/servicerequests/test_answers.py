"""Server-side answer validation: every variable type, bounds, required, choices, show-if
conditions; and, with random answers, the server never stores an invalid one nor crashes."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogue import formdef
from catalogue.choices import Operator as O
from catalogue.choices import VariableType as T
from servicerequests.answers import AnswersInvalid, answers_display, answers_validate
from servicerequests.models import ServiceRequest
from servicerequests.services import service_request_submit
from tests.factories import ServiceFactory, UserFactory
from tests.servicerequests.builders import make_item
from tickets.models import Attachment, Ticket


def var(name, type, **kw):
    choices = kw.pop("choices", ())
    return formdef.Variable(
        name=name,
        label=kw.pop("label", name.title()),
        type=type,
        choices=tuple(formdef.Choice(c, c.upper()) for c in choices),
        **kw,
    )


def valid(variables, raw, **kw):
    return answers_validate(variables=variables, raw=raw, **kw).values


def errors(variables, raw, **kw):
    with pytest.raises(AnswersInvalid) as caught:
        answers_validate(variables=variables, raw=raw, **kw)
    return caught.value.errors


# ------------------------------------------------------------------ each type
def test_text_is_trimmed_single_line_and_limited():
    form = [var("title", T.TEXT)]
    assert valid(form, {"title": "  two\nlines "}) == {"title": "two lines"}
    assert "title" in errors(form, {"title": "x" * 1001})
    assert "title" in errors(form, {"title": ["a list"]})
    assert "title" in errors(form, {"title": "nul\x00byte"})


def test_multiline_keeps_line_breaks():
    form = [var("notes", T.MULTILINE)]
    assert valid(form, {"notes": "a\r\nb"}) == {"notes": "a\nb"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3), (2, 2), ("2.5", 2.5), (1.25, 1.25), (" 10 ", 10), ("1e1", 10)],
)
def test_numbers_within_bounds_are_stored_as_numbers(raw, expected):
    form = [var("n", T.NUMBER, min_value=Decimal(1), max_value=Decimal(10))]
    assert valid(form, {"n": raw}) == {"n": expected}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "at least 1"),
        (11, "at most 10"),
        ("ten", "Enter a number"),
        (True, "Enter a number"),
        ("NaN", "Enter a number"),
        ("Infinity", "Enter a number"),
        (float("inf"), "Enter a number"),
        ("1.0000001", "decimal places"),
        ({"n": 1}, "Enter a number"),
    ],
)
def test_numbers_out_of_bounds_or_not_numbers_are_refused(raw, message):
    form = [var("n", T.NUMBER, min_value=Decimal(1), max_value=Decimal(10))]
    assert message in errors(form, {"n": raw})["n"][0]


@pytest.mark.parametrize(
    ("raw", "expected"), [("yes", True), ("no", False), (True, True), (False, False), ("On", True)]
)
def test_yes_no(raw, expected):
    assert valid([var("ok", T.YES_NO)], {"ok": raw}) == {"ok": expected}


def test_yes_no_refuses_anything_else():
    assert "ok" in errors([var("ok", T.YES_NO)], {"ok": "perhaps"})


def test_single_choice_must_be_one_of_the_choices():
    form = [var("os", T.CHOICE, choices=("win", "mac"))]
    assert valid(form, {"os": "mac"}) == {"os": "mac"}
    assert "os" in errors(form, {"os": "linux"})
    assert "os" in errors(form, {"os": ["mac"]})


def test_multiple_choice_keeps_form_order_and_drops_duplicates():
    form = [var("apps", T.MULTI_CHOICE, choices=("a", "b", "c"))]
    assert valid(form, {"apps": ["c", "a", "c"]}) == {"apps": ["a", "c"]}
    assert valid(form, {"apps": "b"}) == {"apps": ["b"]}
    assert "apps" in errors(form, {"apps": ["a", "z"]})


def test_dates_are_iso_days():
    form = [var("day", T.DATE)]
    assert valid(form, {"day": "2026-12-01"}) == {"day": "2026-12-01"}
    assert valid(form, {"day": date(2026, 12, 1)}) == {"day": "2026-12-01"}
    for bad in ("2026-02-30", "01/12/2026", "20261201", "0001-01-01"):
        assert "day" in errors(form, {"day": bad}), bad


@pytest.mark.django_db
def test_person_and_service_answers_name_active_rows():
    person = UserFactory(username="pat")
    gone = UserFactory(username="gone", is_active=False)
    service = ServiceFactory(name="VPN")
    retired = ServiceFactory(name="Fax", lifecycle="retired")
    form = [var("who", T.USER), var("svc", T.SERVICE)]

    answers = valid(form, {"who": str(person.pk), "svc": {"id": service.pk}})

    assert answers == {
        "who": {"id": person.pk, "label": str(person)},
        "svc": {"id": service.pk, "label": "VPN"},
    }
    assert set(errors(form, {"who": gone.pk, "svc": retired.pk})) == {"who", "svc"}
    assert set(errors(form, {"who": 2**70, "svc": -1})) == {"who", "svc"}


def test_attachments_come_from_uploads_and_are_checked():
    form = [var("file", T.ATTACHMENT, required=True)]
    good = SimpleUploadedFile("quote.pdf", b"%PDF", content_type="application/pdf")
    bad = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")

    assert answers_validate(variables=form, raw={}, files={"file": [good]}).uploads == {
        "file": [good]
    }
    assert "file" in errors(form, {})
    assert "not an allowed file type" in errors(form, {}, files={"file": [bad]})["file"][0]


# ------------------------------------------------------------------ required, defaults, unknown
def test_required_questions_need_an_answer_and_blank_counts_as_none():
    form = [
        var("a", T.TEXT, required=True),
        var("b", T.MULTI_CHOICE, required=True, choices=("x",)),
    ]
    assert set(errors(form, {"a": "   ", "b": []})) == {"a", "b"}


def test_missing_answers_take_the_default_only_when_asked_to():
    form = [var("os", T.CHOICE, choices=("win", "mac"), default="win", required=True)]
    assert valid(form, {}) == {"os": "win"}
    assert "os" in errors(form, {}, use_defaults=False)


def test_unknown_questions_are_refused():
    assert errors([var("a", T.TEXT)], {"zzz": 1}) == {
        "zzz": ["There is no such question on this form."]
    }
    assert "answers" in errors([var("a", T.TEXT)], ["not", "an", "object"])


def test_a_choice_question_without_choices_is_not_asked():
    form = [var("os", T.CHOICE, required=True)]
    assert valid(form, {}) == {}


# ------------------------------------------------------------------ conditions
def conditional_form():
    return [
        var("kind", T.CHOICE, choices=("std", "dev"), required=True),
        var(
            "ram",
            T.NUMBER,
            required=True,
            condition=formdef.Condition("kind", O.EQUALS, "dev"),
        ),
        var("extra", T.YES_NO, condition=formdef.Condition("ram", O.GREATER_THAN, "32")),
        var("why", T.TEXT, required=True, condition=formdef.Condition("extra", O.EQUALS, "yes")),
    ]


def test_a_condition_shows_its_question_and_makes_it_required():
    assert "ram" in errors(conditional_form(), {"kind": "dev"})
    assert valid(conditional_form(), {"kind": "dev", "ram": 16}) == {"kind": "dev", "ram": 16}


def test_answers_to_hidden_questions_are_dropped_and_not_required():
    assert valid(conditional_form(), {"kind": "std", "ram": "banana", "why": ""}) == {"kind": "std"}


def test_conditions_chain_through_hidden_questions():
    # ram 16 hides "extra", which hides "why" even though "extra" was answered yes.
    raw = {"kind": "dev", "ram": 16, "extra": "yes"}
    assert valid(conditional_form(), raw) == {"kind": "dev", "ram": 16}
    assert "why" in errors(conditional_form(), {**raw, "ram": 64})


@pytest.mark.parametrize(
    ("operator", "operand", "answer", "shown"),
    [
        (O.EQUALS, "b", "b", True),
        (O.NOT_EQUALS, "b", "a", True),
        (O.NOT_EQUALS, "b", "b", False),
        (O.ANSWERED, "", "a", True),
    ],
)
def test_choice_conditions(operator, operand, answer, shown):
    form = [
        var("src", T.CHOICE, choices=("a", "b")),
        var("dep", T.TEXT, condition=formdef.Condition("src", operator, operand)),
    ]
    assert ("dep" in valid(form, {"src": answer, "dep": "x"})) is shown


def test_multiple_choice_and_text_contains():
    form = [
        var("apps", T.MULTI_CHOICE, choices=("crm", "erp")),
        var("erp_role", T.TEXT, condition=formdef.Condition("apps", O.CONTAINS, "erp")),
        var("text", T.TEXT),
        var("urgent", T.YES_NO, condition=formdef.Condition("text", O.CONTAINS, "URGENT")),
    ]
    answers = valid(
        form, {"apps": ["crm", "erp"], "erp_role": "clerk", "text": "is urgent", "urgent": "no"}
    )
    assert answers["erp_role"] == "clerk"
    assert answers["urgent"] is False
    assert "erp_role" not in valid(form, {"apps": ["crm"], "erp_role": "clerk"})


def test_readable_answers_use_labels():
    form = [
        var("os", T.CHOICE, choices=("mac",)),
        var("ok", T.YES_NO),
        var("apps", T.MULTI_CHOICE, choices=("a", "b")),
    ]
    rows = answers_display(form, {"os": "mac", "ok": False, "apps": ["a", "b"]})
    assert [(r.label, r.text) for r in rows] == [("Os", "MAC"), ("Ok", "No"), ("Apps", "A, B")]


# ------------------------------------------------------------------ random answers
ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", " ", "yes", "no", "2026-02-29", "2026-03-01", "1e400", "-0", "5"])
    | st.sampled_from(["a", "b", "c", "x"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


KEYS = ["t", "m", "n", "y", "c", "mc", "d", "zz"]
#: Answers that fit the form, each key present or not...
FITTING = st.fixed_dictionaries(
    {
        "t": st.sampled_from(["Laptop for Rita", "  padded  ", "x" * 1000]),
        "c": st.sampled_from("ab"),
    },
    optional={
        "m": st.sampled_from(["line 1\nline 2", ""]),
        "n": st.sampled_from([1, "2.5", -5, "5.5", "0.000001", 3]),
        "y": st.sampled_from(["yes", "no", True]),
        "mc": st.sampled_from([["a"], ["b", "c", "b"], []]),
        "d": st.sampled_from(["2026-01-31", "2024-02-29"]),
    },
)
#: ...with up to three answers replaced by anything at all.
RANDOM_ANSWERS = st.builds(
    lambda fitting, noise: {**fitting, **noise},
    FITTING,
    st.dictionaries(st.sampled_from(KEYS), ANY_VALUE, max_size=3),
)


def random_form():
    return [
        var("t", T.TEXT, required=True),
        var("m", T.MULTILINE),
        var("n", T.NUMBER, min_value=Decimal("-5"), max_value=Decimal("5.5")),
        var("y", T.YES_NO, condition=formdef.Condition("n", O.GREATER_THAN, "0")),
        var("c", T.CHOICE, choices=("a", "b"), required=True),
        var(
            "mc",
            T.MULTI_CHOICE,
            choices=("a", "b", "c"),
            condition=formdef.Condition("c", O.EQUALS, "b"),
        ),
        var("d", T.DATE, required=True, condition=formdef.Condition("y", O.EQUALS, "yes")),
    ]


def outcome(variables, raw):
    """(clean answers, None) or (None, errors by question)."""
    try:
        return answers_validate(variables=variables, raw=raw).values, None
    except AnswersInvalid as exc:
        return None, exc.errors


def assert_clean(variables, answers):
    """An independent check that stored answers fit the form exactly."""
    assert formdef.shown_names(variables, answers) >= set(answers)
    by_name = {v.name: v for v in variables}
    for name, value in answers.items():
        v = by_name[name]
        if v.type in (T.TEXT, T.MULTILINE):
            assert isinstance(value, str)
            assert value
            assert value.strip() == value
            assert "\x00" not in value
        elif v.type == T.NUMBER:
            assert isinstance(value, int | float)
            assert not isinstance(value, bool)
            assert v.min_value <= Decimal(str(value)) <= v.max_value
        elif v.type == T.YES_NO:
            assert isinstance(value, bool)
        elif v.type == T.CHOICE:
            assert value in v.choice_values
        elif v.type == T.MULTI_CHOICE:
            assert value
            assert set(value) <= set(v.choice_values)
        elif v.type == T.DATE:
            assert date.fromisoformat(value).isoformat() == value
    for v in variables:
        if v.required and v.name in formdef.shown_names(variables, answers):
            assert v.name in answers


@settings(max_examples=400, deadline=None)
@given(raw=RANDOM_ANSWERS)
def test_random_answers_are_either_refused_or_clean(raw):
    variables = random_form()
    answers, errors = outcome(variables, raw)
    if errors is not None:
        assert errors
        assert all(isinstance(m, str) for messages in errors.values() for m in messages)
        return
    assert_clean(variables, answers)
    # clean answers validate to themselves
    assert answers_validate(variables=variables, raw=answers).values == answers


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=RANDOM_ANSWERS)
def test_the_server_never_stores_an_invalid_answer(requester, network_team, raw):
    item = make_item(name="Random", fulfilment_team=network_team, variables=[])
    for order, variable in enumerate(random_form()):
        data = variable.to_dict()
        condition = data.pop("condition")
        data["choices"] = data["choices"]
        if condition:
            data.update(
                show_if_variable=condition["variable"],
                show_if_operator=condition["operator"],
                show_if_value=condition["value"],
            )
        item.variables.create(order=order, **data)
    tickets = Ticket.objects.count()
    try:
        request = service_request_submit(item=item, by=requester, answers=raw)
    except AnswersInvalid:
        assert Ticket.objects.count() == tickets
        return
    stored = ServiceRequest.objects.get(pk=request.pk)
    assert_clean(item.definition(), stored.answers)


@pytest.mark.django_db
def test_uploaded_answers_are_stored_as_attachments_of_the_request(requester, network_team):
    item = make_item(
        name="Quote",
        fulfilment_team=network_team,
        variables=[{"name": "quote", "label": "Quote", "type": T.ATTACHMENT, "required": True}],
    )
    upload = SimpleUploadedFile("quote.pdf", b"%PDF-1.4", content_type="application/pdf")

    request = service_request_submit(item=item, by=requester, answers={}, files={"quote": [upload]})

    attachment = Attachment.objects.get(ticket_id=request.pk)
    assert request.answers == {
        "quote": [{"id": attachment.pk, "name": "quote.pdf", "size": attachment.size}]
    }

"""Catalogue item forms as plain data: the variable definition, its validation, show-if
conditions and what an edit removes. No ORM, so the admin, the request services, the API and
the tests share one set of rules.

A form is an ordered list of `Variable`s. A variable may be shown only when an earlier
variable's answer meets a simple condition; conditions may only point backwards, so a
single pass in order decides what is shown."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .choices import Operator, VariableType

T = VariableType
O = Operator  # noqa: E741

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHOICE_TYPES = frozenset({T.CHOICE, T.MULTI_CHOICE})
#: Types whose answer cannot be given in advance.
NO_DEFAULT_TYPES = frozenset({T.USER, T.SERVICE, T.ATTACHMENT})
#: Which comparisons make sense on the answer of each type.
OPERATORS_BY_TYPE: dict[str, frozenset[str]] = {
    T.TEXT: frozenset({O.EQUALS, O.NOT_EQUALS, O.CONTAINS, O.ANSWERED}),
    T.MULTILINE: frozenset({O.CONTAINS, O.ANSWERED}),
    T.NUMBER: frozenset({O.EQUALS, O.NOT_EQUALS, O.GREATER_THAN, O.LESS_THAN, O.ANSWERED}),
    T.YES_NO: frozenset({O.EQUALS}),
    T.CHOICE: frozenset({O.EQUALS, O.NOT_EQUALS, O.ANSWERED}),
    T.MULTI_CHOICE: frozenset({O.CONTAINS, O.ANSWERED}),
    T.DATE: frozenset({O.ANSWERED}),
    T.USER: frozenset({O.ANSWERED}),
    T.SERVICE: frozenset({O.ANSWERED}),
    T.ATTACHMENT: frozenset({O.ANSWERED}),
}
TEXT_MAX = 1000
MULTILINE_MAX = 10_000
CHOICE_VALUE_MAX = 100
#: Numbers stay exact as JSON numbers (15 significant digits round-trip through a float).
NUMBER_LIMIT = Decimal(10) ** 12
NUMBER_DIGITS = 15
NUMBER_DECIMALS = 6
YES = frozenset({"yes", "true", "on", "1", "y"})
NO = frozenset({"no", "false", "off", "0", "n"})


# ------------------------------------------------------------------ scalar parsing
def parse_number(value: Any) -> Decimal:
    """A finite number from an int, a float or a string; ValueError with a message if not."""
    if isinstance(value, bool):
        raise ValueError("Enter a number.")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float | str):
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise ValueError("Enter a number.") from None
    elif isinstance(value, Decimal):
        number = value
    else:
        raise ValueError("Enter a number.")
    if not number.is_finite():
        raise ValueError("Enter a number.")
    if abs(number) >= NUMBER_LIMIT:
        raise ValueError("That number is too large.")
    number = number.normalize() if number else Decimal(0)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -NUMBER_DECIMALS:
        raise ValueError(f"Use at most {NUMBER_DECIMALS} decimal places.")
    if len(number.as_tuple().digits) > NUMBER_DIGITS:
        raise ValueError(f"Use at most {NUMBER_DIGITS} significant digits.")
    return number


def number_json(number: Decimal) -> int | float:
    """The JSON form of a parsed number: an int when whole, else a float (exact up to 15
    significant digits, which parse_number guarantees)."""
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def parse_yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in YES:
            return True
        if word in NO:
            return False
    raise ValueError("Answer yes or no.")


def parse_date(value: Any) -> date:
    if isinstance(value, date) and not hasattr(value, "hour"):
        day = value
    elif isinstance(value, str) and DATE_RE.match(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("Enter a real date (YYYY-MM-DD).") from None
    else:
        raise ValueError("Enter a date as YYYY-MM-DD.")
    if not 1900 <= day.year <= 2999:
        raise ValueError("Enter a date between 1900 and 2999.")
    return day


def storable_text(value: str) -> str | None:
    """Why a string cannot be stored (PostgreSQL refuses NUL and unpaired surrogates)."""
    if "\x00" in value:
        return "Remove the invisible NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "The text contains characters that cannot be stored."
    return None


# ------------------------------------------------------------------ the definition
@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Condition:
    """Show the variable only when `variable` (an earlier one) meets `operator` `value`."""

    variable: str
    operator: str
    value: str = ""

    def describe(self, source_label: str = "") -> str:
        label = source_label or self.variable
        if self.operator == O.ANSWERED:
            return f"“{label}” is answered"
        return f"“{label}” {O(self.operator).label} {self.value}"


@dataclass(frozen=True)
class Variable:
    """One question of an item's form."""

    name: str
    label: str
    type: str
    help_text: str = ""
    required: bool = False
    default: str = ""
    choices: tuple[Choice, ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    condition: Condition | None = None

    @property
    def asked(self) -> bool:
        """A choice question without choices cannot be answered, so it is not asked."""
        return self.type not in CHOICE_TYPES or bool(self.choices)

    @property
    def choice_values(self) -> list[str]:
        return [c.value for c in self.choices]

    def choice_label(self, value: Any) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return str(value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, stored in each request's snapshot."""
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "help_text": self.help_text,
            "required": self.required,
            "default": self.default,
            "choices": [{"value": c.value, "label": c.label} for c in self.choices],
            "min_value": None if self.min_value is None else str(self.min_value),
            "max_value": None if self.max_value is None else str(self.max_value),
            "condition": None
            if self.condition is None
            else {
                "variable": self.condition.variable,
                "operator": self.condition.operator,
                "value": self.condition.value,
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Variable":
        condition = data.get("condition")
        return cls(
            name=data["name"],
            label=data.get("label", data["name"]),
            type=data["type"],
            help_text=data.get("help_text", ""),
            required=bool(data.get("required", False)),
            default=data.get("default", "") or "",
            choices=tuple(
                Choice(value=c["value"], label=c.get("label") or c["value"])
                for c in data.get("choices") or ()
            ),
            min_value=None if data.get("min_value") is None else Decimal(data["min_value"]),
            max_value=None if data.get("max_value") is None else Decimal(data["max_value"]),
            condition=None
            if not condition
            else Condition(
                variable=condition["variable"],
                operator=condition["operator"],
                value=condition.get("value", ""),
            ),
        )


def definition_to_json(variables: Sequence[Variable]) -> list[dict[str, Any]]:
    return [v.to_dict() for v in variables]


def definition_from_json(data: Sequence[Mapping[str, Any]]) -> list[Variable]:
    return [Variable.from_dict(item) for item in data]


# ------------------------------------------------------------------ validation
@dataclass(frozen=True)
class DefinitionError:
    """A problem with question number `index + 1`, on one of its fields."""

    index: int
    field: str
    message: str


@dataclass
class _Checker:
    variables: Sequence[Variable]
    errors: list[DefinitionError] = field(default_factory=list)

    def add(self, index: int, field_name: str, message: str) -> None:
        self.errors.append(DefinitionError(index, field_name, message))


def validate_definition(variables: Sequence[Variable]) -> list[DefinitionError]:
    """Every problem of a form definition: names unique and well formed, choices valid,
    bounds and defaults consistent, conditions pointing at earlier variables with a
    comparison that fits their type. An empty list means the form may be saved."""
    checker = _Checker(variables)
    earlier: dict[str, int] = {}
    for index, variable in enumerate(variables):
        _check_name(checker, index, variable, earlier)
        if not variable.label.strip():
            checker.add(index, "label", "Write the question.")
        if variable.type not in T.values:
            checker.add(index, "type", "Choose a type.")
        else:
            _check_choices(checker, index, variable)
            _check_bounds(checker, index, variable)
            _check_default(checker, index, variable)
        _check_condition(checker, index, variable, earlier)
        if NAME_RE.match(variable.name) and variable.name not in earlier:
            earlier[variable.name] = index
    return checker.errors


def _check_name(checker: _Checker, index: int, variable: Variable, earlier: dict) -> None:
    if not NAME_RE.match(variable.name):
        checker.add(
            index,
            "name",
            "Use lower-case letters, digits and _, starting with a letter (at most 50).",
        )
    elif variable.name in earlier:
        checker.add(
            index,
            "name",
            f"“{variable.name}” is already the name of question {earlier[variable.name] + 1}.",
        )


def _check_choices(checker: _Checker, index: int, variable: Variable) -> None:
    if variable.type not in CHOICE_TYPES:
        if variable.choices:
            checker.add(
                index,
                "choices",
                "Only single and multiple choice questions have choices: clear them or change "
                "the type.",
            )
        return
    seen: set[str] = set()
    for choice in variable.choices:
        value = choice.value
        if not value.strip() or value != value.strip():
            checker.add(index, "choices", "A choice value cannot be empty or padded with spaces.")
        elif len(value) > CHOICE_VALUE_MAX:
            checker.add(index, "choices", f"Choice values are at most {CHOICE_VALUE_MAX} long.")
        elif "," in value:
            checker.add(index, "choices", f"Choice value “{value}” cannot contain a comma.")
        elif value in seen:
            checker.add(index, "choices", f"The choice “{value}” appears twice.")
        elif not choice.label.strip():
            checker.add(index, "choices", f"The choice “{value}” needs a label.")
        seen.add(value)


def _check_bounds(checker: _Checker, index: int, variable: Variable) -> None:
    bounds = [b for b in (variable.min_value, variable.max_value) if b is not None]
    if not bounds:
        return
    if variable.type != T.NUMBER:
        checker.add(index, "min_value", "Only number questions have bounds.")
        return
    for name, bound in (("min_value", variable.min_value), ("max_value", variable.max_value)):
        if bound is None:
            continue
        try:
            parse_number(bound)
        except ValueError as exc:
            checker.add(index, name, str(exc))
            return
    if (
        variable.min_value is not None
        and variable.max_value is not None
        and variable.min_value > variable.max_value
    ):
        checker.add(index, "max_value", "The maximum is below the minimum.")


def _check_default(checker: _Checker, index: int, variable: Variable) -> None:
    if not variable.default:
        return
    if variable.type in NO_DEFAULT_TYPES:
        checker.add(index, "default", "This type of question cannot have a default.")
        return
    try:
        default_value(variable)
    except ValueError as exc:
        checker.add(index, "default", f"Invalid default: {exc}")


def _check_condition(checker: _Checker, index: int, variable: Variable, earlier: dict) -> None:
    condition = variable.condition
    if condition is None:
        return
    if condition.variable == variable.name:
        checker.add(index, "show_if_variable", "A question cannot depend on itself.")
        return
    if condition.variable not in earlier:
        later = any(v.name == condition.variable for v in checker.variables[index + 1 :])
        checker.add(
            index,
            "show_if_variable",
            f"“{condition.variable}” comes later: a condition must point at an earlier question."
            if later
            else f"There is no earlier question named “{condition.variable}”.",
        )
        return
    source = checker.variables[earlier[condition.variable]]
    allowed = OPERATORS_BY_TYPE.get(source.type, frozenset())
    if condition.operator not in allowed:
        names = ", ".join(sorted(O(o).label for o in allowed)) or "none"
        checker.add(
            index,
            "show_if_operator",
            f"For a {T(source.type).label.lower()} question use: {names}.",
        )
        return
    if condition.operator == O.ANSWERED:
        return
    try:
        condition_operand(source, condition)
    except ValueError as exc:
        checker.add(index, "show_if_value", str(exc))


def default_value(variable: Variable) -> Any:
    """The default as a clean answer (ValueError if it does not fit the variable)."""
    raw = variable.default
    if variable.type in (T.TEXT, T.MULTILINE):
        limit = TEXT_MAX if variable.type == T.TEXT else MULTILINE_MAX
        if len(raw) > limit:
            raise ValueError(f"at most {limit} characters.")
        return raw
    if variable.type == T.NUMBER:
        number = parse_number(raw)
        check_bounds(variable, number)
        return number_json(number)
    if variable.type == T.YES_NO:
        return parse_yes_no(raw)
    if variable.type == T.DATE:
        return parse_date(raw).isoformat()
    if variable.type == T.CHOICE:
        if raw not in variable.choice_values:
            raise ValueError(f"“{raw}” is not one of the choices.")
        return raw
    if variable.type == T.MULTI_CHOICE:
        values = [v.strip() for v in raw.split(",") if v.strip()]
        missing = [v for v in values if v not in variable.choice_values]
        if missing:
            raise ValueError(f"“{missing[0]}” is not one of the choices.")
        return [v for v in variable.choice_values if v in values]
    raise ValueError("this type of question cannot have a default.")


def check_bounds(variable: Variable, number: Decimal) -> None:
    if variable.min_value is not None and number < variable.min_value:
        raise ValueError(f"Enter at least {variable.min_value.normalize():f}.")
    if variable.max_value is not None and number > variable.max_value:
        raise ValueError(f"Enter at most {variable.max_value.normalize():f}.")


def condition_operand(source: Variable, condition: Condition) -> Any:
    """The condition's value parsed for the source variable's type (ValueError if unfit)."""
    value = condition.value
    if source.type == T.NUMBER:
        return parse_number(value)
    if source.type == T.YES_NO:
        return parse_yes_no(value)
    if source.type in CHOICE_TYPES:
        if value not in source.choice_values:
            raise ValueError(f"“{value}” is not a choice of “{source.label}”.")
        return value
    if not value.strip():
        raise ValueError("Say what to compare with.")
    return value


# ------------------------------------------------------------------ conditions
def condition_met(source: Variable, condition: Condition, answer: Any) -> bool:
    """Whether a clean `answer` to `source` satisfies the condition. An unanswered (or
    hidden) source satisfies nothing, so its dependants stay hidden."""
    if answer is None or answer == [] or answer == "":
        return False
    operator = condition.operator
    if operator == O.ANSWERED:
        return True
    try:
        operand = condition_operand(source, condition)
    except ValueError:
        return False  # a stored snapshot with a condition that no longer parses hides it
    if source.type == T.NUMBER:
        number = Decimal(str(answer))
        return {
            O.EQUALS: number == operand,
            O.NOT_EQUALS: number != operand,
            O.GREATER_THAN: number > operand,
            O.LESS_THAN: number < operand,
        }.get(operator, False)
    if source.type == T.MULTI_CHOICE:
        return operator == O.CONTAINS and operand in answer
    if source.type in (T.TEXT, T.MULTILINE):
        text, wanted = str(answer).casefold(), str(operand).casefold()
        return {
            O.EQUALS: text == wanted,
            O.NOT_EQUALS: text != wanted,
            O.CONTAINS: wanted in text,
        }.get(operator, False)
    if operator == O.EQUALS:
        return answer == operand
    if operator == O.NOT_EQUALS:
        return answer != operand
    return False


def shown_names(variables: Sequence[Variable], answers: Mapping[str, Any]) -> set[str]:
    """Names of the variables shown for these clean answers (in order: a hidden variable's
    answer does not count, so its dependants are hidden too)."""
    by_name = {v.name: v for v in variables}
    shown: set[str] = set()
    for variable in variables:
        if not variable.asked:
            continue
        condition = variable.condition
        if condition is not None:
            source = by_name.get(condition.variable)
            if source is None or condition.variable not in shown:
                continue
            if not condition_met(source, condition, answers.get(condition.variable)):
                continue
        shown.add(variable.name)
    return shown


# ------------------------------------------------------------------ destructive edits
def removals(before: Mapping[Any, Variable], after: Mapping[Any, Variable]) -> list[str]:
    """What an edit takes away, in words, matching variables by key (the admin uses the row
    id, so a rename is not a removal). Removing the last choice of a choice question
    removes its choices altogether: the question is then no longer asked."""
    lines = []
    for key, old in before.items():
        new = after.get(key)
        if new is None:
            lines.append(f"The question “{old.label}” ({old.name}).")
            continue
        old_values = old.choice_values
        new_values = new.choice_values if new.type in CHOICE_TYPES else []
        if old.type not in CHOICE_TYPES or not old_values:
            continue
        gone = [v for v in old_values if v not in new_values]
        if not gone:
            continue
        if not new_values:
            listed = ", ".join(old.choice_label(v) for v in old_values)
            lines.append(
                f"All choices of “{new.label}” ({listed}): the question has no choices left"
                + (
                    " and will no longer be asked."
                    if new.type in CHOICE_TYPES
                    else f" (now {T(new.type).label.lower()})."
                )
            )
        else:
            listed = ", ".join(f"“{old.choice_label(v)}”" for v in gone)
            lines.append(f"The choice{'s' if len(gone) > 1 else ''} {listed} of “{new.label}”.")
    return lines

"""Keyset ("seek") pagination: the next page is the rows after the last one shown, found through
the sort index, so page 500 costs what page 1 costs and rows never shift or repeat while others
change the queue. Cursors are opaque URL-safe strings of the boundary row's sort values."""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models import F, Func, Q, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThan

T = TypeVar("T")


@dataclass(frozen=True)
class Key:
    """One sort key: a field or annotation name, and its direction. The last key of a
    keyset must be unique (the primary key) so that the order is total. Keys must not be
    NULL: annotate with Coalesce first."""

    name: str
    descending: bool = False

    @property
    def ordering(self) -> str:
        return f"-{self.name}" if self.descending else self.name


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    rows: list[T]
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.prev_cursor is not None


def encode_cursor(values: list[Any]) -> str:
    tagged = [{"dt": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(tagged, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any] | None:
    """The sort values in a cursor, or None when it is not one of ours (a first page then)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != size:
        return None
    decoded: list[Any] = []
    for value in values:
        if isinstance(value, dict):
            try:
                value = datetime.fromisoformat(str(value.get("dt")))
            except ValueError:
                return None
        elif not isinstance(value, str | int | float | bool):
            return None
        decoded.append(value)
    return decoded


def _row(values: list[Any]) -> Func:
    return Func(*values, function="ROW", output_field=models.Field())


def seek_q(keys: list[Key], values: list[Any], *, forward: bool) -> Q:
    """Rows strictly after (forward) or before the boundary row in the keys' order. With one
    direction for every key this is a single row comparison, `(a, b) > (x, y)`, which
    PostgreSQL answers from a matching index; mixed directions expand to the OR form."""
    descending = {key.descending for key in keys}
    if len(descending) == 1:
        later = forward != descending.pop()
        lookup = GreaterThan if later else LessThan
        lhs = _row([F(key.name) for key in keys])
        return Q(lookup(lhs, _row([Value(v) for v in values])))
    condition = Q()
    for i, key in enumerate(keys):
        equal = Q(**{keys[j].name: values[j] for j in range(i)})
        later = forward != key.descending
        step = Q(**{f"{key.name}__{'gt' if later else 'lt'}": values[i]})
        condition |= equal & step
    return condition


def paginate(
    queryset: QuerySet,
    *,
    keys: list[Key],
    size: int,
    after: str = "",
    before: str = "",
    late_rows: bool = False,
) -> KeysetPage:
    """One page of `queryset` in `keys` order: the first, the one after cursor `after`, or the
    one before cursor `before`. One query (size + 1 rows tell whether more follow).

    With `late_rows`, two: the page's primary keys first (no joins, no per-row subqueries
    but the sort keys'), then those rows with everything `queryset` selects. PostgreSQL
    joins before it sorts and limits, so a wide queryset whose filter it misjudges (the
    agents' OR'd visibility) hashed every user to show 25 rows."""
    names = [key.name for key in keys]
    boundary = decode_cursor(before or after, len(keys)) if (before or after) else None
    backwards = bool(before) and boundary is not None
    if boundary is not None:
        queryset = queryset.filter(seek_q(keys, boundary, forward=not backwards))
    order = [key.ordering for key in keys]
    if backwards:
        order = [o[1:] if o.startswith("-") else f"-{o}" for o in order]
    if late_rows:
        ids = list(queryset.order_by(*order).values_list("pk", flat=True)[: size + 1])
        by_id = queryset.order_by().in_bulk(ids)
        rows = [by_id[pk] for pk in ids if pk in by_id]
    else:
        rows = list(queryset.order_by(*order)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()

    def cursor(row: Any) -> str:
        return encode_cursor([_value(row, name) for name in names])

    if not rows:
        return KeysetPage(rows=[], next_cursor=None, prev_cursor=None)
    has_next = more if not backwards else True
    has_prev = (boundary is not None) if not backwards else more
    return KeysetPage(
        rows=rows,
        next_cursor=cursor(rows[-1]) if has_next else None,
        prev_cursor=cursor(rows[0]) if has_prev else None,
    )


def _value(row: Any, name: str) -> Any:
    value = getattr(row, name)
    return value.pk if isinstance(value, models.Model) else value

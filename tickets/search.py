"""Ticket search: a number finds its ticket through the unique index; words run a weighted
PostgreSQL full-text query (number and title weigh more than description) with prefix
matching on every word, over the GIN index on Ticket.search_vector."""

import re

from django.contrib.postgres.search import SearchQuery
from django.db.models import Q

NUMBER = re.compile(r"^(INC|REQ|TASK|CHG)\d{7}$", re.IGNORECASE)
WORD = re.compile(r"\w+", re.UNICODE)


def text_query(value: str) -> SearchQuery | None:
    """`vpn lond` → vpn:* & lond:* (only word characters reach the query: no syntax errors)."""
    words = WORD.findall(value.lower())[:8]
    if not words:
        return None
    return SearchQuery(" & ".join(f"{w}:*" for w in words), search_type="raw", config="english")


def search_q(value: str, prefix: str = "") -> Q:
    """A Q for Ticket (or, with `prefix="ticket__"`, a detail model) matching `value`."""
    value = value.strip()
    if NUMBER.match(value):
        return Q(**{f"{prefix}number": value.upper()})
    query = text_query(value)
    if query is None:
        return Q(pk__in=[])
    return Q(**{f"{prefix}search_vector": query})

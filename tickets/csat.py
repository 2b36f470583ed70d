"""Customer satisfaction (CSAT): a one-click survey in the "resolved" e-mail.

The e-mail carries two signed links (good / bad). A link names the ticket, the resolution
that sent it (`survey_key`, the journal entry id) and the requester; it is valid for
CSAT_LINK_MAX_AGE_DAYS and answers once: a unique constraint on (ticket, survey_key).
Answers are SatisfactionResponse rows (read by the dashboards) and a journal entry on the
ticket; a bad rating notifies the assignee and team lead through the dispatcher."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from core.exceptions import DomainError

from . import events
from .choices import CsatRating, EventType, TicketState
from .models import Notification, SatisfactionResponse, Ticket, TicketEvent

SALT = "tickets.csat"


def csat_token(*, ticket_id: int, survey_key: str, user_id: int) -> str:
    """A signed, timestamped token for one survey of one requester."""
    return signing.dumps({"t": ticket_id, "s": survey_key, "u": user_id}, salt=SALT, compress=True)


#: Notifications that carry the survey: our "resolved", and the request service's "fulfilled"
#: (which the dispatcher does not duplicate).
SURVEY_EVENTS = frozenset({"resolved", "fulfilled"})


def _survey_key(note: Notification) -> str | None:
    """The resolution the survey is about: the journal entry behind the notification, or the
    ticket's latest move to resolved when a service notified directly."""
    if note.source_event_id is not None:
        return str(note.source_event_id)
    latest = (
        TicketEvent.objects.filter(
            ticket_id=note.ticket_id,
            type=EventType.STATUS_CHANGED,
            data__state=TicketState.RESOLVED,
        )
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return str(latest) if latest else None


def csat_links(note: Notification) -> dict[str, Any] | None:
    """The good/bad links for a resolution notification to the ticket's requester, else None."""
    ticket = note.ticket
    if (
        ticket is None
        or note.event not in SURVEY_EVENTS
        or ticket.kind not in settings.CSAT_KINDS
        or note.recipient_id != ticket.requester_id
    ):
        return None
    key = _survey_key(note)
    if key is None:
        return None
    token = csat_token(ticket_id=ticket.pk, survey_key=key, user_id=note.recipient_id)
    url = settings.SITE_URL.rstrip("/") + reverse("portal:csat", args=[token])
    return {
        "good": f"{url}?rating=good",
        "bad": f"{url}?rating=bad",
        "days": settings.CSAT_LINK_MAX_AGE_DAYS,
    }


@dataclass
class Survey:
    """What a valid token points at."""

    ticket: Ticket
    survey_key: str
    respondent: Any
    answer: SatisfactionResponse | None


def csat_survey(*, token: str) -> Survey:
    """Check a survey link: DomainError when it is forged, expired or its ticket is gone."""
    try:
        data = signing.loads(
            token, salt=SALT, max_age=timedelta(days=settings.CSAT_LINK_MAX_AGE_DAYS)
        )
    except signing.SignatureExpired as exc:
        raise DomainError("This survey link has expired. Thank you all the same.") from exc
    except signing.BadSignature as exc:
        raise DomainError("This survey link is not valid.") from exc
    ticket = Ticket.objects.filter(pk=data.get("t")).first()
    respondent = get_user_model().objects.filter(pk=data.get("u")).first()
    if ticket is None or respondent is None:
        raise DomainError("This survey link is not valid.")
    answer = SatisfactionResponse.objects.filter(
        ticket=ticket, survey_key=str(data.get("s"))
    ).first()
    return Survey(
        ticket=ticket, survey_key=str(data.get("s")), respondent=respondent, answer=answer
    )


@transaction.atomic
def csat_record(*, token: str, rating: str, comment: str = "") -> SatisfactionResponse:
    """Record the answer of one survey link, once. Journals it on the ticket (internal)."""
    survey = csat_survey(token=token)
    try:
        value = CsatRating(rating)
    except ValueError as exc:
        raise DomainError("Choose good or bad.", field="rating") from exc
    if survey.answer is not None:
        raise DomainError("This survey was already answered. Thank you!")
    comment = comment.strip()[:2000]
    try:
        with transaction.atomic():
            response = SatisfactionResponse.objects.create(
                ticket=survey.ticket,
                survey_key=survey.survey_key,
                respondent=survey.respondent,
                rating=value,
                comment=comment,
            )
    except IntegrityError as exc:  # answered in another tab a moment ago
        raise DomainError("This survey was already answered. Thank you!") from exc
    body = f"Satisfaction survey: {value.label.lower()}."
    if comment:
        body += f" “{comment}”"
    events.record(
        ticket=survey.ticket,
        type=EventType.SYSTEM,
        actor=survey.respondent,
        body=body,
        data={"code": "csat", "rating": value.value, "response_id": response.pk},
    )
    return response

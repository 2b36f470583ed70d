"""The risk questionnaire and the change manager's override."""

from collections.abc import Mapping

from django.db import transaction

from accounts.models import User
from core.exceptions import DomainError
from tickets import events
from tickets.services import ticket_save

from .. import rules
from ..choices import ChangeType, Risk
from ..models import Change, RiskQuestion
from ..workflow import ASSESSABLE_STATUSES
from ._common import _lock, _note, _sync_slas, is_change_manager


def risk_questions() -> list[RiskQuestion]:
    return list(RiskQuestion.objects.filter(active=True).order_by("order", "pk"))


def risk_assess(*, answers: Mapping[int, bool]) -> rules.RiskResult:
    """Risk from the current questionnaire (what a change would get with these answers)."""
    return rules.risk_from_answers(questions=risk_questions(), answers=answers)


@transaction.atomic
def change_answer_risk(
    *,
    change: Change,
    by: User,
    answers: Mapping[int, bool],
    expected_version: int | None = None,
) -> Change:
    """Record the risk questionnaire and recompute the risk, unless a change manager overrode
    it (the score is still recorded, next to the override)."""
    locked = _lock(change, expected_version)
    if locked.type == ChangeType.STANDARD:
        raise DomainError("A standard change has the fixed risk of its template.")
    if locked.status not in ASSESSABLE_STATUSES:
        raise DomainError("The risk is assessed before the change goes to the CAB.")
    result = risk_assess(answers=answers)
    old = locked.risk
    locked.risk_answers = result.answers
    locked.risk_score = result.score
    fields = ["risk_answers", "risk_score"]
    if not locked.risk_overridden:
        locked.risk = result.risk
        locked.risk_reason = {"source": "questionnaire", "score": result.score, "text": result.text}
        fields += ["risk", "risk_reason"]
    locked.save(update_fields=fields)
    if locked.risk != old:
        events.field_changed(
            ticket=locked.ticket,
            actor=by,
            field="risk",
            label="Risk",
            old=Risk(old).label,
            new=Risk(locked.risk).label,
            reason=result.text,
        )
    else:
        _note(locked.ticket, actor=by, code="risk_assessed", body=result.text)
    ticket_save(ticket=locked.ticket, fields=[])
    _sync_slas(locked)
    return locked


@transaction.atomic
def change_override_risk(
    *, change: Change, by: User, risk: str, reason: str, expected_version: int | None = None
) -> Change:
    """A change manager sets the risk by hand; the reason is required and journalled."""
    if not is_change_manager(by):
        raise DomainError("Only a change manager can override the risk.")
    if risk not in Risk.values:
        raise DomainError("Choose low, moderate or high.", field="risk")
    if not reason.strip():
        raise DomainError("Say why the risk differs from the questionnaire.", field="reason")
    locked = _lock(change, expected_version)
    if locked.type == ChangeType.STANDARD:
        raise DomainError("A standard change has the fixed risk of its template.")
    if locked.status not in ASSESSABLE_STATUSES:
        raise DomainError("The risk can only change before the change goes to the CAB.")
    old = locked.risk
    locked.risk = risk
    locked.risk_overridden = True
    locked.risk_reason = {
        "source": "override",
        "by": str(by),
        "by_id": by.pk,
        "reason": reason.strip(),
        "score": locked.risk_score,
        "text": f"Set to {Risk(risk).label} by {by}: {reason.strip()}",
    }
    locked.save(update_fields=["risk", "risk_overridden", "risk_reason"])
    events.field_changed(
        ticket=locked.ticket,
        actor=by,
        field="risk",
        label="Risk",
        old=Risk(old).label,
        new=Risk(risk).label,
        reason=f"override: {reason.strip()}",
    )
    ticket_save(ticket=locked.ticket, fields=[])
    _sync_slas(locked)
    return locked

"""The two calculations change management decides by: risk from the questionnaire and the
outcome of a CAB vote. Pure functions over plain data (no ORM), tested without a database."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tickets.choices import ApprovalDecision

from .choices import RISK_THRESHOLDS, CabPolicy, Risk

APPROVED, REJECTED, PENDING = "approved", "rejected", "pending"


@dataclass(frozen=True)
class RiskResult:
    risk: Risk
    score: int  # percent of the maximum weighted score
    answers: list[dict[str, Any]]  # snapshot, so later edits to questions do not rewrite history

    @property
    def text(self) -> str:
        return f"Questionnaire score {self.score}% → {self.risk.label}"


def risk_from_answers(*, questions: Iterable[Any], answers: Mapping[int, bool]) -> RiskResult:
    """Weighted yes/no questionnaire → score (percent of the maximum) → risk.

    `questions` are objects with pk, text and weight; an unanswered question counts as "no".
    No questions at all means low risk (nothing says otherwise)."""
    snapshot = []
    total = yes = 0
    for question in questions:
        answer = bool(answers.get(question.pk, False))
        total += question.weight
        yes += question.weight if answer else 0
        snapshot.append(
            {
                "question_id": question.pk,
                "text": question.text,
                "weight": question.weight,
                "answer": answer,
            }
        )
    score = round(100 * yes / total) if total else 0
    risk = Risk.LOW
    for threshold, level in RISK_THRESHOLDS:
        if score >= threshold:
            risk = level
            break
    return RiskResult(risk=risk, score=score, answers=snapshot)


def cab_outcome(*, policy: str, decisions: Sequence[str]) -> str:
    """approved / rejected / pending for the CAB stage, given every approver's decision.

    Any rejection stops the change whatever the policy. `all` needs every approver, `majority`
    more than half of them, `any` a single approval. Cancelled seats do not count."""
    live = [d for d in decisions if d != ApprovalDecision.CANCELLED]
    if any(d == ApprovalDecision.REJECTED for d in live):
        return REJECTED
    approved = sum(1 for d in live if d == ApprovalDecision.APPROVED)
    if live and approved >= approvals_needed(policy=policy, seats=len(live)):
        return APPROVED
    return PENDING


def approvals_needed(*, policy: str, seats: int) -> int:
    """How many approvals authorise a change under `policy` with `seats` approvers."""
    return {CabPolicy.ALL: seats, CabPolicy.MAJORITY: seats // 2 + 1, CabPolicy.ANY: 1}[
        CabPolicy(policy)
    ]

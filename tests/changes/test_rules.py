"""Risk from the questionnaire and CAB outcomes: pure functions, no database."""

from dataclasses import dataclass

import pytest

from changes.choices import CabPolicy, Risk
from changes.rules import APPROVED, PENDING, REJECTED, cab_outcome, risk_from_answers


@dataclass
class Q:
    pk: int
    text: str
    weight: int


QUESTIONS = [Q(1, "Critical?", 3), Q(2, "Downtime?", 3), Q(3, "First time?", 2), Q(4, "Tested?", 2)]


@pytest.mark.parametrize(
    ("yes", "score", "risk"),
    [
        (set(), 0, Risk.LOW),
        ({3}, 20, Risk.LOW),  # 2 of 10
        ({1}, 30, Risk.MODERATE),  # exactly on the moderate threshold
        ({1, 3}, 50, Risk.MODERATE),
        ({1, 2}, 60, Risk.HIGH),  # exactly on the high threshold
        ({1, 2, 3, 4}, 100, Risk.HIGH),
    ],
)
def test_risk_is_the_weighted_share_of_yes_answers(yes, score, risk):
    result = risk_from_answers(questions=QUESTIONS, answers={pk: pk in yes for pk in range(1, 5)})
    assert (result.score, result.risk) == (score, risk)


def test_unanswered_questions_count_as_no_and_are_snapshotted():
    result = risk_from_answers(questions=QUESTIONS, answers={1: True})
    assert [a["answer"] for a in result.answers] == [True, False, False, False]
    assert result.answers[0] == {"question_id": 1, "text": "Critical?", "weight": 3, "answer": True}


def test_no_questions_means_low_risk():
    assert risk_from_answers(questions=[], answers={}).risk == Risk.LOW


A, R, P, C = "approved", "rejected", "pending", "cancelled"


@pytest.mark.parametrize(
    ("policy", "decisions", "outcome"),
    [
        (CabPolicy.ALL, [A, A, P], PENDING),
        (CabPolicy.ALL, [A, A, A], APPROVED),
        (CabPolicy.ALL, [A, A, R], REJECTED),
        (CabPolicy.MAJORITY, [A, P, P], PENDING),
        (CabPolicy.MAJORITY, [A, A, P], APPROVED),  # 2 of 3
        (CabPolicy.MAJORITY, [A, A, P, P], PENDING),  # 2 of 4 is not a majority
        (CabPolicy.MAJORITY, [A, A, A, P], APPROVED),
        (CabPolicy.MAJORITY, [A, R, A], REJECTED),  # any rejection stops it
        (CabPolicy.ANY, [P, P, P], PENDING),
        (CabPolicy.ANY, [P, A, P], APPROVED),
        (CabPolicy.ANY, [R, P, P], REJECTED),
        (CabPolicy.ALL, [A, A, C], APPROVED),  # a cancelled seat does not count
        (CabPolicy.ANY, [], PENDING),
    ],
)
def test_cab_outcome_per_policy(policy, decisions, outcome):
    assert cab_outcome(policy=policy, decisions=decisions) == outcome

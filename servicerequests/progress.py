"""How far a request has come, in the words a requester reads: the step it is at, who it
waits on, tasks done of total, and when it should arrive. Pure presentation over rows the
caller loaded (no queries here), so lists stay at a constant number of queries."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tickets.choices import ApprovalDecision

from .approvals import approver_label
from .choices import RequestStatus, TaskStatus

R = RequestStatus

#: The steps a requester sees, and the statuses that have reached each.
STEPS = [
    ("Ordered", set(R)),
    ("Approved", {R.APPROVED, R.IN_FULFILMENT, R.FULFILLED, R.CLOSED}),
    ("Being prepared", {R.IN_FULFILMENT, R.FULFILLED, R.CLOSED}),
    ("Delivered", {R.FULFILLED, R.CLOSED}),
]


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # "done", "current" (under way) or "todo"


@dataclass
class Progress:
    status: str
    stage: int = 0
    stages: int = 0
    waiting_on: list[str] = field(default_factory=list)
    tasks_done: int = 0
    tasks_total: int = 0
    expected_delivery_at: datetime | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line for lists: 'Approval 1 of 2 (Bea Boss)', '1 of 2 tasks done'…"""
        if self.status == R.AWAITING_APPROVAL:
            who = f" ({', '.join(self.waiting_on)})" if self.waiting_on else ""
            return f"Approval {self.stage} of {self.stages}{who}"
        if self.status == R.IN_FULFILMENT and self.tasks_total:
            return f"{self.tasks_done} of {self.tasks_total} tasks done"
        return ""


def progress_for(
    request: Any,
    *,
    approvals: Iterable[Any] = (),
    tasks: Iterable[Any] | None = None,
) -> Progress:
    """Progress of `request`. Pass its approvals (only pending ones are read) and its tasks,
    or annotate it with `tasks_total`/`tasks_done` (ServiceRequestQuerySet.with_progress)."""
    status = R(request.status)
    if tasks is not None:
        task_list = list(tasks)
        total = len(task_list)
        done = sum(1 for t in task_list if t.status == TaskStatus.DONE)
    else:
        total = getattr(request, "tasks_total", 0) or 0
        done = getattr(request, "tasks_done", 0) or 0
    waiting = [
        approver_label(a)
        for a in approvals
        if a.decision == ApprovalDecision.PENDING and a.stage == request.approval_stage
    ]
    return Progress(
        status=status,
        stage=request.approval_stage,
        stages=request.approval_stages_total,
        waiting_on=waiting,
        tasks_done=done,
        tasks_total=total,
        expected_delivery_at=request.expected_delivery_at,
        steps=_steps(status, approval=bool(request.approval_stages_total)),
    )


def _steps(status: RequestStatus, *, approval: bool = True) -> list[Step]:
    """Steps reached are done; the next one is under way unless the request ended."""
    last = max(i for i, (_label, statuses) in enumerate(STEPS) if status in statuses)
    ended = status in (R.REJECTED, R.CANCELLED)
    steps = []
    for index, (label, _statuses) in enumerate(STEPS):
        if index == 1 and not approval:
            label = "No approval needed"
        if index <= last:
            state = "done"
        elif index == last + 1 and not ended:
            state = "current"
        else:
            state = "todo"
        steps.append(Step(label=label, state=state))
    return steps

"""Service request use cases. The portal, desk, API and Celery tasks call only these.

Every function is one transaction: it locks the request's ticket (then its tasks' tickets,
always in that order), checks the optimistic-locking version when the caller passes one,
writes the journal, keeps the SLA clocks in step (`sla_clocks_sync` after every change of
a request or a task) and queues notifications after commit.

ordering: service_request_submit · approving: approval_decide, approval_reminders_send,
delegation_set · fulfilment: task_transition, task_assign, task_comment · lifecycle:
service_request_cancel / _close / _assign / _comment, service_requests_auto_close."""

from .approving import approval_decide, approval_reminders_send, delegation_set
from .common import (
    ApprovalClosed,
    NotAllowed,
    default_calendar,
    expected_delivery,
    request_calendar,
    request_policies,
)
from .fulfilment import task_assign, task_comment, task_transition
from .lifecycle import (
    service_request_assign,
    service_request_cancel,
    service_request_close,
    service_request_comment,
    service_requests_auto_close,
)
from .ordering import item_snapshot, service_request_submit

__all__ = [
    "ApprovalClosed",
    "NotAllowed",
    "approval_decide",
    "approval_reminders_send",
    "default_calendar",
    "delegation_set",
    "expected_delivery",
    "item_snapshot",
    "request_calendar",
    "request_policies",
    "service_request_assign",
    "service_request_cancel",
    "service_request_close",
    "service_request_comment",
    "service_request_submit",
    "service_requests_auto_close",
    "task_assign",
    "task_comment",
    "task_transition",
]

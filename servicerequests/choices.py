"""Statuses of service requests and fulfilment tasks, with what requesters read for each."""

from django.db import models


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IN_FULFILMENT = "in_fulfilment", "In fulfilment"
    FULFILLED = "fulfilled", "Fulfilled"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


#: What the requester reads in the portal for each status.
PLAIN_STATUS: dict[str, str] = {
    RequestStatus.SUBMITTED: "Received",
    RequestStatus.AWAITING_APPROVAL: "Waiting for approval",
    RequestStatus.APPROVED: "Approved, about to be worked on",
    RequestStatus.REJECTED: "Not approved",
    RequestStatus.IN_FULFILMENT: "Being prepared",
    RequestStatus.FULFILLED: "Delivered",
    RequestStatus.CLOSED: "Closed",
    RequestStatus.CANCELLED: "Cancelled",
}


class TaskStatus(models.TextChoices):
    WAITING = "waiting", "Waiting for earlier tasks"
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Decision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


#: Fulfilled requests close by themselves after this many days (beat task).
AUTO_CLOSE_DAYS = 5
#: At most this many files per attachment question.
MAX_FILES_PER_QUESTION = 5

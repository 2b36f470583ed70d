"""Change use cases. The desk, the portal's approvals page, the API, the admin and Celery call
only these (import them from `changes.services`).

Every function is one transaction: it locks the ticket row (checking the optimistic-locking
version when the caller passes one), writes the journal, syncs SLA clocks and queues side
effects after commit. Scheduling and window edits also take one advisory lock, so two changes
booked at the same moment cannot both miss each other's conflict.

risk.py: questionnaire and override · editing.py: create, update, assign, links, comments ·
cab.py: send to the CAB and decide · lifecycle.py: transitions and their guards, reminders ·
blackouts.py · feeds.py: calendar feed tokens."""

from ._common import FIXES, ScheduleConflict, is_change_manager
from .blackouts import blackout_window_delete, blackout_window_save
from .cab import (
    cab_candidates,
    cab_policy_for,
    change_decide,
    change_send_to_cab,
    decidable_statuses,
    default_approvers,
    is_approver,
)
from .editing import (
    change_assign,
    change_comment,
    change_create,
    change_link_incident,
    change_unlink_incident,
    change_update,
)
from .feeds import calendar_feed_token_revoke, calendar_feed_token_rotate, calendar_feed_user
from .lifecycle import change_transition, changes_remind_upcoming
from .risk import change_answer_risk, change_override_risk, risk_assess, risk_questions

__all__ = [
    "FIXES",
    "ScheduleConflict",
    "blackout_window_delete",
    "blackout_window_save",
    "cab_candidates",
    "cab_policy_for",
    "calendar_feed_token_revoke",
    "calendar_feed_token_rotate",
    "calendar_feed_user",
    "change_answer_risk",
    "change_assign",
    "change_comment",
    "change_create",
    "change_decide",
    "change_link_incident",
    "change_override_risk",
    "change_send_to_cab",
    "change_transition",
    "change_unlink_incident",
    "change_update",
    "changes_remind_upcoming",
    "decidable_statuses",
    "default_approvers",
    "is_approver",
    "is_change_manager",
    "risk_assess",
    "risk_questions",
]

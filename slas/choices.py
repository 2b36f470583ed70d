from django.db import models


class Metric(models.TextChoices):
    RESPONSE = "response", "Response"
    RESOLUTION = "resolution", "Resolution"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    CANCELLED = "cancelled", "Cancelled"


class SlaEventType(models.TextChoices):
    WARNING = "warning", "Warning"
    BREACH = "breach", "Breach"


class Trigger(models.TextChoices):
    WARNING = "warning", "A warning threshold"
    BREACH = "breach", "Breach (plus an optional delay)"


class Action(models.TextChoices):
    NOTIFY_ASSIGNEE = "notify_assignee", "Notify the assignee"
    NOTIFY_TEAM_LEAD = "notify_team_lead", "Notify the team lead"
    NOTIFY_MANAGER = "notify_manager", "Notify the assignee's manager"
    NOTIFY_USERS = "notify_users", "Notify named users"
    NOTIFY_TEAM = "notify_team", "Notify a team"
    REASSIGN_TEAM = "reassign_team", "Reassign to a team"
    RAISE_PRIORITY = "raise_priority", "Raise priority by one"
    SET_FLAG = "set_flag", "Set a flag (tag)"


#: Badge colour per clock state.
CLOCK_COLOURS = {
    ClockState.RUNNING: "blue",
    ClockState.PAUSED: "yellow",
    ClockState.MET: "green",
    ClockState.BREACHED: "red",
    ClockState.CANCELLED: "grey",
}

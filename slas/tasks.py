"""Thin Celery tasks: load, call one service."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .models import RecalculationJob
from .services import escalation_run, sla_clocks_recalculate, sla_sweep


@shared_task(acks_late=True, ignore_result=True)
def sweep_task() -> dict[str, int]:
    """Beat, every second: warnings, breaches and escalations that are due."""
    return vars(sla_sweep())


@shared_task(acks_late=True)
def run_escalation_task(*, event_id: int) -> str:
    """Perform one escalation (idempotent: safe to deliver twice)."""
    return escalation_run(event_id=event_id)


@shared_task(acks_late=True)
def recalculate_clocks_task(*, job_id: int) -> int:
    """Recalculate the open clocks of an edited policy or calendar, recording progress."""
    job = RecalculationJob.objects.get(pk=job_id)
    ids = list(job.open_clocks().values_list("pk", flat=True))
    RecalculationJob.objects.filter(pk=job_id).update(total=len(ids), started_at=timezone.now())
    done = 0
    for start in range(0, len(ids), 200):
        done += sla_clocks_recalculate(clock_ids=ids[start : start + 200])
        with transaction.atomic():
            RecalculationJob.objects.filter(pk=job_id).update(
                done=start + len(ids[start : start + 200])
            )
    RecalculationJob.objects.filter(pk=job_id).update(finished_at=timezone.now())
    return done


@shared_task(acks_late=True)
def whatif_task(*, run_id: int) -> dict:
    """Compute a what-if preview, recording progress on the run row."""
    from datetime import timedelta

    from .models import BusinessCalendar, WhatIfRun
    from .replay import Rules, policy_whatif

    run = WhatIfRun.objects.select_related("policy__calendar").get(pk=run_id)
    proposed = run.proposed
    calendar = BusinessCalendar.objects.get(pk=proposed["calendar_id"]).calendar
    rules = Rules(
        timedelta(seconds=proposed["target_seconds"]),
        calendar,
        frozenset(proposed["pause_statuses"]),
    )

    def progress(done: int, total: int) -> None:
        WhatIfRun.objects.filter(pk=run_id).update(done=done, total=total)

    result = policy_whatif(policy=run.policy, rules=rules, days=run.days, progress=progress)
    WhatIfRun.objects.filter(pk=run_id).update(result=result.as_dict(), finished_at=timezone.now())
    return result.as_dict()

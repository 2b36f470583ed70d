from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.choices import IncidentStatus, ResolutionCode
from incidents.models import Incident
from incidents.services import incident_create, incident_transition
from incidents.tasks import auto_close_resolved_task
from tickets.models import Ticket


@pytest.mark.worker
def test_auto_close_runs_on_a_real_worker(celery_worker_process, requester, agent, settings):
    # given: an incident resolved four days ago (the window is three)
    incident = incident_create(requester=requester, by=requester, title="Old resolved")
    incident_transition(
        incident=incident,
        by=agent,
        target=IncidentStatus.RESOLVED,
        resolution_code=ResolutionCode.FIXED,
        resolution_notes="done",
    )
    Ticket.objects.filter(pk=incident.pk).update(resolved_at=timezone.now() - timedelta(days=4))
    celery_worker_process()
    # when
    closed = auto_close_resolved_task.delay().get(timeout=30)
    # then
    assert closed == 1
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.CLOSED

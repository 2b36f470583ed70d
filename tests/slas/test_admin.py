"""SLA admin: deactivating a policy stops its clocks at once; editing a policy or a calendar
(holidays included) queues a RecalculationJob whose task moves the deadlines; the public
holiday import; engine-written rows are read-only."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from incidents.services import incident_create
from slas.models import BusinessCalendar, Holiday, RecalculationJob, SlaClock, SlaPolicy
from slas.tasks import recalculate_clocks_task

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday
H = timedelta(hours=1)
ALWAYS = {str(d): [["00:00", "24:00"]] for d in range(7)}


@pytest.fixture
def calendar():
    return BusinessCalendar.objects.create(name="24x7", timezone="UTC", hours=ALWAYS)


@pytest.fixture
def policy(calendar):
    return SlaPolicy.objects.create(
        name="Resolve in 4 h",
        kind="incident",
        metric="resolution",
        target=4 * H,
        calendar=calendar,
        pause_statuses=["on_hold"],
    )


@pytest.fixture
def clock(policy, requester, network_team, time_machine):
    time_machine.move_to(T0, tick=False)
    incident = incident_create(requester=requester, by=requester, title="VPN", team=network_team)
    time_machine.move_to(T0 + H, tick=False)
    return SlaClock.objects.get(ticket=incident.ticket)


def _management(prefix: str, total: int = 0, initial: int = 0) -> dict[str, int]:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def _policy_form(policy: SlaPolicy, **changes) -> dict:
    data = {
        "name": policy.name,
        "kind": policy.kind,
        "metric": policy.metric,
        "target": "04:00:00",
        "calendar": policy.calendar_id,
        "order": policy.order,
        "active": "on",
        "priorities": "",
        "pause_statuses": "on_hold",
        "warning_thresholds": "50,75,90",
        # fields with callable defaults post their initial value too (show_hidden_initial)
        "initial-priorities": "",
        "initial-pause_statuses": "on_hold",
        "initial-warning_thresholds": "50,75,90",
        **_management("escalation_rules"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _calendar_form(
    calendar: BusinessCalendar, hours: str, holidays: list[tuple[str, str]] = ()
) -> dict:
    data = {
        "name": calendar.name,
        "timezone": calendar.timezone,
        "hours": hours,
        "initial-hours": json.dumps(calendar.hours),
    }
    existing = list(calendar.holidays.all())
    data.update(_management("holidays", total=len(existing) + len(holidays), initial=len(existing)))
    for i, holiday in enumerate(existing):
        data.update(
            {
                f"holidays-{i}-id": holiday.pk,
                f"holidays-{i}-calendar": calendar.pk,
                f"holidays-{i}-date": holiday.date.isoformat(),
                f"holidays-{i}-name": holiday.name,
            }
        )
    for j, (day, name) in enumerate(holidays, start=len(existing)):
        data.update({f"holidays-{j}-date": day, f"holidays-{j}-name": name})
    return data


# ------------------------------------------------------------------ policies
def test_deactivating_a_policy_cancels_its_open_clocks_at_once(
    admin_client, policy, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            f"/admin/slas/slapolicy/{policy.pk}/change/",
            _policy_form(policy, active=None),
            follow=True,
        )

    assert response.status_code == 200
    assert "1 open clock stopped" in response.content.decode()
    clock.refresh_from_db()
    assert clock.state == "cancelled"
    assert clock.stopped_at == T0 + H
    assert clock.next_check_at is None
    assert not RecalculationJob.objects.exists()
    assert callbacks == []


def test_editing_a_policy_queues_a_recalculation_that_moves_due_at(
    admin_client, policy, clock, django_capture_on_commit_callbacks
):
    assert clock.due_at == T0 + 4 * H
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            f"/admin/slas/slapolicy/{policy.pk}/change/",
            _policy_form(policy, target="08:00:00"),
            follow=True,
        )

    job = RecalculationJob.objects.get()
    assert job.policy == policy
    assert job.progress == "queued"
    assert len(callbacks) == 1
    assert f"/admin/slas/recalculationjob/{job.pk}/change/" in response.content.decode()

    recalculate_clocks_task(job_id=job.pk)

    job.refresh_from_db()
    assert job.progress == "done (1/1)"
    clock.refresh_from_db()
    assert clock.target == 8 * H
    assert clock.due_at == T0 + 8 * H


def test_saving_a_policy_unchanged_queues_nothing(admin_client, policy, clock):
    admin_client.post(f"/admin/slas/slapolicy/{policy.pk}/change/", _policy_form(policy))
    assert not RecalculationJob.objects.exists()


# ------------------------------------------------------------------ calendars
def test_editing_calendar_hours_queues_a_recalculation_that_moves_due_at(
    admin_client, calendar, clock, django_capture_on_commit_callbacks
):
    hours = '{"0": [["09:00", "12:00"]], "1": [["09:00", "12:00"]]}'
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            f"/admin/slas/businesscalendar/{calendar.pk}/change/", _calendar_form(calendar, hours)
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    job = RecalculationJob.objects.get()
    assert job.calendar == calendar
    assert len(callbacks) == 1

    recalculate_clocks_task(job_id=job.pk)

    job.refresh_from_db()
    assert job.progress == "done (1/1)"
    clock.refresh_from_db()
    # 1 h worked by Monday 10:00; 3 h left: 10–12 Monday, then 09–10 Tuesday.
    assert clock.due_at == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def test_adding_a_holiday_in_the_inline_counts_as_a_calendar_edit(
    admin_client, calendar, clock, django_capture_on_commit_callbacks
):
    form = _calendar_form(calendar, json.dumps(ALWAYS), [("2026-03-02", "Closed")])
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(f"/admin/slas/businesscalendar/{calendar.pk}/change/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert calendar.holidays.get().date == date(2026, 3, 2)
    job = RecalculationJob.objects.get(calendar=calendar)
    recalculate_clocks_task(job_id=job.pk)
    clock.refresh_from_db()
    # Monday became a holiday: no working time so far, 4 h from Tuesday 00:00.
    assert clock.due_at == datetime(2026, 3, 3, 4, 0, tzinfo=UTC)


def test_import_public_holidays_action(
    admin_client, calendar, clock, django_capture_on_commit_callbacks
):
    url = "/admin/slas/businesscalendar/"
    chosen = {"action": "import_holidays", "_selected_action": [calendar.pk]}

    page = admin_client.post(url, chosen)
    assert page.status_code == 200
    assert "Import public holidays" in page.content.decode()

    bad = admin_client.post(
        url,
        {
            **chosen,
            "apply": "1",
            "country": "GB",
            "subdivision": "XX",
            "year_from": 2026,
            "year_to": 2025,
        },
    )
    assert bad.status_code == 200
    assert "Not a subdivision of GB" in bad.content.decode()
    assert not Holiday.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        done = admin_client.post(
            url,
            {
                **chosen,
                "apply": "1",
                "country": "GB",
                "subdivision": "ENG",
                "year_from": 2026,
                "year_to": 2027,
            },
            follow=True,
        )

    assert done.status_code == 200
    days = dict(calendar.holidays.values_list("date", "name"))
    assert days[date(2026, 12, 25)] == "Christmas Day"
    assert days[date(2027, 12, 25)] == "Christmas Day"
    assert date(2026, 4, 6) in days  # Easter Monday
    assert f"{len(days)} public holidays of GB-ENG (2026–2027) added" in done.content.decode()
    assert RecalculationJob.objects.filter(calendar=calendar).count() == 1
    assert len(callbacks) == 1
    # importing again adds nothing and queues nothing
    admin_client.post(
        url,
        {
            **chosen,
            "apply": "1",
            "country": "GB",
            "subdivision": "ENG",
            "year_from": 2026,
            "year_to": 2026,
        },
    )
    assert calendar.holidays.count() == len(days)
    assert RecalculationJob.objects.count() == 1


# ------------------------------------------------------------------ read-only lists
@pytest.mark.parametrize("model", ["slaclock", "slaevent", "escalationevent", "recalculationjob"])
def test_engine_rows_are_read_only(admin_client, clock, model):
    assert admin_client.get(f"/admin/slas/{model}/").status_code == 200
    assert admin_client.get(f"/admin/slas/{model}/add/").status_code == 403


def test_clock_view_page_has_no_save_or_delete(admin_client, clock):
    html = admin_client.get(f"/admin/slas/slaclock/{clock.pk}/change/").content.decode()
    assert 'name="_save"' not in html
    assert "/delete/" not in html
    assert admin_client.post(f"/admin/slas/slaclock/{clock.pk}/delete/").status_code == 403


def test_recalculation_job_list_shows_progress(admin_client, policy, clock):
    job = RecalculationJob.objects.create(policy=policy)
    assert "queued" in admin_client.get("/admin/slas/recalculationjob/").content.decode()
    recalculate_clocks_task(job_id=job.pk)
    assert "done (1/1)" in admin_client.get("/admin/slas/recalculationjob/").content.decode()


def test_saving_a_calendar_unchanged_queues_nothing(admin_client, calendar, clock):
    form = _calendar_form(calendar, json.dumps(ALWAYS))
    response = admin_client.post(f"/admin/slas/businesscalendar/{calendar.pk}/change/", form)
    assert response.status_code == 302
    assert not RecalculationJob.objects.exists()


def test_deadline_tester_shows_the_deadline_and_its_working_stretches(client, db):
    from accounts.models import User
    from slas.models import BusinessCalendar

    admin_user = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-1")
    office = BusinessCalendar.objects.create(
        name="Berlin",
        timezone="Europe/Berlin",
        hours={str(d): [["09:00", "17:00"]] for d in range(5)},
    )
    client.force_login(admin_user)
    # Friday 15:00 Berlin + 4 working hours → Monday 11:00 (2 h Friday, 2 h Monday)
    response = client.get(
        "/admin/slas/businesscalendar/deadline-tester/",
        {
            "calendar": office.pk,
            "start": "2026-03-27T15:00",
            "zone": "Europe/Berlin",
            "target": "4:00:00",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Deadline: Mon 30 Mar 2026, 11:00:00 CEST" in page  # across the DST change
    assert "2 working stretches totalling 4:00:00" in page


def _superuser():
    from accounts.models import User

    return User.objects.create_superuser("root2", "root2@example.com", "pw-for-tests-1")


def test_replay_action_shows_differences_then_applies_them(client, db, make_policy, requester):
    from incidents.services import incident_create
    from slas.models import ClockReplay, SlaClock

    make_policy(target=timedelta(hours=8))
    incident = incident_create(requester=requester, by=requester, title="replayed")
    clock = SlaClock.objects.get(ticket_id=incident.pk)
    SlaClock.objects.filter(pk=clock.pk).update(state="breached", breached_at=clock.started_at)
    client.force_login(_superuser())
    url = "/admin/slas/slaclock/"
    page = client.post(url, {"action": "replay", "_selected_action": [clock.pk]}).content.decode()
    assert "1 differ" in page
    assert "Apply the replay" in page
    assert SlaClock.objects.get(pk=clock.pk).state == "breached"  # a dry run writes nothing
    client.post(url, {"action": "replay", "_selected_action": [clock.pk], "apply": "yes"})
    assert SlaClock.objects.get(pk=clock.pk).state == "running"
    assert ClockReplay.objects.filter(clock=clock).exists()


def test_whatif_page_queues_a_run_and_shows_its_result(
    client, db, make_policy, django_capture_on_commit_callbacks
):
    from slas.models import WhatIfRun
    from slas.tasks import whatif_task

    policy = make_policy(target=timedelta(hours=8))
    client.force_login(_superuser())
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            f"/admin/slas/slapolicy/{policy.pk}/whatif/",
            {
                "target": "2:00:00",
                "calendar": policy.calendar_id,
                "pause_statuses": "on_hold",
                "days": 30,
            },
        )
    run = WhatIfRun.objects.get()
    assert response.status_code == 302
    assert len(callbacks) == 1  # the computation is queued after commit
    assert "Computing" in client.get(f"/admin/slas/slapolicy/whatif/{run.pk}/").content.decode()
    whatif_task(run_id=run.pk)
    page = client.get(f"/admin/slas/slapolicy/whatif/{run.pk}/").content.decode()
    assert 'id="whatif-result"' in page

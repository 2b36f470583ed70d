from datetime import timedelta

import pytest

from slas.models import BusinessCalendar, SlaPolicy


@pytest.fixture
def always():
    return BusinessCalendar.objects.create(
        name="24x7", timezone="UTC", hours={str(d): [["00:00", "24:00"]] for d in range(7)}
    )


@pytest.fixture
def office():
    return BusinessCalendar.objects.create(
        name="Berlin office",
        timezone="Europe/Berlin",
        hours={str(d): [["09:00", "17:00"]] for d in range(5)},
    )


@pytest.fixture
def make_policy(always):
    def make(metric="resolution", target=timedelta(hours=8), **kwargs):
        kwargs.setdefault("calendar", always)
        kwargs.setdefault("pause_statuses", ["on_hold"])
        kwargs.setdefault("name", f"{metric} {target}")
        return SlaPolicy.objects.create(kind="incident", metric=metric, target=target, **kwargs)

    return make

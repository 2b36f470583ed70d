"""Weekly e-mail reports: a dashboard rendered on the server, its tables attached as CSV
(exactly the files the CSV buttons give)."""

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse

from .choices import Dashboard
from .forms import filters_from
from .models import ReportSubscription
from .pages import compute
from .periods import zone_or_utc
from .permissions import team_restriction


def report_message(subscription: ReportSubscription, now: datetime) -> EmailMultiAlternatives:
    """The e-mail of one subscription as of `now` (figures in the subscriber's time zone and
    within what they may see today)."""
    user = subscription.user
    params = QueryDict(mutable=True)
    for key, values in (subscription.params or {}).items():
        params.setlist(key, list(values))
    filters = filters_from(
        params, zone=zone_or_utc(user.time_zone), now=now, teams=team_restriction(user)
    )
    page = compute(subscription.dashboard, filters)
    name = Dashboard(subscription.dashboard).label
    url_name = "home" if subscription.dashboard == Dashboard.OVERVIEW else subscription.dashboard
    link = f"{settings.SITE_URL}{reverse(f'dashboards:{url_name}')}?{filters.querystring}"
    context = {
        "name": name,
        "page": page,
        "filters": filters,
        "link": link,
        "user": user,
        "dashboard": subscription.dashboard,
    }
    subject = f"{name}: {filters.period.label}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/dashboards/report.txt", context),
        to=[user.email],
    )
    html = render_to_string("emails/dashboards/report.html", context)
    message.attach_alternative(html, "text/html")
    for table in page.tables:
        message.attach(f"{subscription.dashboard}-{table.key}.csv", table.csv(), "text/csv")
    return message

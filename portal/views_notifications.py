"""Notification pages every signed-in user has (preferences, open one, mark one read) and
the satisfaction survey reached from the "resolved" e-mail by its signed link."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from tickets.choices import CategoryDelivery, CsatRating, EmailMode, NotificationCategory
from tickets.csat import csat_record, csat_survey
from tickets.models import NotificationPreference
from tickets.notifications import notification_preferences_save, notification_read


class PreferencesForm(forms.Form):
    """E-mail mode, then one delivery choice per category (built from the choices)."""

    email_mode = forms.ChoiceField(
        label="E-mail", choices=EmailMode.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in NotificationCategory.choices:
            self.fields[f"cat_{value}"] = forms.ChoiceField(
                label=label, choices=CategoryDelivery.choices
            )

    def category_fields(self) -> list[forms.BoundField]:
        return [self[f"cat_{value}"] for value in NotificationCategory.values]

    def categories(self) -> dict[str, str]:
        return {v: self.cleaned_data[f"cat_{v}"] for v in NotificationCategory.values}


def _initial(pref: NotificationPreference | None) -> dict[str, str]:
    initial = {"email_mode": pref.email_mode if pref else EmailMode.IMMEDIATE}
    muted = set(pref.muted) if pref else set()
    in_app = set(pref.in_app_only) if pref else set()
    for value in NotificationCategory.values:
        initial[f"cat_{value}"] = (
            CategoryDelivery.OFF
            if value in muted
            else CategoryDelivery.IN_APP
            if value in in_app
            else CategoryDelivery.EMAIL
        )
    return initial


def notification_preferences_view(request: HttpRequest) -> HttpResponse:
    """Which events reach me, by e-mail or in-app only, and whether e-mails come as a digest."""
    pref = NotificationPreference.objects.filter(user=request.user).first()
    form = PreferencesForm(request.POST or None, initial=_initial(pref))
    if request.method == "POST" and form.is_valid():
        notification_preferences_save(
            user=request.user,
            email_mode=form.cleaned_data["email_mode"],
            categories=form.categories(),
        )
        messages.success(request, "Notification settings saved.")
        return redirect("portal:notification-preferences")
    return render(
        request,
        "portal/notifications_preferences.html",
        {"form": form, "digest_hour": settings.NOTIFY_DIGEST_HOUR},
    )


def notification_open_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a notification: mark it read and go to its ticket (desk for agents)."""
    note = notification_read(user=request.user, notification_id=pk)
    if note is None:
        raise Http404
    if note.ticket is None:
        return redirect("portal:notifications")
    if request.user.is_agent:
        return redirect("desk:ticket", note.ticket.number)
    return redirect(note.ticket.portal_url)


@require_POST
def notification_read_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read (HTMX swaps its row; without HTMX back to the list)."""
    note = notification_read(user=request.user, notification_id=pk)
    if note is None:
        raise Http404
    if request.headers.get("HX-Request"):
        return render(request, "portal/notifications_row.html", {"n": note})
    return redirect("portal:notifications")


class CsatForm(forms.Form):
    rating = forms.ChoiceField(
        label="Your rating", choices=CsatRating.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label="Anything to add? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def csat_view(request: HttpRequest, token: str) -> HttpResponse:
    """The survey behind the e-mail's good/bad links. The link is the credential (no login).

    The GET only shows the choice pre-selected: mail scanners open links, and one must not
    cast a vote for the requester. The POST records it, once."""
    try:
        survey = csat_survey(token=token)
    except DomainError as exc:
        return render(request, "portal/csat.html", {"error": exc.message}, status=400)
    if survey.answer is not None:
        return render(request, "portal/csat.html", {"survey": survey, "done": survey.answer})
    rating = request.GET.get("rating")
    form = CsatForm(
        request.POST or None,
        initial={"rating": rating if rating in CsatRating.values else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            answer = csat_record(
                token=token,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return render(request, "portal/csat.html", {"survey": survey, "done": answer})
    return render(
        request,
        "portal/csat.html",
        {"survey": survey, "form": form, "action": reverse("portal:csat", args=[token])},
    )

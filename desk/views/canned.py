"""The agent's canned replies: list what they may use, create, edit and delete (with a
confirmation page). Writes go through desk.canned services. A reply the agent may not use is a
404; one they may use but not edit (a colleague's shared reply) is a 403."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.models import Team
from core.exceptions import DomainError

from ..canned import (
    PLACEHOLDERS,
    can_edit,
    canned_replies_for,
    canned_reply_create,
    canned_reply_delete,
    canned_reply_update,
    share_teams,
)
from ..forms import CannedReplyForm
from ..models import CannedReply


def _editable(request: HttpRequest, reply_id: int) -> CannedReply:
    reply = get_object_or_404(canned_replies_for(request.user), pk=reply_id)
    if not can_edit(request.user, reply):
        raise PermissionDenied
    return reply


def canned_list(request: HttpRequest) -> HttpResponse:
    replies = list(canned_replies_for(request.user))
    rows = [(reply, can_edit(request.user, reply)) for reply in replies]
    return render(
        request,
        "desk/canned/list.html",
        {"rows": rows, "placeholders": [f"{{{{ {name} }}}}" for name in PLACEHOLDERS]},
    )


def _form_page(
    request: HttpRequest, form: CannedReplyForm, reply: CannedReply | None
) -> HttpResponse:
    status = 422 if request.method == "POST" else 200
    return render(request, "desk/canned/form.html", {"form": form, "reply": reply}, status=status)


def canned_create(request: HttpRequest) -> HttpResponse:
    form = CannedReplyForm(request.POST or None, teams=share_teams(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            reply = canned_reply_create(by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Canned reply “{reply.title}” saved.")
            return redirect("desk:canned-list")
    return _form_page(request, form, None)


def canned_edit(request: HttpRequest, reply_id: int) -> HttpResponse:
    reply = _editable(request, reply_id)
    initial = {
        "title": reply.title,
        "body": reply.body,
        "team": reply.team_id,
        "shared_all": reply.shared_all,
    }
    teams = share_teams(request.user)
    if reply.team_id:  # keep the current team choosable even after leaving it
        teams = Team.objects.filter(Q(pk__in=teams) | Q(pk=reply.team_id)).order_by("name")
    form = CannedReplyForm(request.POST or None, initial=initial, teams=teams)
    if request.method == "POST" and form.is_valid():
        try:
            canned_reply_update(reply=reply, by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Canned reply “{reply.title}” updated.")
            return redirect("desk:canned-list")
    return _form_page(request, form, reply)


def canned_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    reply = _editable(request, reply_id)
    if request.method == "POST":
        title = reply.title
        canned_reply_delete(reply=reply, by=request.user)
        messages.success(request, f"Canned reply “{title}” deleted.")
        return redirect("desk:canned-list")
    return render(request, "desk/canned/confirm_delete.html", {"reply": reply})

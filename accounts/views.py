from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def home(request: HttpRequest) -> HttpResponse:
    """Where a login lands: agents start in the desk, everyone else in the portal."""
    if getattr(request.user, "is_agent", False):
        return redirect("desk:queue")
    return redirect("portal:home")

"""The one front-door policy: every URL is checked here before its view runs.

Anonymous users may reach only the public URL names in settings.PUBLIC_URL_NAMES; every
other page needs a login. Each URL namespace may require a role predicate on the user
(settings.FRONT_DOOR_POLICY, e.g. {"desk": "is_agent"}). Row-level visibility is not
decided here but by each kind's `visible_to(user)`.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse


class LoginRequiredPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.url_name in settings.PUBLIC_URL_NAMES:
            return None
        namespace = match.namespaces[0] if match.namespaces else ""
        if namespace in settings.SELF_AUTHENTICATING_NAMESPACES:
            return None  # the API and the admin run their own authentication
        user = request.user
        if not user.is_authenticated:
            if request.headers.get("HX-Request"):
                return JsonResponse({"detail": "Log in again."}, status=401)
            return redirect_to_login(request.get_full_path())
        predicate = settings.FRONT_DOOR_POLICY.get(namespace)
        if predicate and not getattr(user, predicate, False):
            raise PermissionDenied
        return None

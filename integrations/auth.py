"""DRF authentication with personal and service-account API tokens.

`Authorization: Bearer <token>` (or `Token <token>`). Listed first in
DEFAULT_AUTHENTICATION_CLASSES so that an anonymous API call is answered 401 with a
`WWW-Authenticate` challenge. The token's scope is enforced here, for every view whatever
its permission classes: a read token may only use safe methods (403 otherwise)."""

from typing import Any

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from .models import ApiToken
from .tokens import api_token_authenticate

KEYWORDS = (b"bearer", b"token")


class TokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # not ours: session authentication may apply
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send `Authorization: Bearer <token>`.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.") from None
        token = api_token_authenticate(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if not token.allows(request.method or "GET"):
            raise exceptions.PermissionDenied("This token is read-only: it may only read.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'

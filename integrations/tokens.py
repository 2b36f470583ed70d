"""Personal API tokens and service accounts: create, revoke, authenticate.

A token is `sd_` + 43 URL-safe characters (256 random bits). Only its SHA-256 is stored; a
fast hash is enough for a secret of that entropy (nothing to brute-force), and it lets the
lookup be one indexed equality."""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from core.exceptions import DomainError

from .choices import TokenScope
from .models import ApiToken, ServiceAccount

TOKEN_PREFIX = "sd_"
DISPLAY_PREFIX_LENGTH = 10
#: last_used_at is written at most this often per token (not one write per request).
LAST_USED_PRECISION = timedelta(minutes=1)
TOKEN_SHAPE = re.compile(r"^sd_[A-Za-z0-9_-]{20,100}$")
MAX_ACTIVE_TOKENS = 50


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    scope: str = TokenScope.READ,
    expires_at: datetime | None = None,
    by: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the secret, which is never shown
    again. A service account's tokens are created by an administrator (`by`)."""
    name = name.strip()
    if not name:
        raise DomainError("Name the token after what will use it.", field="name")
    if scope not in TokenScope.values:
        raise DomainError("Choose read or write.", field="scope")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError("The expiry date must be in the future.", field="expires_at")
    if not user.is_active:
        raise DomainError("This account is deactivated.")
    active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_TOKENS:
        raise DomainError(f"At most {MAX_ACTIVE_TOKENS} tokens: revoke one you no longer use.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[:DISPLAY_PREFIX_LENGTH],
        key_hash=token_hash(raw),
        scope=scope,
        expires_at=expires_at,
        created_by=by or user,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke a token (idempotent). Its owner or a superuser may revoke it."""
    if token.user_id != by.pk and not by.is_superuser:
        raise DomainError("You can revoke only your own tokens.")
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    return locked


def api_token_authenticate(*, raw: str, at: datetime | None = None) -> ApiToken | None:
    """The usable token with this secret (and its active user), or None. Stamps last use."""
    if not TOKEN_SHAPE.match(raw):
        return None
    at = at or timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or not token.is_usable(at):
        return None
    if token.last_used_at is None or token.last_used_at < at - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
        token.last_used_at = at
    return token


@transaction.atomic
def service_account_create(
    *, name: str, by: User | None, description: str = "", roles: tuple[str, ...] = ()
) -> ServiceAccount:
    """Create the user an integration acts as: no usable password (it signs in only with
    tokens), a reserved e-mail address, and the given role groups."""
    name = name.strip()
    if not name:
        raise DomainError("Name the integration.", field="name")
    slug = slugify(name)[:40] or "integration"
    username = f"svc-{slug}"
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(f"A user named {username} already exists.", field="name")
    user = User(
        username=username,
        email=f"{username}@service-accounts.invalid",
        display_name=name[:150],
    )
    user.set_unusable_password()
    user.save()
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return ServiceAccount.objects.create(user=user, description=description, created_by=by)


def is_service_account(user: object) -> bool:
    """Whether this user is an integration's service account (one cached query)."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_is_service_account", None)
    if cached is None:
        cached = ServiceAccount.objects.filter(user_id=user.pk).exists()  # type: ignore[attr-defined]
        user._is_service_account = cached  # type: ignore[attr-defined]
    return cached

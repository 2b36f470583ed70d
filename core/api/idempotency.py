"""`Idempotency-Key` on creates (IETF draft "The Idempotency-Key HTTP Header Field").

Decorate a view method with `@idempotent`. When the caller sends the header:
- the first request runs and, if it succeeds (2xx), its answer is stored for 24 hours;
- the same key with the same method, path and body answers the stored result again, with
  `Idempotent-Replayed: true`, and writes nothing;
- the same key with another request is refused with 422;
- the same key while the first request is still running is refused with 409.
A request that fails (4xx/5xx) is forgotten, so the caller may retry it with the same key.

The create and the stored answer commit in one transaction: a crash between them loses
both, so a retry after the claim times out creates once, never twice. While that
transaction runs the store holds the claim (a row lock), so a slow request is never taken
over as abandoned; a concurrent retry is refused with 409 at once.

The store is pluggable (settings.API_IDEMPOTENCY_STORE, a dotted path) so this module stays
domain-free; the integrations app provides the database store."""

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: Response headers kept with the stored answer.
KEPT_HEADERS = ("ETag", "Location")
MAX_KEY_LENGTH = 255

IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER,
    {"type": "string", "pattern": "^[!-~]{1,255}$", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    required=False,
    description="A unique key (e.g. a UUID) per intended create. Sent again with the same "
    "body within 24 hours, the first result is answered again and nothing new is written; "
    "with another body it is refused with 422.",
)


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was already used for another request. Use a new key for a "
        "new request."
    )
    default_code = "idempotency_key_reused"


class IdempotencyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "A request with this Idempotency-Key is still being processed. Retry in a moment."
    )
    default_code = "idempotency_in_progress"


@dataclass
class StoredResponse:
    status_code: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class IdempotencyStore(Protocol):
    def begin(
        self, *, user_id: int, key: str, fingerprint: str, method: str, path: str
    ) -> StoredResponse | None:
        """Claim the key: None to run the request, a stored answer to replay; raises
        IdempotencyKeyReused or IdempotencyInProgress."""

    def finish(self, *, user_id: int, key: str, response: StoredResponse | None) -> None:
        """Store the answer, or forget the claim (None) so the key may be retried."""

    def hold(self, *, user_id: int, key: str) -> None:
        """Optional: keep the claim from being taken over until the current transaction
        ends (called inside it, before the create runs)."""


@functools.cache
def _store() -> IdempotencyStore | None:
    dotted = getattr(settings, "API_IDEMPOTENCY_STORE", "")
    return import_string(dotted)() if dotted else None


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and all(32 < ord(c) < 127 for c in key)


def _canonical(value: Any) -> Any:
    """A JSON-able form of parsed request data: key order does not matter, files count by
    name, size and content hash."""
    if hasattr(value, "getlist") and hasattr(value, "keys"):  # QueryDict / MultiValueDict
        return {key: [_canonical(v) for v in value.getlist(key)] for key in sorted(value.keys())}
    if isinstance(value, dict):
        return {str(key): _canonical(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if hasattr(value, "chunks"):  # an uploaded file
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    return value


def request_fingerprint(request: Request) -> str:
    body = json.dumps(_canonical(request.data), sort_keys=True, default=str)
    text = f"{request.method}\n{request.get_full_path()}\n{body}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _stored(response: Response) -> StoredResponse:
    body = json.loads(JSONRenderer().render(response.data)) if response.data is not None else None
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    return StoredResponse(status_code=response.status_code, body=body, headers=headers)


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Make a create endpoint honour `Idempotency-Key` (see the module docstring)."""

    @functools.wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        store = _store()
        if key is None or store is None or not request.user.is_authenticated:
            return method(view, request, *args, **kwargs)
        if not _valid_key(key):
            raise exceptions.ValidationError(
                {HEADER: [f"Send 1 to {MAX_KEY_LENGTH} visible ASCII characters, e.g. a UUID."]}
            )
        user_id = request.user.pk
        replay = store.begin(
            user_id=user_id,
            key=key,
            fingerprint=request_fingerprint(request),
            method=request.method or "",
            path=request.get_full_path()[:500],
        )
        if replay is not None:
            headers = {**replay.headers, REPLAYED_HEADER: "true"}
            return Response(replay.body, status=replay.status_code, headers=headers)
        try:
            # One transaction for the create and its stored answer (module docstring); the
            # services' own atomic blocks become savepoints, their on_commit hooks wait for it.
            with transaction.atomic():
                hold = getattr(store, "hold", None)
                if hold is not None:
                    hold(user_id=user_id, key=key)
                response = method(view, request, *args, **kwargs)
                ok = 200 <= response.status_code < 300
                if ok:
                    store.finish(user_id=user_id, key=key, response=_stored(response))
        except BaseException:
            # Release the claim so the caller may retry; never mask the original error.
            with contextlib.suppress(Exception):
                store.finish(user_id=user_id, key=key, response=None)
            raise
        if not ok:
            store.finish(user_id=user_id, key=key, response=None)
        return response

    return wrapper

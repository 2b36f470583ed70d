"""OpenAPI additions of the API platform: the token security scheme, and the webhook and
authentication guide appended to the schema's description."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from . import webhooks


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal or service-account token: `Authorization: Bearer "
            "sd_…`. Create one under your profile (API tokens). Read tokens may only use "
            "GET, HEAD and OPTIONS.",
        }


GUIDE = """

## Conventions
- Authentication: the browser session, or `Authorization: Bearer <token>` (personal tokens
  from your profile; service accounts for integrations, created by an administrator).
- Lists: cursor pagination (`next`/`previous` links), django-filter query parameters.
- `?fields=a,b` returns only those fields; `?expand=` returns the named relations in full.
- Updates: send the `ETag` you read as `If-Match` (or the `version` field); a stale write is
  refused with 412 and nothing is saved.
- Creates accept `Idempotency-Key`: the same key and body within 24 h answers the first
  result again (`Idempotent-Replayed: true`); the same key with another body is 422.
- Errors share one format: `{"type", "title", "status", "detail", "errors": {field: [..]}}`.
- Throttling per token and per user: 429 with `Retry-After` (seconds).

## Webhooks
Administrators subscribe target URLs to events in the admin (Integrations → Webhook
subscriptions); each delivery is logged there.
"""


def describe_integrations(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """Post-processing hook: append the conventions and the webhook guide (with the
    signature recipe) to the API description."""
    info = result.setdefault("info", {})
    recipe = (webhooks.__doc__ or "").strip()
    info["description"] = info.get("description", "") + GUIDE + "\n```text\n" + recipe + "\n```\n"
    return result

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """The API platform: tokens, service accounts, throttling, idempotency, webhooks, alerts."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        # Registers the OpenAPI description of token authentication (drf-spectacular extension).
        from . import schema  # noqa: F401

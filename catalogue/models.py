"""The services the desk supports. The catalogue issue extends this with items and forms."""

from django.conf import settings
from django.db import models

from .choices import Criticality


class Service(models.Model):
    """A business or technical service that tickets are about."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_services",
    )
    support_team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )
    criticality = models.CharField(max_length=10, choices=Criticality, default=Criticality.MEDIUM)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

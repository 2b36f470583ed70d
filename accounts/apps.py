from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # post_migrate seeding is one of the allowed uses of signals (STYLE §12):
        # permissions only exist after every app has migrated.
        from .roles import sync_roles

        post_migrate.connect(sync_roles, sender=self)

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # post_migrate seeding is one of the allowed uses of signals (STYLE §12). Connected
        # for every app, not just this one: other apps' permissions are created by their own
        # post_migrate, after ours, and a fresh database must still get them (idempotent).
        from .roles import sync_roles

        post_migrate.connect(sync_roles, dispatch_uid="accounts.sync_roles")

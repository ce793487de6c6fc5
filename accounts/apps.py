from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import impersonation, signals  # noqa: F401  (signals; the impersonation predicate)

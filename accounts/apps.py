from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from smartplus import roles, scoping

        from . import impersonation, signals  # noqa: F401  (signals; the impersonation predicate)
        from .models import PropertyManagerAssignment

        # A property manager sees the communities the installer assigned to it.
        scoping.register_community_visibility(
            roles.PROPERTY_MANAGER,
            lambda actor: PropertyManagerAssignment.objects.filter(property_manager_id=actor.pk).values(
                "community_id"
            ),
        )

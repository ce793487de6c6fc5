from django.apps import AppConfig


class CommunitiesConfig(AppConfig):
    name = "communities"

    def ready(self) -> None:
        from smartplus import roles, scoping

        from .models import Community

        def own_communities(actor):
            # Installers and sub-installers: the communities the tenant owns.
            return Community.objects.filter(installer_id=scoping.tenant_installer_id(actor)).values("pk")

        scoping.register_community_visibility(roles.INSTALLER, own_communities)
        scoping.register_community_visibility(roles.SUB_INSTALLER, own_communities)

        from . import plans  # noqa: F401  (registers the Premium plan's predicate)

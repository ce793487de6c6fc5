"""Row-level rules the device rules put on other apps' actions, as predicates of `smartplus.authz`
(registered from `DevicesConfig.ready()`, so the feature-plan rule lives here once)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from communities.models import Community
from smartplus import authz, roles

from .services import requires_indoor_monitor


@authz.register_predicate(
    "residents.apartment",
    roles.ADD,
    name="feature_plan_indoor_monitor",
    message=_(
        "This community's feature plan adds an indoor monitor with every APT, "
        "and adding devices is the installer's."
    ),
)
def feature_plan_indoor_monitor(actor, parent) -> bool:
    """Feature plan Basic (and 1Monitor_All): an APT is added together with its indoor monitor,
    so adding one needs the right to add devices. `parent` is the building (Add APT) or the
    community (the template import)."""
    if parent is None:
        return True
    community = parent if isinstance(parent, Community) else parent.community
    return not requires_indoor_monitor(community) or roles.allows(actor, "devices.device", roles.ADD)

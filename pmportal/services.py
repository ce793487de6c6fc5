"""The property manager's Premium controls: the one write of this app.

Installers and sub-installers of the community and the property managers assigned to it switch
them ("use_premium" on the community, smartplus.roles); the service refuses, whatever the caller,
while the community's feature plan is Basic or its Premium plan is not in force, and then changes
nothing. A switch reaches the devices it concerns as a queued AutoP command (they pull their
AutoP file, where `controls.autop_lines` renders the switch) and the SmartPlus app through
`GET /api/app/v1/community-settings`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from devices.maintenance import autop_refresh
from devices.models import Device
from smartplus import authz, roles

from .controls import BY_KEY, plan_refusal
from .models import PremiumControl

USE_PREMIUM = "use_premium"


@transaction.atomic
def premium_control_set(*, actor, community: Community, control: str, enabled: bool) -> PremiumControl:
    """Switch one of the five controls of `community`; queue an AutoP for the devices it reaches
    when the value changes (switching to the same value queues nothing)."""
    authz.require_role(actor, USE_PREMIUM, Community)
    # The community's row, locked: two switches of the same community serialise.
    community = authz.get_for_actor(Community, actor, community.pk, roles.VIEW, lock=True)
    reason = plan_refusal(community)
    if reason:
        raise PermissionDenied(reason)
    authz.authorize(actor, USE_PREMIUM, community)  # the plan predicate, and the scope again
    spec = BY_KEY.get(control)
    if spec is None:
        raise ValidationError({"control": [_("Unknown control.")]})
    row = PremiumControl.objects.filter(community=community).first() or PremiumControl(community=community)
    enabled = bool(enabled)
    if row.pk is not None and getattr(row, spec.key) == enabled:
        return row
    setattr(row, spec.key, enabled)
    row.save()
    if spec.devices is not None:
        ids = Device.objects.filter(spec.devices, community=community).values_list("pk", flat=True)
        autop_refresh(device_ids=list(ids), requested_by=actor)
    return row

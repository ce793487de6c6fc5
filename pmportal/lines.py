"""The Premium controls in a device's AutoP file (registered in devices.autop.line_providers)."""

from __future__ import annotations

from .controls import autop_lines
from .models import PremiumControl


def premium_autop_lines(device) -> list:
    """Nothing until someone switched a control of the device's community: the device keeps its
    own settings. One query."""
    row = PremiumControl.objects.filter(community_id=device.community_id).first()
    return autop_lines(device, row) if row is not None else []

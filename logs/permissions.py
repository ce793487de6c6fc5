"""Log Access Control on the logs' own models: residents' predicate, asked for these too.

"With Log Access Control enabled, the property manager can check door logs, call history, and
captured images." The rule lives once, in residents.permissions.log_access_control; this module
registers it for DoorEvent, CallEvent and CapturedImage (from LogsConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from residents.permissions import log_access_control
from smartplus import authz, roles

MESSAGE = _("Logs need the Log Access Control permission.")

for _label in ("logs.doorevent", "logs.callevent", "logs.capturedimage"):
    authz.register_predicate(_label, roles.VIEW, name="log_access_control", message=MESSAGE)(
        log_access_control
    )

"""Row-level rules on credentials, as predicates of `smartplus.authz` (registered from ready()).

The community's "Permission Of Access Control Management": under Only Public Area a property
manager creates, changes and deletes credentials for public devices only and sets no personal
authentication. The target is the community (a public credential), the apartment (a personal
one) or the credential itself.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from communities.choices import AccessControlPermission
from communities.models import Community
from smartplus import authz, roles

from .choices import CredentialScope
from .models import Credential

MESSAGE = _(
    "This community's Permission Of Access Control Management is Only Public Area: "
    "property managers set no personal credentials for the apartments' own devices."
)


def access_control_permission(actor, obj) -> bool:
    if obj is None or not roles.is_assigned(actor) or isinstance(obj, Community):
        return True
    if isinstance(obj, Credential) and obj.scope == CredentialScope.PUBLIC:
        return True
    setting = (
        Community.objects.filter(pk=obj.community_id)
        .values_list("access_control_permission", flat=True)
        .first()
    )
    return setting == AccessControlPermission.PUBLIC_AND_PRIVATE


for _action in (roles.ADD, roles.CHANGE, roles.DELETE):
    authz.register_predicate("access.credential", _action, name="access_control_permission", message=MESSAGE)(
        access_control_permission
    )

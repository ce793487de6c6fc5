"""Layout context owned by billing: whether the Subscriptions and Payments entries show.

Installers and sub-installers always have them; a property manager only while one of their
communities is paid by its property managers (Charge Mode "Pay By PM"), one EXISTS query.
"""

from __future__ import annotations

from communities.choices import ChargeMode
from communities.models import Community
from smartplus import roles
from smartplus.context_processors import once_per_request


@once_per_request
def billing(request) -> dict:
    actor = getattr(request, "actor", None)
    if actor is None or not actor.is_authenticated:
        return {}
    subscriptions = roles.allows(actor, "billing.order", roles.ADD)
    payments = roles.allows(actor, "billing.order", roles.VIEW)
    if roles.role_of(actor) == roles.PROPERTY_MANAGER and (subscriptions or payments):
        pays = Community.objects.for_actor(actor).filter(charge_mode=ChargeMode.PAY_BY_PM).exists()
        subscriptions = payments = pays
    return {"nav_subscriptions": subscriptions, "nav_payments": payments}

"""Whether a community's Premium feature plan is in force: the one rule, also a predicate of
`smartplus.authz` ("use_premium" on a community), so the features that need the plan ask it."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartplus import authz

from .choices import FeaturePlan
from .models import Community

PLAN_EXPIRED = _(
    "This community's Premium feature plan is not in force: activate or renew it in Subscriptions."
)


def premium_in_force(community: Community, at=None) -> bool:
    """Premium, paid, and not expired (the spec: "When the feature plan service expired,
    property managers will lose the above mentioned control")."""
    at = at or timezone.now()
    return (
        community.feature_plan == FeaturePlan.PREMIUM
        and community.plan_expires_at is not None
        and community.plan_expires_at > at
    )


@authz.register_predicate(
    "communities.community", "use_premium", name="premium_plan_in_force", message=PLAN_EXPIRED
)
def _premium_predicate(actor, community) -> bool:
    return community is not None and premium_in_force(community)

"""Layout context: role label, navigation switches, impersonation banner.

The framework knows no app: the community switcher comes from `communities.context_processors`.
"""

from __future__ import annotations

from django.conf import settings

from smartplus import roles


def once_per_request(build):
    """A context processor computed once per request: django-tables2 renders every
    TemplateColumn cell with the request's context processors, which would otherwise repeat
    their queries per row."""
    attribute = f"_context_{build.__module__}.{build.__qualname__}"

    def processor(request) -> dict:
        cached = getattr(request, attribute, None)
        if cached is None:
            cached = build(request)
            setattr(request, attribute, cached)
        return cached

    return processor


@once_per_request
def portal(request) -> dict:
    actor = getattr(request, "actor", None)
    if actor is None or not actor.is_authenticated:
        return {"support_links": settings.SMARTPLUS_SUPPORT_LINKS}
    return {
        "actor": actor,
        "real_user": request.real_user,
        "acting": request.real_user.pk != actor.pk,
        "role_label": roles.role_label(actor),
        "nav": {
            "dashboard": roles.allows(actor, "communities.community", "view"),
            "installers": roles.allows(actor, "accounts.installer", "view"),
            "audit_log": roles.allows(actor, "smartplus.auditlog", "view"),
            "coupons": roles.allows(actor, "billing.coupon", "redeem"),
            "billing_information": roles.allows(actor, "accounts.billinginformation", "change"),
            "customer_service": roles.allows(actor, "accounts.customerservice", "change"),
            "account_setting": roles.allows(actor, "accounts.accountaccess", "change")
            and actor.account_access_enabled
            and request.real_user.pk == actor.pk,
            "change_password": request.real_user.pk == actor.pk,
        },
        "home_automation_url": settings.SMARTPLUS_HOME_AUTOMATION_URL,
        "support_links": settings.SMARTPLUS_SUPPORT_LINKS,
        "password_reminder_due": request.session.get("password_reminder_due", False),
    }

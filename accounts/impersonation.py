"""Who may act as whom (django-hijack's permission hook), and ending an impersonation.

A distributor may act as one of its own installers only while the distributor has enabled
account access for it and the installer's "Permission Granted" is On. Nobody acts as a
superuser, a distributor never acts as another distributor's installer, and nobody chains.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model, login
from django.utils.translation import gettext_lazy as _
from hijack import signals as hijack_signals

from smartplus import authz, roles


@authz.register_predicate(
    "accounts.installer",
    "impersonate",
    name="account_access_granted",
    message=_("The installer has not granted account access."),
)
def account_access_granted(actor, installer) -> bool:
    """Enabled by the distributor and granted by the installer ("Permission Granted")."""
    return installer.is_active and installer.account_access_enabled and installer.permission_granted


def may_act_as(hijacker, target) -> bool:
    """Asked on every request while acting, so answered from the two rows, without a query: the
    same rule as `authz.can(hijacker, "impersonate", target, model=Installer)`."""
    if hijacker is None or target is None:
        return False
    return (
        hijacker.is_active
        # roles.py: only distributors may act as installers (a superuser's role is the super manager's).
        and roles.allows(hijacker, "accounts.installer", "impersonate")
        and roles.role_of(target) in roles.IMPERSONABLE_ROLES
        and target.distributor_id == hijacker.pk
        and account_access_granted(hijacker, target)
    )


def hijack_permission_check(*, hijacker, hijacked) -> bool:
    # `hijacker` is request.user: while acting it is the installer, whose role forbids chaining.
    if getattr(hijacker, "is_hijacked", False):
        return False
    return may_act_as(hijacker, hijacked)


def real_user_of(request):
    history = request.session.get("hijack_history") or []
    if not history:
        return None
    return get_user_model().objects.filter(pk=history[-1]).first()


def release(request, *, reason: str = "") -> None:
    """Return to the real login, as hijack's release view does, and record why."""
    history = list(request.session.get("hijack_history") or [])
    hijacked = request.user
    hijacker = get_user_model().objects.filter(pk=history.pop()).first() if history else None
    if hijacker is None:
        request.session.flush()
        return
    backend = request.session.get(BACKEND_SESSION_KEY, settings.AUTHENTICATION_BACKENDS[0])
    with hijack_signals.no_update_last_login():
        login(request, hijacker, backend=backend)
    request.session["hijack_history"] = history
    hijack_signals.hijack_ended.send(
        sender=None, request=request, hijacker=hijacker, hijacked=hijacked, reason=reason
    )

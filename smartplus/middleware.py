"""Sets `request.actor` and fills the audit context for the request.

`request.actor` is `request.user` (under django-hijack, the installer being acted as);
`request.real_user`, the person logged in, is set earlier by
`accounts.middleware.ImpersonationMiddleware`, which also ends an acting whose grant was revoked.

Each request is one audit change set: everything it writes reads as one change in the log.
"""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from . import audit
from .audit import AuditContext, audit_context
from .http import client_address

# Credential and second-factor pages belong to the person, never to someone acting as them.
BLOCKED_WHILE_ACTING = {"account_change_password", "account_set_password", "account_email"}


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.actor = user
        # Without accounts.middleware.ImpersonationMiddleware the login is the actor.
        if getattr(request, "real_user", None) is None:
            request.real_user = user

        token = audit_context.set(
            AuditContext(
                user_id=request.real_user.pk,
                user_name=request.real_user.get_username() if user.is_authenticated else "",
                actor_id=request.actor.pk,
                actor_name=request.actor.get_username() if user.is_authenticated else "",
                remote_addr=client_address(request),
            )
            if user.is_authenticated
            else None
        )
        change_set = audit.start_change_set()
        tz = getattr(request.actor, "time_zone", "") if user.is_authenticated else ""
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz)) if tz else timezone.deactivate()
        except zoneinfo.ZoneInfoNotFoundError:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            audit.end_change_set(change_set)
            audit_context.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        acting = getattr(request, "real_user", None) is not None and request.real_user.pk != request.actor.pk
        match = request.resolver_match
        personal = (
            match
            and not match.namespace
            and (match.url_name in BLOCKED_WHILE_ACTING or (match.url_name or "").startswith("mfa_"))
        )
        if acting and personal:
            raise PermissionDenied
        return None

"""Resolves `request.actor` and `request.real_user`, and fills the audit context for the request.

Each request is one audit change set: everything it writes reads as one change in the log.

Under django-hijack, `request.user` is the installer being acted as; the real login is the last
entry of the session's hijack history. A grant that was revoked ends the acting on this request.
"""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone

from . import audit
from .audit import AuditContext, audit_context

# Credential and second-factor pages belong to the person, never to someone acting as them.
BLOCKED_WHILE_ACTING = {"account_change_password", "account_set_password", "account_email"}


class ActorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from accounts import impersonation

        user = request.user
        request.actor = user
        request.real_user = user
        if user.is_authenticated and request.session.get("hijack_history"):
            real = impersonation.real_user_of(request)
            if real is None or not impersonation.may_act_as(real, user):
                impersonation.release(request, reason="permission revoked")
                messages.warning(
                    request, "The installer withdrew the permission; you are back in your account."
                )
                return redirect("home")
            request.real_user = real

        token = audit_context.set(
            AuditContext(
                user_id=request.real_user.pk,
                user_name=request.real_user.get_username() if user.is_authenticated else "",
                actor_id=request.actor.pk,
                actor_name=request.actor.get_username() if user.is_authenticated else "",
                remote_addr=request.META.get("REMOTE_ADDR"),
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

"""Receivers: audit of impersonation start/end, and the PM monthly password reminder at login."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from hijack.signals import hijack_ended, hijack_started

from smartplus import audit
from smartplus.http import client_address

from . import services


@receiver(hijack_started, dispatch_uid="audit-hijack-started")
def _impersonation_started(sender, request, hijacker, hijacked, **kwargs):
    audit.record_as(
        user=hijacker,
        actor=hijacked,
        action="impersonation_start",
        instance=hijacked,
        installer_id=hijacked.pk,
        remote_addr=client_address(request),
    )


@receiver(hijack_ended, dispatch_uid="audit-hijack-ended")
def _impersonation_ended(sender, request, hijacker, hijacked, reason="", **kwargs):
    audit.record_as(
        user=hijacker,
        actor=hijacked,
        action="impersonation_end",
        instance=hijacked,
        installer_id=hijacked.pk,
        remote_addr=client_address(request),
        changes={"reason": [None, reason or "returned to own account"]},
    )


@receiver(user_logged_in, dispatch_uid="pm-password-reminder")
def _password_reminder(sender, request, user, **kwargs):
    if request is not None and services.password_reminder_due(user=user):
        request.session["password_reminder_due"] = True

"""Resolves `request.real_user` under an impersonation, before `smartplus.middleware.ActorMiddleware`.

Under django-hijack, `request.user` is the installer being acted as; the real login is the last
entry of the session's hijack history. A grant that was revoked ends the acting on this request.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext

from . import impersonation


class ImpersonationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.real_user = user
        if user.is_authenticated and request.session.get("hijack_history"):
            real = impersonation.real_user_of(request)
            if real is None or not impersonation.may_act_as(real, user):
                impersonation.release(request, reason="permission revoked")
                messages.warning(
                    request, gettext("The installer withdrew the permission; you are back in your account.")
                )
                return redirect("home")
            request.real_user = real
        return self.get_response(request)

"""The super manager's Django admin, signed in through the portal's own login.

The admin's stock login form authenticates with the password alone: it would skip two-factor
authentication and the login rate limits that allauth applies. So the admin has no login form
of its own: its login sends to the portal's (`LOGIN_URL`, allauth with MFA) and back with
`?next=`, and its logout to the portal's.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache


class PortalAdminSite(admin.AdminSite):
    site_header = "SmartPlus super manager"
    site_title = "SmartPlus portal"

    def _next(self, request) -> str:
        target = request.GET.get(REDIRECT_FIELD_NAME, "")
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return target
        return reverse("admin:index", current_app=self.name)

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        from django.contrib.auth.views import redirect_to_login  # loads models: not at app loading

        if request.user.is_authenticated:
            if self.has_permission(request):
                return HttpResponseRedirect(self._next(request))
            # Signed in without admin rights: sending to the portal's login would bounce back.
            raise PermissionDenied
        return redirect_to_login(self._next(request), settings.LOGIN_URL)

    @method_decorator(never_cache)
    def logout(self, request, extra_context=None):
        # 307 keeps the method: the admin's POST (with its CSRF token) logs out at the portal's
        # logout; a GET gets the portal's confirmation.
        return HttpResponseRedirect(reverse("account_logout"), preserve_request=True)


class PortalAdminConfig(AdminConfig):
    default_site = "smartplus.admin_site.PortalAdminSite"

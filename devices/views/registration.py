"""First contact in the portal: a device's pending registrations (Adopt, Reject) and the
installer's provisioning code (docs/device-api.md, "First contact")."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smartplus import roles
from smartplus.views import generic

from .. import services
from ..models import ProvisioningCode, RegistrationRequest


class RegistrationActionMixin(generic.ObjectMixin, generic.PortalView):
    """POST on one pending registration of a device the actor may change (else 404)."""

    model = RegistrationRequest
    http_method_names = ["post"]

    def get_object(self):
        return get_object_or_404(self.get_queryset().select_related("device"), pk=self.kwargs["pk"])

    def post(self, request, *args, **kwargs):
        registration = self.get_object()
        with transaction.atomic():
            self.perform(registration)
        detail = reverse("devices:device_detail", args=[registration.device_id])
        return generic.redirect_after(request, generic.safe_next(request, detail))


class RegistrationAdoptView(RegistrationActionMixin):
    action = roles.CHANGE
    title = _("Adopt")

    def perform(self, registration):
        services.registration_adopt(actor=self.request.actor, registration_request=registration)
        name = registration.device.name
        if registration.source_address:
            message = gettext(
                "%(name)s adopted: the device from %(source)s gets its secret on its next try."
            ) % {"name": name, "source": registration.source_address}
        else:
            message = gettext(
                "%(name)s adopted: the device from an unknown address gets its secret on its next try."
            ) % {"name": name}
        messages.success(self.request, message)


class RegistrationRejectView(RegistrationActionMixin):
    action = roles.DELETE
    title = _("Reject")

    def perform(self, registration):
        services.registration_reject(actor=self.request.actor, registration_request=registration)
        messages.success(self.request, gettext("Registration request rejected."))


class ProvisioningCodeView(generic.PortalView):
    """The server settings an installer puts on devices: the portal's address and the code."""

    model = ProvisioningCode
    title = _("Device Provisioning")

    def get(self, request, *args, **kwargs):
        context = {
            "code": services.provisioning_code(actor=request.actor),
            "server_url": settings.SMARTPLUS_BASE_URL.rstrip("/"),
            "can_regenerate": roles.allows(request.actor, ProvisioningCode, roles.CHANGE),
        }
        return self.render("devices/provisioning_code.html", context)


class ProvisioningCodeRegenerateView(generic.PortalView):
    model = ProvisioningCode
    action = roles.CHANGE
    http_method_names = ["post"]
    title = _("Device Provisioning")

    def post(self, request, *args, **kwargs):
        services.provisioning_code_regenerate(actor=request.actor)
        messages.success(
            request,
            gettext(
                "New provisioning code made: devices set up with the old one are no longer adopted at once."
            ),
        )
        return generic.redirect_after(request, reverse("devices:provisioningcode_detail"))

"""Remote maintenance of one device, the spec's Settings dialog: Connection Type and AutoP commands,
Reboot, Reset, One-Time AutoP, Remote Control, and the relay to the device's web interface.

The rules are `devices.maintenance`'s; each view calls one of its functions.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.encoding import escape_uri_path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from smartplus import roles
from smartplus.views import generic

from .. import lan, maintenance, selectors
from ..maintenance_forms import DeviceSettingsForm, OneTimeAutopForm
from ..models import Device, DeviceCommand

# The device's pages run in an opaque origin: their scripts cannot read the portal's cookies or
# pages, nor act in the portal as the user. Device pages are not trusted (a device reports its
# own address, and whoever holds the device controls what it serves).
RELAY_CSP = (
    "sandbox allow-forms allow-scripts allow-popups allow-modals allow-downloads; frame-ancestors 'none'"
)


def _detail_url(device: Device) -> str:
    return reverse("devices:device_detail", args=[device.pk])


class MaintenanceMixin:
    """Remote maintenance needs Device CHANGE and DeviceCommand ADD (roles.py); the device comes
    from the actor's CHANGE scope, so another tenant's device is a 404."""

    model = Device
    action = roles.CHANGE

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not roles.allows(request.actor, DeviceCommand, roles.ADD):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_action(self) -> str:
        return roles.CHANGE

    def get_object(self):
        return get_object_or_404(self.get_queryset().select_related("mac_address"), pk=self.kwargs["pk"])

    def back_url(self, device: Device) -> str:
        return generic.safe_next(self.request, _detail_url(device))

    def get_breadcrumbs(self):
        device = self.object
        return [(device.name, _detail_url(device)), (self.title, None)]


# --- the Settings dialog and Once AutoP ----------------------------------------------------------


class DeviceSettingsView(MaintenanceMixin, generic.ObjectEditView):
    """Settings: Connection Type and the "Others" AutoP commands; Submit queues an AutoP."""

    form_class = DeviceSettingsForm
    template_name = "devices/settings.html"
    modal_template_name = "devices/settings_modal.html"
    title = _("Settings")
    success_message = _("Settings of {object.name} saved; the device will apply them on its next connection.")

    def save(self, form):
        return maintenance.device_settings_update(
            actor=self.request.actor,
            device=self.object,
            transport=form.cleaned_data["transport"],
            autop_commands=form.cleaned_data["autop_commands"],
        )

    def get_success_url(self, obj):
        return self.back_url(obj)

    def get_extra_context(self) -> dict:
        return {
            "cancel_url": self.back_url(self.object),
            # Shown under the buttons; Remote Control still answers with the same reason.
            "remote_control_refusal": maintenance.remote_control_refusal(self.object),
        }


class DeviceOneTimeAutopView(MaintenanceMixin, generic.ObjectEditView):
    """Once AutoP: commands served once in the device's AutoP file."""

    form_class = OneTimeAutopForm
    template_name = "devices/settings_one_time_autop.html"
    modal_template_name = "devices/settings_one_time_autop_modal.html"
    title = _("Once AutoP")
    success_message = _(
        "One-Time AutoP for {object.name} queued; the device will apply it once, on its next connection."
    )

    def get_form_kwargs(self) -> dict:
        return {"actor": self.request.actor}

    def save(self, form):
        maintenance.device_one_time_autop(
            actor=self.request.actor, device=self.object, commands=form.cleaned_data["commands"]
        )
        return self.object

    def get_success_url(self, obj):
        return self.back_url(obj)


# --- Reboot, Reset, Remote Control ----------------------------------------------------------------


class DeviceRebootView(MaintenanceMixin, generic.ObjectMixin, generic.PortalView):
    http_method_names = ["post"]
    title = _("Reboot")

    def post(self, request, *args, **kwargs):
        device = self.get_object()
        with transaction.atomic():
            maintenance.device_reboot(actor=request.actor, device=device)
        messages.success(
            request,
            gettext("Reboot of %(name)s queued; the device will restart on its next connection.")
            % {"name": device.name},
        )
        return generic.redirect_after(request, self.back_url(device))


class DeviceResetView(MaintenanceMixin, generic.ObjectMixin, generic.PortalView):
    """GET: what a factory reset does, and a confirmation. POST: queue it."""

    title = _("Reset")

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        modal = getattr(request, "htmx", False)
        template = "devices/settings_reset_modal.html" if modal else "devices/settings_reset.html"
        context = {
            "object": self.object,
            "form_action": request.get_full_path(),
            "next": generic.safe_next(request, ""),
            "cancel_url": self.back_url(self.object),
        }
        return self.render(template, context)

    def post(self, request, *args, **kwargs):
        device = self.get_object()
        with transaction.atomic():
            maintenance.device_reset(actor=request.actor, device=device)
        messages.success(
            request,
            gettext(
                "Factory reset of %(name)s queued; the device will erase its settings on its next "
                "connection, restart and register again."
            )
            % {"name": device.name},
        )
        return generic.redirect_after(request, self.back_url(device))


class DeviceRemoteControlView(MaintenanceMixin, generic.ObjectMixin, generic.PortalView):
    """Open the device's web interface through the relay, or say why it cannot be opened now."""

    http_method_names = ["post"]
    title = _("Remote Control")

    def post(self, request, *args, **kwargs):
        device = self.get_object()
        try:
            # Bound to the person at the keyboard: while a distributor acts as an installer, the
            # link is the distributor's, not the installer's.
            token = maintenance.remote_control_token(
                actor=request.actor, user=request.real_user, device=device
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return generic.redirect_after(request, self.back_url(device))
        return generic.redirect_after(request, reverse("devices:device_remote", args=[token]))


# --- the relay ------------------------------------------------------------------------------------


@method_decorator(csrf_exempt, name="dispatch")  # checked in `relay`, after the body is read
class DeviceRemoteView(generic.PortalView):
    """The device's web interface, one request at a time, for the user who opened the link.

    The token is checked on every request, and so is the actor's right to maintain the device
    (a link outlives neither the end of acting as an installer nor the loss of the community).
    Only the status, Content-Type and body of the device's reply are passed on: no cookies, no
    Location (redirects are never followed), nothing rewritten.
    """

    model = DeviceCommand
    action = roles.ADD
    title = _("Remote Control")
    http_method_names = ["get", "post"]

    def get(self, request, token: str, path: str = ""):
        return self.relay(request, token, path)

    def post(self, request, token: str, path: str = ""):
        return self.relay(request, token, path)

    def relay(self, request, token: str, path: str) -> HttpResponse:
        body = b""
        if request.method == "POST":
            # Read the raw body before the CSRF check parses a multipart form, which consumes it.
            body = request.body
            rejected = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if rejected is not None:
                return rejected
        try:
            device = maintenance.remote_control_device(token=token, user=request.real_user)
        except ValidationError as exc:
            return self.refused(" ".join(exc.messages), status=403)
        if not selectors.device_detail(actor=request.actor, pk=device.pk, action=roles.CHANGE).exists():
            return self.refused(gettext("You may no longer maintain this device."), status=403)
        target = "/" + escape_uri_path(path)
        if request.META.get("QUERY_STRING"):
            target += "?" + request.META["QUERY_STRING"]
        try:
            reply = maintenance.relay(
                device=device,
                method=request.method,
                path=target,
                body=body,
                content_type=request.META.get("CONTENT_TYPE", ""),
            )
        except lan.NotAllowed as exc:
            return self.refused(str(exc), status=403, device=device)
        except lan.DeviceUnreachable as exc:
            return self.refused(str(exc), status=502, device=device)
        if not 200 <= reply.status <= 599:
            return self.refused(
                gettext("The device answered with status %(status)s.") % {"status": reply.status},
                status=502,
                device=device,
            )
        return self._response(reply)

    def _response(self, reply: lan.Reply) -> HttpResponse:
        content_type = next((v for k, v in reversed(reply.headers) if k.lower() == "content-type"), "")
        if not content_type or any(c in content_type for c in "\r\n"):
            content_type = "application/octet-stream"  # with nosniff: never guessed to be HTML
        response = HttpResponse(reply.body, status=reply.status, content_type=content_type)
        response["Content-Security-Policy"] = RELAY_CSP
        response["X-Frame-Options"] = "DENY"
        response["X-Content-Type-Options"] = "nosniff"
        # The token is in the path: links on the device's pages must not carry it elsewhere.
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        return response

    def refused(self, reason: str, *, status: int, device: Device | None = None):
        context = {"reason": reason, "device": device}
        return self.render("devices/remote_control_refused.html", context, status=status)

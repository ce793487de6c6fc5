"""The firmware download a device fetches from the signed link of its upgrade command.

A device-API view (JSON errors, no session) that lives with the firmware it serves: devices sits
below firmware and does not know it.
"""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET

from devices.api import device_api
from devices.fleet import Refused

from . import links
from .models import Firmware


@device_api
@require_GET
def firmware_download(request, token: str):
    """The signed link of an upgrade command: the token is the credential (it expires)."""
    firmware_id = links.firmware_id_for(token)
    firmware = Firmware.objects.filter(pk=firmware_id).first() if firmware_id else None
    if firmware is None:
        raise Refused(403, "bad_link", "This firmware link is expired or not valid.")
    if firmware.url:
        return HttpResponseRedirect(firmware.url)
    name = f"{firmware.version}.rom"
    return _serve(firmware.file, name)


def _serve(file, name: str):
    """The .rom without holding a worker for the whole download (docs/deploy.md, "Firmware files").

    SMARTPLUS_FIRMWARE_ACCEL_REDIRECT (a path prefix the reverse proxy maps to MEDIA_ROOT, marked
    internal): X-Accel-Redirect, the proxy sends the file. SMARTPLUS_FIRMWARE_STORAGE_REDIRECT: a
    redirect to the storage's own URL (object storage signs it with its expiry). Otherwise the
    file streams from the storage in blocks (FileResponse)."""
    disposition = f'attachment; filename="{name}"'
    prefix = settings.SMARTPLUS_FIRMWARE_ACCEL_REDIRECT
    if prefix:
        response = HttpResponse(content_type="application/octet-stream")
        response["X-Accel-Redirect"] = f"{prefix.rstrip('/')}/{file.name}"
        response["Content-Disposition"] = disposition
        return response
    if settings.SMARTPLUS_FIRMWARE_STORAGE_REDIRECT:
        return HttpResponseRedirect(file.url)
    return FileResponse(
        file.open("rb"), as_attachment=True, filename=name, content_type="application/octet-stream"
    )

"""A device's side of the device API, for tests: register, heartbeat, report results."""

from __future__ import annotations

import base64
import json
import secrets
from urllib.parse import urlsplit

from django.test import Client


class FakeDevice:
    """Drives the real API through Django's test client, as the simulator does over HTTP."""

    def __init__(self, mac: str, firmware_version: str = "29.30.2.14", client: Client | None = None):
        self.mac, self.firmware_version = mac, firmware_version
        self.client = client or Client()
        self.secret = ""
        self.claim_token = secrets.token_urlsafe(24)  # made at first boot, kept in flash

    def installer_code(self) -> str:
        """The provisioning code of the installer owning the device bound to this MAC, as an
        installer sets it on the devices they install ("" when the MAC is not bound)."""
        from devices import services
        from devices.models import Device

        device = (
            Device.objects.filter(mac_address__mac=self.mac).select_related("community__installer").first()
        )
        return services.provisioning_code(actor=device.community.installer) if device else ""

    def auth(self, secret: str | None = None, mac: str | None = None) -> dict:
        token = base64.b64encode(
            f"{mac or self.mac}:{secret if secret is not None else self.secret}".encode()
        )
        return {"HTTP_AUTHORIZATION": f"Basic {token.decode()}"}

    def post(self, path: str, data: dict, **auth):
        return self.client.post(path, json.dumps(data), content_type="application/json", **auth)

    def register(self, *, configure: bool = True, code: str | None = None, **extra):
        """First contact (with the owning installer's provisioning code unless `code` says
        otherwise); then, as a device does at boot, collect and apply the AutoP command the portal
        queues for a new (or factory-reset) device."""
        body = {
            "mac": self.mac,
            "firmware_version": self.firmware_version,
            "claim_token": self.claim_token,
            "provisioning_code": self.installer_code() if code is None else code,
            **extra,
        }
        response = self.post("/device-api/v1/register", body)
        if response.status_code == 201:
            self.secret = response.json()["secret"]
            if configure:
                # A door of a community with credentials is also queued its user list.
                [command] = [c for c in self.commands() if c["kind"] == "autop"]
                self.config = self.client.get(urlsplit(command["url"]).path, **self.auth()).content.decode()
                self.result(command["id"], "done")
        return response

    def heartbeat(self, lan_address: str = "127.77.0.1", lan_port: int = 8480, **auth):
        body = {"firmware_version": self.firmware_version, "lan_address": lan_address, "lan_port": lan_port}
        return self.post("/device-api/v1/heartbeat", body, **(auth or self.auth()))

    def commands(self) -> list[dict]:
        response = self.heartbeat()
        assert response.status_code == 200, response.content
        return response.json()["commands"]

    def result(self, command_id: int, status: str = "done", message: str = "", **extra):
        body = {"status": status, "message": message, **extra}
        return self.post(f"/device-api/v1/commands/{command_id}/result", body, **self.auth())

    def autop(self, mac: str | None = None, **auth):
        return self.client.get(f"/autop/{mac or self.mac}.cfg", **(auth or self.auth()))

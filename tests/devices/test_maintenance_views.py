"""Remote maintenance through the test client: the Settings dialog and its buttons, the device
page's Remote Maintenance list, and the Remote Control relay against a real HTTP server.

The rules are `devices.maintenance`'s (tested there); here each is driven through its view: the
service's message must land at the right field or as a notice, nothing may be saved on an error,
and each role must see and do only what it may.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from devices.choices import CommandKind, CommandStatus, Transport
from devices.models import Device, DeviceCommand
from tests.querycounts import get_captured

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
GOOD_AUTOP = "Config.Settings.GENERAL.DisplayName = Gate\nConfig.Settings.GENERAL.DisplayName = Gate\n"


# Every remote maintenance URL that changes something when posted.
POST_ACTIONS = (
    "device_settings",
    "device_reboot",
    "device_reset",
    "device_one_time_autop",
    "device_remote_control",
)


def url(name: str, device: Device) -> str:
    return reverse(f"devices:{name}", args=[device.pk])


def notices(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def commands(device: Device, kind: str | None = None):
    qs = DeviceCommand.objects.filter(device=device)
    return qs.filter(kind=kind) if kind else qs


def reachable(device: Device, *, address: str = "127.0.0.1", seen=None) -> None:
    """As a heartbeat records it: online, with the address its heartbeats came from (the portal
    dials it on SMARTPLUS_DEVICE_LAN_PORT, which `web_interface` points at its server)."""
    Device.objects.filter(pk=device.pk).update(lan_address=address, last_seen_at=seen or timezone.now())


@pytest.fixture
def installer(client, world):
    client.force_login(world.installer_a)
    return client


# --- the Settings dialog ---------------------------------------------------------------------------


def test_settings_dialog_shows_the_specs_fields_and_buttons(installer, world):
    response = installer.get(url("device_settings", world.device_a) + "?next=/elsewhere/", **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Connection Type" in page and "Others" in page
    for testid in (
        "settings-transport",
        "settings-autop",
        "settings-reboot",
        "settings-reset",
        "settings-remote-control",
        "settings-one-time-autop",
        "settings-cancel",
        "settings-submit",
    ):
        assert f'data-testid="{testid}"' in page, testid
    # The spec's order of the buttons.
    labels = ["Reboot", "Reset", "Remote Control", "One-Time AutoP", "Cancel", "Submit"]
    positions = [page.index(f'data-testid="settings-{t}"') for t in ("reboot", "reset", "remote-control")]
    assert positions == sorted(positions) and all(label in page for label in labels)
    assert 'name="next" value="/elsewhere/"' in page
    # The device is offline: the dialog says why Remote Control will refuse.
    assert "The device is offline" in page


def test_settings_submit_saves_and_queues_one_autop(installer, world):
    device = world.device_a
    data = {"transport": str(Transport.TLS.value), "autop_commands": GOOD_AUTOP, "next": "/back/here/"}
    response = installer.post(url("device_settings", device), data)
    assert response.status_code == 302 and response["Location"] == "/back/here/"
    assert notices(response) == [
        "Settings of Alpha Gate saved; the device will apply them on its next connection."
    ]
    device.refresh_from_db()
    assert device.transport == Transport.TLS
    # Stored normalised: the exact duplicate is dropped.
    assert device.autop_commands == "Config.Settings.GENERAL.DisplayName = Gate"
    queued = commands(device).get()
    assert (queued.kind, queued.status, queued.requested_by) == (
        CommandKind.AUTOP,
        CommandStatus.QUEUED,
        world.installer_a,
    )


def test_settings_submit_from_the_modal_redirects_through_htmx(installer, world):
    data = {"transport": str(Transport.UDP.value), "autop_commands": ""}
    response = installer.post(url("device_settings", world.device_a), data, **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == url("device_detail", world.device_a)


def test_settings_bad_autop_line_is_shown_at_the_field_and_nothing_is_saved(installer, world):
    device = world.device_a
    bad = "Config.Settings.GENERAL.DisplayName = Gate\nnot a command\n"
    response = installer.post(
        url("device_settings", device), {"transport": "2", "autop_commands": bad}, **HTMX
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-field-error="autop_commands"' in page
    error = page.split('data-field-error="autop_commands"', 1)[1]
    assert "Line 2:" in error and "not a command" in error
    # The box keeps what was typed.
    assert re.search(r"not a command\s*</textarea>", page)
    device.refresh_from_db()
    assert (device.transport, device.autop_commands) == (Transport.TCP, "")
    assert not commands(device).exists()
    # Without htmx the page answers 422 with the same error.
    plain = installer.post(url("device_settings", device), {"transport": "2", "autop_commands": bad})
    assert plain.status_code == 422 and "Line 2:" in plain.content.decode()


def test_settings_without_htmx_is_a_page(installer, world):
    response = installer.get(url("device_settings", world.device_a))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" in page and 'data-testid="settings-submit"' in page


# --- Reboot, Reset, One-Time AutoP -------------------------------------------------------------------


def test_reboot_twice_queues_one_reboot(installer, world):
    device = world.device_a
    first = installer.post(url("device_reboot", device))
    second = installer.post(url("device_reboot", device), **HTMX)
    assert first.status_code == 302 and first["Location"] == url("device_detail", device)
    assert second.status_code == 204
    assert commands(device, CommandKind.REBOOT).count() == 1
    assert "Reboot of Alpha Gate queued" in notices(first)[0]
    assert installer.get(url("device_reboot", device)).status_code == 405


def test_reset_asks_first_and_queues_only_on_confirmation(installer, world):
    device = world.device_a
    response = installer.get(url("device_reset", device), **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "factory settings" in page and "is erased" in page and "registers with the portal again" in page
    assert 'data-testid="reset-confirm"' in page
    assert not commands(device).exists()

    response = installer.post(url("device_reset", device), {"next": "/list/"})
    assert response.status_code == 302 and response["Location"] == "/list/"
    assert commands(device, CommandKind.RESET).count() == 1
    assert "Factory reset of Alpha Gate queued" in notices(response)[0]


def test_one_time_autop_queues_the_commands_once(installer, world):
    device = world.device_a
    response = installer.get(url("device_one_time_autop", device), **HTMX)
    page = response.content.decode()
    assert response.status_code == 200 and "Once AutoP" in page
    assert 'data-testid="one-time-autop-commands"' in page and 'data-testid="one-time-autop-submit"' in page

    line = "Config.Network.LAN.DHCP = 1"
    response = installer.post(url("device_one_time_autop", device), {"commands": line})
    assert response.status_code == 302
    queued = commands(device).get()
    assert queued.kind == CommandKind.ONE_TIME_AUTOP and queued.payload == {"commands": line}
    device.refresh_from_db()
    assert device.autop_commands == ""  # the standing "Others" commands are untouched


def test_one_time_autop_errors_are_at_the_field(installer, world):
    device = world.device_a
    empty = installer.post(url("device_one_time_autop", device), {"commands": ""}, **HTMX)
    assert "Enter at least one command." in empty.content.decode()
    bad = installer.post(url("device_one_time_autop", device), {"commands": "\n\nbad"}, **HTMX)
    error = bad.content.decode().split('data-field-error="commands"', 1)[1]
    assert "Line 3:" in error
    assert not commands(device).exists()


# --- who may ----------------------------------------------------------------------------------------


def test_property_manager_sees_the_operations_but_may_not_act(client, world):
    device = world.device_a
    DeviceCommand.objects.create(
        device=device,
        kind=CommandKind.REBOOT,
        status=CommandStatus.FAILED,
        message="Busy in a call",
        requested_by=world.installer_a,
        finished_at=timezone.now(),
    )
    client.force_login(world.pm_a)
    page = client.get(url("device_detail", device)).content.decode()
    assert 'data-testid="remote-maintenance"' in page
    assert page.count('data-testid="command-row"') == 1
    assert ">Failed</span>" in page and "Busy in a call" in page
    assert url("device_settings", device) not in page
    lists = client.get(reverse("devices:public_devices", args=[world.community_a.pk])).content.decode()
    assert "Settings of Alpha Gate" not in lists
    for name in ("device_settings", "device_reset", "device_one_time_autop"):
        assert client.get(url(name, device)).status_code == 403, name
    for name in POST_ACTIONS:
        assert client.post(url(name, device), {"commands": "Config.A.B.C = 1"}).status_code == 403, name
    assert commands(device).count() == 1


def test_other_installer_gets_404_and_changes_nothing(client, world):
    device = world.device_a
    client.force_login(world.installer_b)
    for name in ("device_settings", "device_reset", "device_one_time_autop"):
        assert client.get(url(name, device)).status_code == 404, name
    data = {"transport": "2", "autop_commands": GOOD_AUTOP, "commands": GOOD_AUTOP}
    for name in POST_ACTIONS:
        assert client.post(url(name, device), data).status_code == 404, name
    device.refresh_from_db()
    assert device.transport == Transport.TCP and not commands(device).exists()


def test_settings_action_is_on_every_device_list_for_the_installer(installer, world):
    from tests.factories import make_device

    make_device(world.community_a, "Block Gate", building=world.building_a)
    make_device(world.community_a, "Flat Monitor", building=world.building_a, apartment=world.apartment_a)
    for page_url, name in (
        (reverse("devices:community_devices", args=[world.community_a.pk]), "Alpha Gate"),
        (reverse("devices:public_devices", args=[world.community_a.pk]), "Alpha Gate"),
        (reverse("devices:building_devices", args=[world.building_a.pk]), "Block Gate"),
        (reverse("residents:apartment_detail", args=[world.apartment_a.pk]), "Flat Monitor"),
    ):
        page = installer.get(page_url).content.decode()
        assert f'aria-label="Settings of {name}"' in page, page_url
        assert 'data-testid="device-settings"' in page, page_url


# --- the device page -----------------------------------------------------------------------------------


def test_device_page_lists_operations_and_current_settings(installer, world):
    device = world.device_a
    Device.objects.filter(pk=device.pk).update(
        transport=Transport.UDP, autop_commands="Config.Settings.GENERAL.DisplayName = Gate"
    )
    now = timezone.now()
    for kind, status in (
        (CommandKind.AUTOP, CommandStatus.DONE),
        (CommandKind.REBOOT, CommandStatus.DELIVERED),
        (CommandKind.RESET, CommandStatus.CANCELLED),
        (CommandKind.ONE_TIME_AUTOP, CommandStatus.QUEUED),
    ):
        DeviceCommand.objects.create(
            device=device,
            kind=kind,
            status=status,
            requested_by=world.installer_a,
            finished_at=now if status == CommandStatus.DONE else None,
        )
    page = installer.get(url("device_detail", device)).content.decode()
    assert 'data-testid="device-settings"' in page and 'aria-label="Settings of Alpha Gate"' in page
    section = page.split('data-testid="remote-maintenance"', 1)[1]
    assert 'data-testid="device-transport">UDP<' in section
    assert "Config.Settings.GENERAL.DisplayName = Gate" in section
    assert section.count('data-testid="command-row"') == 4
    for label in ("Done", "Delivered", "Cancelled", "Queued"):
        assert f'data-testid="command-status">{label}</span>' in section, label
    assert "One-Time AutoP" in section and world.installer_a.display_name in section


def test_device_page_query_count_does_not_grow_with_operations(installer, world):
    device = world.device_a
    _, before = get_captured(installer, url("device_detail", device))
    DeviceCommand.objects.bulk_create(
        DeviceCommand(device=device, kind=CommandKind.REBOOT, requested_by=world.sub_a) for _ in range(15)
    )
    _, after = get_captured(installer, url("device_detail", device))
    assert len(after) == len(before)


# --- Remote Control and the relay ------------------------------------------------------------------------


class FakeWebInterface(BaseHTTPRequestHandler):
    """A device's web interface: a page, an echo of what is posted, and a redirect."""

    seen: list[tuple[str, str, bytes]] = []

    def log_message(self, *args):
        pass

    def _reply(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8", **headers):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Set-Cookie", "device_session=abc; Path=/")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.seen.append(("GET", self.path, b""))
        if self.path.startswith("/login"):
            return self._reply(302, b"", Location="/home")
        if self.path.startswith("/missing"):
            return self._reply(404, b"no such page", "text/plain")
        return self._reply(200, b"<h1>Akuvox R29</h1><a href='status'>Status</a>")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(("POST", self.path, body))
        self._reply(200, b'{"echo": ' + body + b"}", "application/json")


@pytest.fixture
def web_interface(settings):
    FakeWebInterface.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWebInterface)
    settings.SMARTPLUS_DEVICE_LAN_PORT = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def lan(settings):
    settings.SMARTPLUS_DEVICE_NETWORKS = ["127.0.0.0/8"]
    return settings


def open_remote(client, device) -> str:
    response = client.post(url("device_remote_control", device))
    assert response.status_code == 302, response
    location = response["Location"]
    assert location.startswith("/devices/remote/") and location.endswith("/"), location
    return location


def test_remote_control_is_refused_while_the_device_is_offline(installer, world, lan):
    device = world.device_a
    reachable(device, seen=timezone.now() - timedelta(days=1))
    response = installer.post(url("device_remote_control", device), {"next": "/list/"})
    assert response.status_code == 302 and response["Location"] == "/list/"
    assert notices(response) == ["The device is offline: Remote Control needs a device that is online."]
    followed = installer.post(url("device_remote_control", device), follow=True)
    assert "Remote Control needs a device that is online" in followed.content.decode()


def test_remote_control_is_refused_outside_the_device_networks(installer, world, settings):
    settings.SMARTPLUS_DEVICE_NETWORKS = ["10.0.0.0/8"]
    device = world.device_a
    reachable(device, address="192.168.1.20")
    response = installer.post(url("device_remote_control", device))
    assert response.status_code == 302 and response["Location"] == url("device_detail", device)
    assert notices(response) == [
        "The device's LAN address 192.168.1.20 is outside the networks the portal may reach."
    ]


def test_relay_passes_the_device_page_through(installer, world, lan, web_interface):
    device = world.device_a
    reachable(device)
    remote = open_remote(installer, device)

    page = installer.get(remote)
    assert page.status_code == 200
    assert page.content == b"<h1>Akuvox R29</h1><a href='status'>Status</a>"
    assert page["Content-Type"] == "text/html; charset=utf-8"
    # Nothing of the device's but status, type and body; its page cannot act in the portal.
    assert "device_session" not in str(page.cookies) and "Set-Cookie" not in page
    assert page["Content-Security-Policy"].startswith("sandbox ")
    assert "allow-same-origin" not in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY" and page["Referrer-Policy"] == "no-referrer"

    deeper = installer.get(remote + "cgi/status page?tab=2&x=%2F")
    assert deeper.status_code == 200
    assert FakeWebInterface.seen[-1] == ("GET", "/cgi/status%20page?tab=2&x=%2F", b"")

    posted = installer.post(remote + "api/save", b"a=1&b=2", content_type="application/x-www-form-urlencoded")
    assert posted.status_code == 200 and posted["Content-Type"] == "application/json"
    assert posted.content == b'{"echo": a=1&b=2}'
    assert FakeWebInterface.seen[-1] == ("POST", "/api/save", b"a=1&b=2")


def test_relay_passes_statuses_through_and_never_follows_redirects(installer, world, lan, web_interface):
    device = world.device_a
    reachable(device)
    remote = open_remote(installer, device)
    redirect = installer.get(remote + "login")
    assert redirect.status_code == 302 and "Location" not in redirect
    assert [p for _, p, _ in FakeWebInterface.seen] == ["/login"]
    missing = installer.get(remote + "missing")
    assert missing.status_code == 404 and missing.content == b"no such page"


def test_relay_says_so_when_the_device_does_not_answer(installer, world, lan, web_interface):
    device = world.device_a
    reachable(device)
    remote = open_remote(installer, device)
    web_interface.shutdown()
    web_interface.server_close()
    response = installer.get(remote)
    assert response.status_code == 502
    assert "did not answer" in response.content.decode()


def test_relay_rechecks_the_device_on_every_request(installer, world, lan, web_interface):
    device = world.device_a
    reachable(device)
    remote = open_remote(installer, device)
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - timedelta(days=1))
    response = installer.get(remote)
    assert response.status_code == 403
    assert "The device is offline" in response.content.decode()
    assert FakeWebInterface.seen == []


def test_relay_refuses_another_users_link(client, world, lan, web_interface):
    device = world.device_a
    reachable(device)
    owner = Client()
    owner.force_login(world.installer_a)
    remote = open_remote(owner, device)

    client.force_login(world.sub_a)  # same tenant, same rights: still not their link
    response = client.get(remote)
    assert response.status_code == 403
    assert "opened by another user" in response.content.decode()
    assert client.post(remote + "api/save", {"a": "1"}).status_code == 403

    anonymous = Client().get(remote)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert FakeWebInterface.seen == []


def test_relay_refuses_an_altered_link(installer, world, lan, web_interface):
    device = world.device_a
    reachable(device)
    remote = open_remote(installer, device)
    response = installer.get(remote.replace("/remote/", "/remote/x"))
    assert response.status_code == 403 and "not valid" in response.content.decode()


def test_relay_post_needs_the_csrf_token(world, lan, web_interface):
    device = world.device_a
    reachable(device)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.installer_a)
    client.get(url("device_settings", device))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(url("device_remote_control", device), HTTP_X_CSRFTOKEN=token)
    remote = response["Location"]
    assert client.post(remote + "api/save", b"a=1", content_type="text/plain").status_code == 403
    assert FakeWebInterface.seen == []
    ok = client.post(remote + "api/save", {"a": "1"}, HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200
    # A multipart form reaches the device whole, after the CSRF check has read it.
    method, path, body = FakeWebInterface.seen[-1]
    assert (method, path) == ("POST", "/api/save") and b'name="a"' in body


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_reboot_queues_one_reboot():
    """Two requests at once (a double click): the device row's lock lets one of them queue."""
    from django.db import connection

    from tests.factories import build_world

    world = build_world()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def click() -> None:
        client = Client()
        client.force_login(world.installer_a)
        try:
            barrier.wait()
            statuses.append(client.post(url("device_reboot", world.device_a)).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert statuses == [302, 302]
    assert commands(world.device_a, CommandKind.REBOOT).count() == 1

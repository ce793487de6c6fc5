"""First contact: it cannot be taken over, a lost reply recovers, and the installer adopts.

The attacker knows a bound MAC (it is printed on the box) but neither the installer's
provisioning code nor the claim token the real device made at first boot.
"""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse

from devices import maintenance, services
from devices.choices import DeviceStatus
from devices.models import Device, RegistrationRequest
from smartplus.authz import NotFound
from tests.devices.deviceapi import FakeDevice
from tests.factories import make_mac

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world):
    # Relay DTMF codes are what an attacker would read in the AutoP file.
    world.device_a.relays.update(dtmf_code="1234")
    return world


def test_an_attacker_knowing_a_bound_mac_gets_neither_its_secret_nor_its_autop_file(world):
    mac = world.device_a.mac_address.mac
    attacker = FakeDevice(mac)
    for code in (
        "",
        "guessed-code-guessed-code",
        FakeDevice(world.device_b.mac_address.mac).installer_code(),
    ):
        reply = attacker.register(code=code)
        assert reply.status_code == 202 and "secret" not in reply.json()
    for secret in ("", "guess", "0" * 64):
        assert attacker.heartbeat(**attacker.auth(secret=secret)).status_code == 401
        assert attacker.autop(**attacker.auth(secret=secret)).status_code == 401
    # The real device, set up with the installer's code, gets in; the attacker still does not.
    real = FakeDevice(mac)
    assert real.register().status_code == 201
    assert "1234" in real.config
    assert attacker.register(code="").status_code == 202
    # Nor with the installer's own code once the device holds its secret: no takeover by the code.
    assert attacker.register().status_code == 202
    assert real.heartbeat().status_code == 200
    # The closed claim's token gets nothing either: a sniffed register body is worth nothing now.
    replay = FakeDevice(mac)
    replay.claim_token = real.claim_token
    assert replay.register(configure=False).status_code == 202


def test_a_lost_register_reply_recovers_when_the_device_asks_again(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    first = device.register(configure=False)  # the reply is lost on the way
    assert first.status_code == 201
    again = device.register(configure=False)
    assert again.status_code == 201
    assert again.json()["secret"] == first.json()["secret"]
    assert device.heartbeat().status_code == 200
    # The portal's Reset reaches it (it could not before: a lost reply meant 409 for ever).
    reset = maintenance.device_reset(actor=world.installer_a, device=world.device_a)
    assert {"id": reset.pk, "kind": "reset"} in device.commands()


def test_a_factory_reset_devices_lost_reply_recovers_too(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    reset = maintenance.device_reset(actor=world.installer_a, device=world.device_a)
    assert {c["id"] for c in device.commands()} == {reset.pk}
    device.result(reset.pk, "done")
    device.claim_token = "claim-made-after-the-factory-reset"
    lost = device.register(configure=False)
    assert lost.status_code == 201
    assert device.register(configure=False).json()["secret"] == lost.json()["secret"]
    assert device.heartbeat().status_code == 200


def test_a_pending_device_adopted_on_its_page_gets_in_with_the_same_request(world):
    device = FakeDevice(world.device_a.mac_address.mac, "29.30.2.20")
    assert device.register(code="", model="R29").status_code == 202
    assert device.register(code="", model="R29").status_code == 202
    client = Client()
    client.force_login(world.installer_a)
    page = client.get(reverse("devices:device_detail", args=[world.device_a.pk])).content.decode()
    assert 'data-testid="registration-request"' in page
    assert "29.30.2.20" in page and "127.0.0.1" in page and "Waiting for first contact" in page
    [request] = RegistrationRequest.objects.filter(device=world.device_a)
    assert (request.attempts, request.model, request.source_address) == (2, "R29", "127.0.0.1")
    response = client.post(reverse("devices:registrationrequest_adopt", args=[request.pk]))
    assert response.status_code == 302
    assert device.register().status_code == 201
    assert device.heartbeat().status_code == 200
    assert Device.objects.get(pk=world.device_a.pk).registration_state == "registered"
    assert not RegistrationRequest.objects.exists()


def test_a_rejected_request_is_gone_and_gets_no_secret(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register(code="")
    request = RegistrationRequest.objects.get()
    services.registration_reject(actor=world.installer_a, registration_request=request)
    assert not RegistrationRequest.objects.exists()
    assert device.register(code="").status_code == 202


def test_another_installer_cannot_adopt_or_reject_a_request(world):
    FakeDevice(world.device_a.mac_address.mac).register(code="")
    request = RegistrationRequest.objects.get()
    with pytest.raises(NotFound):
        services.registration_adopt(actor=world.installer_b, registration_request=request)
    with pytest.raises(NotFound):
        services.registration_reject(actor=world.installer_b, registration_request=request)
    assert Device.objects.get(pk=world.device_a.pk).registration_state == "open"


def test_adopting_another_request_replaces_a_registered_devices_secret(world):
    old = FakeDevice(world.device_a.mac_address.mac)
    old.register()
    replacement = FakeDevice(world.device_a.mac_address.mac)
    assert replacement.register(code="").status_code == 202
    services.registration_adopt(
        actor=world.installer_a, registration_request=RegistrationRequest.objects.get()
    )
    assert replacement.register().status_code == 201
    assert old.heartbeat().status_code == 401


def test_only_the_most_recent_requests_of_a_device_are_kept(world):
    for _ in range(RegistrationRequest.MAX_PER_DEVICE + 3):
        FakeDevice(world.device_a.mac_address.mac).register(code="")
    assert RegistrationRequest.objects.count() == RegistrationRequest.MAX_PER_DEVICE


def test_a_regenerated_provisioning_code_no_longer_adopts(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    old_code = device.installer_code()
    new_code = services.provisioning_code_regenerate(actor=world.installer_a)
    assert new_code != old_code
    assert services.provisioning_code(actor=world.sub_a) == new_code  # the tenant's one code
    assert device.register(code=old_code).status_code == 202
    assert device.register(code=new_code).status_code == 201


def test_a_device_that_never_heartbeated_is_not_online(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    assert device.register(configure=False).status_code == 201
    stored = Device.objects.get(pk=world.device_a.pk)
    assert stored.last_seen_at is None and stored.status == DeviceStatus.OFFLINE
    client = Client()
    client.force_login(world.installer_a)
    listing = client.get(reverse("devices:community_devices", args=[world.community_a.pk])).content.decode()
    assert ">Offline</span>" in listing and ">Online</span>" not in listing
    device.heartbeat()
    assert Device.objects.get(pk=world.device_a.pk).status == DeviceStatus.ONLINE


def test_first_contacts_without_a_secret_are_rate_limited_per_address_and_per_mac(world, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "device_register": "4/m/ip,2/m/key"}
    unknown = [FakeDevice(f"0C11FFFFFF{i:02X}") for i in range(4)]
    # Per MAC: the third try of one MAC is refused.
    assert [unknown[0].register().status_code for _ in range(3)] == [202, 202, 429]
    reply = unknown[0].register()
    assert reply.json()["error"] == "rate_limited" and reply["Retry-After"]
    # Per address: two more MACs use up the address's four.
    assert [d.register().status_code for d in unknown[1:4]] == [202, 202, 429]
    # Behind a declared proxy, another client address has its own budget.
    settings.SMARTPLUS_TRUSTED_PROXIES = 1
    elsewhere = FakeDevice("0C11FFFFFFAA")
    response = elsewhere.client.post(
        "/device-api/v1/register",
        '{"mac": "0C11FFFFFFAA", "claim_token": "claim-token-of-another-client"}',
        content_type="application/json",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert response.status_code == 202


def test_a_mac_with_separators_authenticates_as_it_does_elsewhere(world):
    device = FakeDevice(world.device_a.mac_address.mac)
    device.register()
    mac = world.device_a.mac_address.mac
    for written in (
        ":".join(mac[i : i + 2] for i in range(0, 12, 2)),
        "-".join(mac[i : i + 2] for i in range(0, 12, 2)),
    ):
        assert device.heartbeat(**device.auth(mac=written.lower())).status_code == 200


def test_provisioning_codes_are_encrypted_and_rotated_with_the_field_keys(world, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from devices.models import ProvisioningCode

    code = services.provisioning_code(actor=world.installer_a)
    stored = ProvisioningCode.objects.get(installer=world.installer_a)
    assert code not in stored.code_ciphertext and code not in stored.code_hash
    settings.SMARTPLUS_FIELD_KEYS = [Fernet.generate_key().decode(), *settings.SMARTPLUS_FIELD_KEYS]
    call_command("rotate_field_keys", stdout=io.StringIO())
    settings.SMARTPLUS_FIELD_KEYS = settings.SMARTPLUS_FIELD_KEYS[:1]  # the old key dropped
    assert services.provisioning_code(actor=world.installer_a) == code


def test_giving_a_device_another_mac_opens_its_registration(world):
    old = FakeDevice(world.device_a.mac_address.mac)
    old.register()
    new = make_mac(world.installer_a)
    services.device_update(
        actor=world.installer_a,
        device=world.device_a,
        mac=new.mac,
        fields={"device_type": world.device_a.device_type, "name": world.device_a.name},
        relays=[{"enabled": True, "name": "Door", "dtmf_code": "1234", "access_methods": []}],
    )
    stored = Device.objects.get(pk=world.device_a.pk)
    assert stored.registration_state == "open" and stored.status == DeviceStatus.OFFLINE
    assert old.heartbeat().status_code == 401
    assert old.heartbeat(**old.auth(mac=new.mac)).status_code == 401
    assert FakeDevice(new.mac).register().status_code == 201

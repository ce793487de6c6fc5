"""Camera passwords stay secret: at rest, in every page, in the audit log, and across key rotation.

Several cameras with distinct passwords are made through the services in every kind of place.
No password may appear in a `pg_dump` or `dumpdata` of the database (their ciphertexts must, or
the check would prove nothing), in any page that shows cameras, or in the audit log; rotating
SMARTPLUS_FIELD_KEYS re-encrypts everything with the new key and keeps every password readable.
"""

from __future__ import annotations

import io
import json
import os
import subprocess

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from devices import services
from devices.models import ThirdPartyCamera
from smartplus import crypto
from smartplus.models import AuditLog
from tests.factories import build_world, make_camera, make_device

HTMX = {"HTTP_HX_REQUEST": "true"}
R29 = "29.30.2.14"


def seed():
    """The fixture world plus cameras in each place and tenant; returns (world, {camera pk: password})."""
    w = build_world()
    block_door = make_device(w.community_a, "Block Door", building=w.building_a, firmware_version=R29)
    cams = {
        w.camera_a: "cam-secret-1",
        make_camera(w.community_a, "Lobby Cam", password="Lobby-pw-7f3a9Q"): "Lobby-pw-7f3a9Q",
        make_camera(
            w.community_a,
            "Block Cam",
            building=w.building_a,
            password="Bl0ck#pw-92kx",
            linked_devices=[block_door],
        ): "Bl0ck#pw-92kx",
        make_camera(
            w.community_a, "Apt Cam", apartment=w.apartment_a, password="apt pw ünï 42"
        ): "apt pw ünï 42",
        make_camera(w.community_a2, "Towers Cam", password="t0wers'pw\"<x>"): "t0wers'pw\"<x>",
        make_camera(
            w.community_b, "Bravo Cam", building=w.building_b, password="bravo-pw-x1y2"
        ): "bravo-pw-x1y2",
    }
    # An edit that changes the password, and one that keeps it, both through the service.
    services.camera_update(actor=w.installer_a, camera=w.camera_a, fields={"name": "Alpha Cam"}, password="")
    lobby = next(c for c in cams if c.name == "Lobby Cam")
    services.camera_update(
        actor=w.installer_a, camera=lobby, fields={"username": "root"}, password="Lobby-pw-8g4b0R"
    )
    cams[lobby] = "Lobby-pw-8g4b0R"
    return w, {c.pk: pw for c, pw in cams.items()}


def secrets_of(passwords: dict[int, str]) -> list[str]:
    """Every form a password could take in a text: as typed, JSON-escaped, HTML-escaped."""
    forms = set()
    for pw in [*passwords.values(), "Lobby-pw-7f3a9Q"]:  # the replaced one too
        forms |= {pw, json.dumps(pw)[1:-1], json.dumps(pw, ensure_ascii=False)[1:-1]}
        forms.add(pw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))
        forms.add(pw.replace("'", "&#x27;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))
    return sorted(forms)


def ciphertexts() -> list[str]:
    return list(ThirdPartyCamera.objects.order_by("pk").values_list("password_ciphertext", flat=True))


def assert_no_secret(text: str, passwords: dict[int, str], where: str) -> None:
    leaked = [s for s in secrets_of(passwords) if s in text]
    assert not leaked, f"{where} shows a camera password: {leaked}"


# --- 1. at rest: the database dump and dumpdata ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_pg_dump_and_dumpdata_hold_ciphertexts_and_no_password():
    _, passwords = seed()
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    command = ["pg_dump", "--no-owner", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432)]
    command += ["-U", db["USER"], "-d", db["NAME"]]
    dump = subprocess.run(command, env=env, capture_output=True, check=True, timeout=120).stdout.decode()
    stored = ciphertexts()
    assert len(stored) == len(passwords)
    assert all(token in dump for token in stored), (
        "the dump must hold the ciphertexts (else it proves nothing)"
    )
    assert_no_secret(dump, passwords, "pg_dump")

    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    data = out.getvalue()
    assert all(token in data for token in stored)
    assert "Lobby Cam" in data
    assert_no_secret(data, passwords, "dumpdata")


# --- 2. pages -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_page_shows_a_camera_password_or_its_ciphertext(client):
    w, passwords = seed()
    stored = ciphertexts()
    cameras = list(ThirdPartyCamera.objects.filter(community__installer=w.installer_a).order_by("pk"))
    pages: list[tuple[str, bytes]] = []

    def get(url, **extra):
        response = client.get(url, **extra)
        assert response.status_code == 200, url
        pages.append((url, response.content))
        return response

    client.force_login(w.installer_a)
    get(reverse("devices:public_cameras", args=[w.community_a.pk]))
    get(reverse("devices:public_cameras", args=[w.community_a2.pk]))
    get(reverse("devices:building_cameras", args=[w.building_a.pk]))
    get(reverse("residents:apartment_detail", args=[w.apartment_a.pk]))
    for camera in cameras:
        edit = reverse("devices:camera_edit", args=[camera.pk])
        response = get(edit)
        assert 'name="password"' in response.content.decode()
        get(edit, **HTMX)
        get(reverse("devices:camera_delete", args=[camera.pk]), **HTMX)
    get(reverse("auditlog_list"))

    # A form error: neither the stored password nor the one just typed comes back.
    edit = reverse("devices:camera_edit", args=[w.camera_a.pk])
    bad = {
        "name": "Alpha Cam",
        "rtsp_address": "rtsp://nope",
        "username": "admin",
        "password": "typed-pw-Zz9",
    }
    for extra in ({}, HTMX):
        response = client.post(edit, bad, **extra)
        assert response.status_code in (200, 422)
        assert "rtsp_address" in response.context["form"].errors
        pages.append((f"POST {edit}", response.content))
    add = reverse("devices:public_camera_add", args=[w.community_a.pk])
    response = client.post(add, {**bad, "name": ""})
    assert response.status_code == 422
    pages.append((f"POST {add}", response.content))
    passwords = {**passwords, 0: "typed-pw-Zz9"}

    # The property manager's view of the same lists.
    client.force_login(w.pm_a)
    get(reverse("devices:public_cameras", args=[w.community_a.pk]))
    get(reverse("devices:building_cameras", args=[w.building_a.pk]))
    get(reverse("residents:apartment_detail", args=[w.apartment_a.pk]))

    # The super manager's admin: camera list and each camera, the audit log and its camera rows.
    client.force_login(w.superuser)
    get(reverse("admin:devices_thirdpartycamera_changelist"))
    for camera in ThirdPartyCamera.objects.order_by("pk"):
        response = get(reverse("admin:devices_thirdpartycamera_change", args=[camera.pk]))
        assert camera.name in response.content.decode()
    get(reverse("admin:smartplus_auditlog_changelist"))
    for row in AuditLog.objects.filter(object_type__model="thirdpartycamera"):
        get(reverse("admin:smartplus_auditlog_change", args=[row.pk]))

    assert len(pages) > 20
    for url, content in pages:
        text = content.decode()
        assert_no_secret(text, passwords, url)
        assert not [t for t in stored if t in text], f"{url} shows a ciphertext"


# --- 3. the audit log -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_rows_never_hold_a_password_or_ciphertext(client):
    w, passwords = seed()
    # Through the portal too: the request's audit context, a new password typed in the dialog.
    client.force_login(w.installer_a)
    response = client.post(
        reverse("devices:camera_edit", args=[w.camera_a.pk]),
        {
            "name": "Alpha Cam 2",
            "rtsp_address": "rtsp://192.168.1.20:554",
            "username": "admin",
            "password": "via-ui-pw-5",
        },
    )
    assert response.status_code == 302
    passwords = {**passwords, w.camera_a.pk: "via-ui-pw-5"}
    rows = list(AuditLog.objects.filter(object_type__model="thirdpartycamera"))
    assert {r.action for r in rows} >= {"create", "update"}
    assert any("name" in r.changes for r in rows)
    stored = ciphertexts()
    for row in AuditLog.objects.all():
        text = json.dumps(row.changes, ensure_ascii=False) + row.object_repr
        assert_no_secret(text, passwords, f"audit row {row.pk}")
        assert "password_ciphertext" not in row.changes
        assert not [t for t in stored if t in text]


# --- 4. key rotation --------------------------------------------------------------------------------


def _readable(passwords: dict[int, str]) -> bool:
    return all(services.camera_password(c) == passwords[c.pk] for c in ThirdPartyCamera.objects.all())


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_new_key_and_every_password_still_reads():
    _, passwords = seed()
    old = settings.SMARTPLUS_FIELD_KEYS[0]
    new = Fernet.generate_key().decode()
    before = ciphertexts()
    audit_rows = AuditLog.objects.count()

    with override_settings(SMARTPLUS_FIELD_KEYS=[new, old]):
        assert _readable(passwords)
        assert not any(crypto.is_current(t) for t in before)
        out = io.StringIO()
        call_command("rotate_field_keys", "--batch-size", "2", stdout=out)
        assert f"Re-encrypted {len(passwords)} camera password(s)" in out.getvalue()
        rotated = ciphertexts()
        assert all(crypto.is_current(t) for t in rotated)
        assert not set(rotated) & set(before)
        assert _readable(passwords)

        out = io.StringIO()
        call_command("rotate_field_keys", stdout=out)
        assert "Re-encrypted 0 camera password(s)" in out.getvalue()
        assert ciphertexts() == rotated

    with override_settings(SMARTPLUS_FIELD_KEYS=[new]):
        assert _readable(passwords)
    with override_settings(SMARTPLUS_FIELD_KEYS=[old]):
        # The old key alone opens nothing any more: the rotation really changed every row.
        for camera in ThirdPartyCamera.objects.all():
            with pytest.raises(crypto.UndecryptableError):
                services.camera_password(camera)
    assert AuditLog.objects.count() == audit_rows


@pytest.mark.django_db
def test_rotation_leaves_secrets_already_under_the_first_key_alone():
    _, passwords = seed()
    old = settings.SMARTPLUS_FIELD_KEYS[0]
    new = Fernet.generate_key().decode()
    with override_settings(SMARTPLUS_FIELD_KEYS=[new, old]):
        w_cam = ThirdPartyCamera.objects.get(name="Lobby Cam")
        services.camera_update(
            actor=w_cam.community.installer, camera=w_cam, fields={}, password="fresh-pw-6"
        )
        passwords[w_cam.pk] = "fresh-pw-6"
        fresh = ThirdPartyCamera.objects.get(pk=w_cam.pk).password_ciphertext
        assert crypto.is_current(fresh)
        out = io.StringIO()
        call_command("rotate_field_keys", stdout=out)
        assert f"Re-encrypted {len(passwords) - 1} camera password(s)" in out.getvalue()
        assert ThirdPartyCamera.objects.get(pk=w_cam.pk).password_ciphertext == fresh
        assert _readable(passwords)


@pytest.mark.django_db
def test_rotation_without_the_old_key_fails_loudly_and_changes_nothing():
    seed()
    before = ciphertexts()
    with (
        override_settings(SMARTPLUS_FIELD_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(CommandError, match="No key in SMARTPLUS_FIELD_KEYS opens this secret"),
    ):
        call_command("rotate_field_keys", stdout=io.StringIO())
    assert ciphertexts() == before

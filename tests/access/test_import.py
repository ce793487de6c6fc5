"""The credentials template import: upload → preview → confirm writes every row through
access.services.credential_bulk_create (the single-row rules), or nothing and the bad rows."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from access import importing as credential_importing
from access import services
from access.models import Credential, CredentialImport, DeviceUsers
from communities.choices import AccessControlPermission, PinMode
from communities.models import Community
from devices.choices import CommandKind, CommandStatus
from devices.models import DeviceCommand
from smartplus.authz import NotFound
from smartplus.importing import ImportRejected
from smartplus.models import ImportStatus
from tests.factories import build_world, make_apartment, make_device
from tests.maclib.workbooks import XLSX, xlsx

pytestmark = pytest.mark.django_db

HEADER = list(credential_importing.COLUMNS)


def upload(rows: list[list[object]]) -> SimpleUploadedFile:
    return SimpleUploadedFile("credentials.xlsx", xlsx([HEADER, *rows]), content_type=XLSX)


def users_commands(device):
    return DeviceCommand.objects.filter(device=device, kind=CommandKind.USERS, status=CommandStatus.QUEUED)


@pytest.fixture
def w():
    w = build_world()
    w.building_door = make_device(w.community_a, "Alpha Block Door", building=w.building_a)
    return w


def good_rows():
    return [
        ["101", "Lily Zheng", "PIN", "246810", "2026-01-01 08:00", None, None],
        ["101", "jim  wang", "RF Card", "0a1b2c3d", None, "2030-12-31", "Public"],
        ["101", "Jim Wang", "PIN", 13579, None, None, None],
    ]


def test_a_good_file_creates_the_credentials_and_queues_each_door_once(client, w):
    client.force_login(w.pm_a)
    url = reverse("access:credential_import", args=[w.community_a.pk])
    response = client.post(url, {"file": upload(good_rows())})
    assert response.status_code == 302
    job = CredentialImport.objects.get()
    assert (job.status, job.errors) == (ImportStatus.READY, [])
    assert job.summary[0][1]["create"] == 3 and not Credential.objects.exists()
    page = client.get(reverse("access:credentialimport_detail", args=[job.pk])).content.decode()
    assert "APT 101 · Lily Zheng" in page
    client.post(reverse("access:credentialimport_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.errors
    stored = {
        (c.resident.display_name, c.kind, c.code) for c in Credential.objects.select_related("resident")
    }
    assert stored == {
        ("Lily Zheng", "pin", "246810"),
        ("Jim Wang", "rf_card", "0A1B2C3D"),
        ("Jim Wang", "pin", "13579"),
    }
    lily = Credential.objects.get(code="246810")
    assert lily.valid_from.isoformat().startswith("2026-01-01T08:00") and lily.created_by == w.pm_a
    for door in (w.device_a, w.building_door):
        assert DeviceUsers.objects.get(device=door).version_wanted == 1
        assert users_commands(door).count() == 1
        assert len(services.device_users_payload(device_id=door.pk)["users"]) == 3


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row_and_column(client, w):
    services.credential_create(
        actor=w.installer_a, resident_id=w.resident_a.pk, fields={"kind": "pin", "code": "999999"}
    )
    client.force_login(w.installer_a)
    rows = [*good_rows(), ["101", "Lily Zheng", "PIN", "999999", None, None, None]]  # row 5: taken
    client.post(reverse("access:credential_import", args=[w.community_a.pk]), {"file": upload(rows)})
    job = CredentialImport.objects.get()
    assert job.status == ImportStatus.REJECTED
    assert [(row, column) for row, column, _ in job.errors] == [(5, "Code")]
    assert "PIN Mode: PIN" in job.errors[0][2]
    assert Credential.objects.count() == 1
    assert DeviceUsers.objects.get(device=w.building_door).version_wanted == 1  # the stored PIN's only


def test_every_rule_of_a_single_add_is_told_at_its_row_and_column(w):
    Community.objects.filter(pk=w.community_a.pk).update(
        access_control_permission=AccessControlPermission.PUBLIC_ONLY
    )
    w.community_a.refresh_from_db()
    rows = [
        (2, {"apartment": "101", "resident": "Lily Zheng", "kind": "pin", "code": "12"}),
        (3, {"apartment": "999", "resident": "Lily Zheng", "kind": "pin", "code": "1234"}),
        (4, {"apartment": "101", "resident": "Nobody", "kind": "pin", "code": "1234"}),
        (5, {"apartment": "101", "resident": "Lily Zheng", "kind": "face", "code": "1234"}),
        (
            6,
            {"apartment": "101", "resident": "Lily Zheng", "kind": "pin", "code": "4321", "scope": "private"},
        ),
        (7, {"apartment": "101", "resident": "Lily Zheng", "kind": "pin", "code": "5555"}),
        (8, {"apartment": "101", "resident": "Jim Wang", "kind": "pin", "code": "5555"}),
    ]
    with pytest.raises(ImportRejected) as caught:
        services.credential_bulk_create(actor=w.pm_a, community=w.community_a, rows=rows)
    assert [(e.row, e.column) for e in caught.value.rows] == [
        (2, "Code"),
        (3, "APT"),
        (4, "Name"),
        (5, "Type"),
        (6, "Devices"),
        (8, "Code"),
    ]
    assert "Row 7" in caught.value.rows[-1].reason
    assert not Credential.objects.exists() and not DeviceUsers.objects.exists()
    # APT+PIN: the same PIN in two apartments is fine, twice in one is not.
    Community.objects.filter(pk=w.community_a.pk).update(pin_mode=PinMode.APT_PIN)
    w.community_a.refresh_from_db()
    other = make_apartment(w.building_a, "102", resident={"first_name": "Ann", "last_name": "Lee"})
    made = services.credential_bulk_create(
        actor=w.installer_a,
        community=w.community_a,
        rows=[
            (2, {"apartment": "101", "resident": "Lily Zheng", "kind": "pin", "code": "5555"}),
            (3, {"apartment": other.number, "resident": "Ann Lee", "kind": "pin", "code": "5555"}),
        ],
    )
    assert len(made) == 2


def test_another_installers_community_is_refused(client, w):
    rows = [(2, {"apartment": "101", "resident": "Lily Zheng", "kind": "pin", "code": "1234"})]
    for actor in (w.installer_b, w.pm_b, w.pm_nothing):
        with pytest.raises(NotFound):
            services.credential_bulk_create(actor=actor, community=w.community_a, rows=rows)
    client.force_login(w.installer_b)
    url = reverse("access:credential_import", args=[w.community_a.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"file": upload(good_rows())}).status_code == 404
    assert not CredentialImport.objects.exists() and not Credential.objects.exists()


def _rows(building, count: int, start: int) -> list[tuple[int, dict]]:
    rows = []
    for i in range(start, start + count):
        number = str(400 + i)
        make_apartment(building, number, resident={"first_name": f"R{i}", "last_name": "Test"})
        rows.append(
            (i + 2, {"apartment": number, "resident": f"R{i} Test", "kind": "pin", "code": f"{7000 + i}"})
        )
    return rows


def test_the_queries_do_not_grow_with_the_rows(w):
    # A first import creates the doors' version rows and commands: the two measured ones find them.
    warm, few, many = _rows(w.building_a, 1, 0), _rows(w.building_a, 3, 1), _rows(w.building_a, 30, 4)
    services.credential_bulk_create(actor=w.installer_a, community=w.community_a, rows=warm)
    counts = []
    for rows in (few, many):
        with CaptureQueriesContext(connection) as queries:
            services.credential_bulk_create(actor=w.installer_a, community=w.community_a, rows=rows)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Credential.objects.count() == 34
    assert users_commands(w.device_a).count() == 1


def test_the_template_downloads_from_the_credentials_page_and_names_its_columns(client, w):
    client.force_login(w.pm_a)
    page = client.get(reverse("access:community_credentials", args=[w.community_a.pk])).content.decode()
    assert reverse("access:credential_import", args=[w.community_a.pk]) in page
    dialog = client.get(reverse("access:credential_import", args=[w.community_a.pk])).content.decode()
    assert reverse("access:credential_template") in dialog
    response = client.get(reverse("access:credential_template"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]] == HEADER

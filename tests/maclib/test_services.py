"""Rules of maclib.services: the MAC's form, one library per MAC, who adds where, the atomic import
and the refusal to remove a bound MAC.

Each test states one rule and fails when the rule is taken out of the service (or the validator
it calls).
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from devices.services import device_delete
from maclib import services
from maclib.models import MacAddress
from maclib.services import ImportRejected, RowError, installers_for, mac_add, mac_delete, mac_import
from smartplus.models import AuditLog
from tests.factories import InstallerFactory, make_device, make_mac, next_mac

pytestmark = pytest.mark.django_db


def field_errors(exc: ValidationError, field: str = "mac") -> list[str]:
    return exc.message_dict[field]


def library(installer) -> set[str]:
    return set(MacAddress.objects.filter(installer=installer).values_list("mac", flat=True))


# --- the MAC's form ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "0C11050893CA",
        "0c11050893ca",
        "0C:11:05:08:93:CA",
        "0c:11:05:08:93:ca",
        "0C-11-05-08-93-CA",
        "0c-11-05:08:93-Ca",
        "  0C:11:05:08:93:CA  ",
    ],
)
def test_a_mac_typed_with_or_without_separators_is_stored_upper_case_without_them(world, typed):
    entry = mac_add(actor=world.installer_a, installer=world.installer_a, mac=typed)
    entry.refresh_from_db()
    assert entry.mac == "0C11050893CA"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0C11050893C", "12 hex digits"),  # 11 digits
        ("0C11050893CAB", "12 hex digits"),  # 13 digits
        ("0C:11:05:08:93", "12 hex digits"),
        ("0C110508930G", "12 hex digits"),  # not hex
        ("0C 11 05 08 93 CA", "12 hex digits"),  # spaces are not separators
        ("", "Enter the device MAC"),
        ("   ", "Enter the device MAC"),
        ("00:00:00:00:00:00", "reserved address"),
        ("ff-ff-ff-ff-ff-ff", "reserved address"),
    ],
)
def test_an_invalid_mac_is_refused_at_the_field_and_nothing_is_stored(world, typed, message):
    before = MacAddress.objects.count()
    with pytest.raises(ValidationError) as exc:
        mac_add(actor=world.installer_a, installer=world.installer_a, mac=typed)
    assert message in " ".join(field_errors(exc.value))
    assert MacAddress.objects.count() == before


# --- one library per MAC -----------------------------------------------------------------------


def test_installer_b_cannot_add_a_mac_of_installer_a_and_is_not_told_whose_it_is(world):
    free_a = make_mac(world.installer_a, "0C1105AA0001")
    for typed in ("0C1105AA0001", "0c:11:05:aa:00:01", world.mac_a.mac):
        with pytest.raises(ValidationError) as exc:
            mac_add(actor=world.installer_b, installer=world.installer_b, mac=typed)
        (message,) = field_errors(exc.value)
        assert message.endswith("cannot be added: it is already registered in a MAC library.")
        for owner_hint in ("inst_a", "Alpha", "this MAC library", "Public"):
            assert owner_hint not in message
    assert MacAddress.objects.get(mac=free_a.mac).installer == world.installer_a
    assert library(world.installer_b) == {world.mac_b.mac}


def test_a_mac_already_in_the_same_library_says_so(world):
    make_mac(world.installer_a, "0C1105AA0002")
    with pytest.raises(ValidationError) as exc:
        mac_add(actor=world.sub_a, installer=world.installer_a, mac="0c-11-05-aa-00-02")
    assert field_errors(exc.value) == ["0C1105AA0002 is already in this MAC library."]
    assert MacAddress.objects.filter(mac="0C1105AA0002").count() == 1


# --- who adds to which library -----------------------------------------------------------------


def test_a_sub_installer_adds_to_its_installers_library(world):
    entry = mac_add(actor=world.sub_a, installer=world.installer_a, mac="0C1105AA0003")
    assert entry.installer == world.installer_a
    assert entry.added_by == world.sub_a
    assert list(installers_for(world.sub_a)) == [world.installer_a]


def test_an_installer_or_sub_installer_cannot_add_to_another_installers_library(world):
    for actor in (world.installer_a, world.sub_a):
        with pytest.raises(Http404):
            mac_add(actor=actor, installer=world.installer_b, mac=next_mac())
    assert library(world.installer_b) == {world.mac_b.mac}


def test_a_distributor_adds_for_its_own_installer(world):
    other_of_a = InstallerFactory(username="inst_a2", distributor=world.distributor_a)
    assert list(installers_for(world.distributor_a)) == [world.installer_a, other_of_a]
    entry = mac_add(actor=world.distributor_a, installer=other_of_a, mac="0C1105AA0004")
    assert (entry.installer, entry.added_by) == (other_of_a, world.distributor_a)


def test_a_distributor_cannot_add_for_another_distributors_installer(world):
    assert world.installer_b not in installers_for(world.distributor_a)
    with pytest.raises(Http404):
        mac_add(actor=world.distributor_a, installer=world.installer_b, mac=next_mac())
    with pytest.raises(Http404):
        mac_import(actor=world.distributor_a, installer=world.installer_b, rows=[(2, next_mac())])
    assert library(world.installer_b) == {world.mac_b.mac}


@pytest.mark.parametrize("who", ["pm_a", "superuser"])
def test_property_manager_and_super_manager_cannot_add(world, who):
    actor = getattr(world, who)
    with pytest.raises(PermissionDenied):
        mac_add(actor=actor, installer=world.installer_a, mac=next_mac())
    with pytest.raises(PermissionDenied):
        mac_import(actor=actor, installer=world.installer_a, rows=[(2, next_mac())])
    assert library(world.installer_a) == {world.mac_a.mac}


def test_no_installer_is_refused(world):
    with pytest.raises(PermissionDenied):
        mac_add(actor=world.distributor_a, installer=None, mac=next_mac())


# --- import: all or nothing, every bad row reported ------------------------------------------------


def test_import_adds_every_row_normalised_for_the_installer(world):
    rows = [(2, "0c:11:05:bb:00:01"), (3, "0C-11-05-BB-00-02"), (4, "0C1105BB0003")]
    count = mac_import(actor=world.sub_a, installer=world.installer_a, rows=rows)
    assert count == 3
    added = MacAddress.objects.filter(mac__startswith="0C1105BB")
    assert sorted(added.values_list("mac", flat=True)) == ["0C1105BB0001", "0C1105BB0002", "0C1105BB0003"]
    assert {(e.installer, e.added_by) for e in added} == {(world.installer_a, world.sub_a)}
    # bulk_create sends no signals: the import is one audit entry of its own.
    assert AuditLog.objects.filter(object_repr="MAC library import: 3 MAC(s)").count() == 1


def test_import_with_one_bad_row_writes_nothing(world):
    before = MacAddress.objects.count()
    rows = [(2, "0C1105BB0011"), (3, "not-a-mac"), (4, "0C1105BB0012")]
    with pytest.raises(ImportRejected) as exc:
        mac_import(actor=world.installer_a, installer=world.installer_a, rows=rows)
    assert [e.row for e in exc.value.rows] == [3]
    assert MacAddress.objects.count() == before
    assert not MacAddress.objects.filter(mac__startswith="0C1105BB001").exists()


def test_import_reports_every_bad_row_with_its_row_number(world):
    make_mac(world.installer_a, "0C1105BB0021")  # already in this library
    make_mac(world.installer_b, "0C1105BB0022")  # registered elsewhere
    rows = [
        (2, "0C1105BB0020"),  # good
        (3, "0C1105BB0021"),
        (4, "0C1105BB0022"),
        (5, "0C1105BB002"),  # 11 digits
        (7, None),  # a line with something in another column, but no MAC
        (8, "00:00:00:00:00:00"),
        (9, "0c:11:05:bb:00:20"),  # row 2 again, typed differently
    ]
    with pytest.raises(ImportRejected) as exc:
        mac_import(actor=world.installer_a, installer=world.installer_a, rows=rows)
    errors = exc.value.rows
    assert [e.row for e in errors] == [3, 4, 5, 7, 8, 9]
    assert all(e.column == "MAC" for e in errors)
    by_row = {e.row: e.reason for e in errors}
    assert by_row[3] == "0C1105BB0021 is already in this MAC library."
    assert by_row[4] == "0C1105BB0022 cannot be added: it is already registered in a MAC library."
    assert "12 hex digits" in by_row[5]
    assert by_row[7] == "Enter the device MAC."
    assert "reserved" in by_row[8]
    assert str(errors[0]) == "Row 3, column MAC: 0C1105BB0021 is already in this MAC library."
    assert not MacAddress.objects.filter(mac="0C1105BB0020").exists()


def test_import_reports_a_mac_repeated_in_the_file_with_both_rows(world):
    rows = [(2, "0C1105BB0031"), (3, "0C1105BB0032"), (6, "0c-11-05-bb-00-31")]
    with pytest.raises(ImportRejected) as exc:
        mac_import(actor=world.installer_a, installer=world.installer_a, rows=rows)
    assert exc.value.rows == [RowError(6, "MAC", "0C1105BB0031 is already on row 2 of this file.")]
    assert not MacAddress.objects.filter(mac__startswith="0C1105BB003").exists()


def test_import_of_a_mac_of_another_installer_does_not_say_whose(world):
    with pytest.raises(ImportRejected) as exc:
        mac_import(actor=world.installer_a, installer=world.installer_a, rows=[(2, world.mac_b.mac)])
    (error,) = exc.value.rows
    assert "inst_b" not in error.reason and "this MAC library" not in error.reason
    assert error.reason.endswith("already registered in a MAC library.")


def test_import_without_any_mac_is_refused(world):
    with pytest.raises(ImportRejected) as exc:
        mac_import(actor=world.installer_a, installer=world.installer_a, rows=[])
    assert [str(e) for e in exc.value.rows] == [
        "Row 2, column MAC: The file has no MAC under the MAC header."
    ]


# --- remove: refused while bound ------------------------------------------------------------------


def test_removing_a_bound_mac_is_refused_naming_the_device_and_where_it_is(world):
    with pytest.raises(ValidationError) as exc:
        mac_delete(actor=world.installer_a, mac=world.mac_a)
    (message,) = exc.value.messages
    assert "“Alpha Gate”" in message
    assert "Alpha Gardens" in message and "Public Area" in message
    assert "Delete the device first" in message
    assert MacAddress.objects.filter(pk=world.mac_a.pk).exists()


def test_removing_a_mac_bound_in_an_apartment_names_building_and_apt(world):
    device = make_device(
        world.community_a,
        "Lily Indoor",
        building=world.building_a,
        apartment=world.apartment_a,
        device_type=2,
    )
    with pytest.raises(ValidationError) as exc:
        mac_delete(actor=world.sub_a, mac=device.mac_address)
    assert "“Lily Indoor” (Alpha Gardens, Alpha Block-101)" in exc.value.messages[0]


def test_a_mac_can_be_removed_once_its_device_is_deleted(world):
    device_delete(actor=world.installer_a, device=world.device_a)
    mac_delete(actor=world.installer_a, mac=world.mac_a)
    assert not MacAddress.objects.filter(pk=world.mac_a.pk).exists()


@pytest.mark.parametrize("who", ["installer_a", "sub_a", "distributor_a"])
def test_an_unbound_mac_is_removed(world, who):
    entry = make_mac(world.installer_a)
    mac_delete(actor=getattr(world, who), mac=entry)
    assert not MacAddress.objects.filter(pk=entry.pk).exists()


def test_a_distributor_is_refused_a_bound_mac_without_the_installers_community_or_device(world):
    with pytest.raises(ValidationError) as exc:
        mac_delete(actor=world.distributor_a, mac=world.mac_a)
    (message,) = exc.value.messages
    assert world.mac_a.mac in message
    for private in ("Alpha Gardens", "Alpha Gate", "Public Area"):
        assert private not in message
    assert MacAddress.objects.filter(pk=world.mac_a.pk).exists()


# --- another tenant's MACs ---------------------------------------------------------------------


def test_installer_b_neither_sees_nor_removes_installer_as_macs(world):
    free_a = make_mac(world.installer_a)
    assert set(MacAddress.objects.for_actor(world.installer_b).values_list("mac", flat=True)) == {
        world.mac_b.mac
    }
    # Another tenant's MAC is not found; a role without the action is refused outright.
    for actor, refusal in (
        (world.installer_b, Http404),
        (world.distributor_other, Http404),
        (world.pm_a, PermissionDenied),
        (world.superuser, PermissionDenied),
    ):
        with pytest.raises(refusal):
            mac_delete(actor=actor, mac=free_a)
    assert MacAddress.objects.filter(pk=free_a.pk).exists()


def test_each_role_sees_its_own_macs(world):
    free_a = make_mac(world.installer_a)

    def visible(actor):
        return set(MacAddress.objects.for_actor(actor).values_list("mac", flat=True))

    mine = {world.mac_a.mac, free_a.mac}
    assert visible(world.installer_a) == visible(world.sub_a) == visible(world.distributor_a) == mine
    assert visible(world.distributor_other) == visible(world.installer_b) == {world.mac_b.mac}
    assert visible(world.pm_a) == set()
    assert visible(world.superuser) == mine | {world.mac_b.mac}


# --- the Owner column ---------------------------------------------------------------------------


def test_owner_label_names_the_place_of_the_bound_device(world):
    building_device = make_device(world.community_a, "Block Door", building=world.building_a)
    apartment_device = make_device(
        world.community_a, "Indoor", building=world.building_a, apartment=world.apartment_a, device_type=2
    )
    free = make_mac(world.installer_a)
    labels = {
        m.mac: services.owner_label(m)
        for m in MacAddress.objects.select_related("device__building", "device__apartment")
    }
    assert labels[world.mac_a.mac] == "Public Device"
    assert labels[building_device.mac_address.mac] == "Alpha Block"
    assert labels[apartment_device.mac_address.mac] == "Alpha Block-101"
    assert labels[free.mac] == ""

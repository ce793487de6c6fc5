"""The residents and devices template import (devices.template_import) on the service level:
every rule with the "Row N, column X: reason" the user reads, updates of existing APTs, what is
written, atomicity at check and at apply time, idempotent steps, and the 10,000-row file.

The pages (upload, preview, confirm, errors' download, tenancy) are in test_import_views.py.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from communities.choices import FeaturePlan
from communities.models import Building, Community
from devices.choices import DeviceType, Place
from devices.models import Device, Relay
from devices.template_import import COLUMNS, TemplateImporter, apply_import, plan_import
from maclib.models import MacAddress
from residents import services as rules
from residents.models import Apartment, Resident, ResidentImport
from smartplus import importing
from smartplus.models import AuditLog, ImportStatus
from tests.factories import CommunityFactory, make_apartment, make_building, make_device, make_mac, next_mac
from tests.maclib.workbooks import xlsx

pytestmark = pytest.mark.django_db

LABEL = "residents.residentimport"
ALIASES = {"Phone1": "1stPhone", "Phone2": "2ndPhone", "Phone3": "3rdPhone"}
NOT_IN_LIBRARY = "is not in your MAC library. Add it in the MAC Library module first."
ASK_CODE = "Enter the country calling code of the phone numbers, e.g. 1 or 86."


# --- helpers ------------------------------------------------------------------------------------


def row(**cells) -> dict:
    """One row as the reader yields it: every template column, None where the cell is empty."""
    cells = {ALIASES.get(name, name): value for name, value in cells.items()}
    assert set(cells) <= set(COLUMNS), set(cells) - set(COLUMNS)
    return {column: cells.get(column) for column in COLUMNS}


def numbered(rows) -> list[tuple[int, dict]]:
    """Rows as Excel numbers them: the header is row 1."""
    return list(enumerate(rows, start=2))


def fresh(community: Community) -> Community:
    """The community as a job loads it (the fixture's object has stale counters)."""
    return Community.objects.select_related("installer__distributor").get(pk=community.pk)


def check(community: Community, *rows) -> list[str]:
    """The errors of `rows` as the user reads them; nothing is written."""
    plan = plan_import(community=fresh(community), rows=numbered(rows))
    return [str(e) for e in plan.errors]


def apply(w, *rows, community: Community | None = None) -> dict:
    return apply_import(actor=w.installer_a, community=community or w.community_a, rows=numbered(rows))


def rejected(w, *rows, community: Community | None = None) -> list[str]:
    with pytest.raises(importing.ImportRejected) as exc:
        apply(w, *rows, community=community)
    return exc.value.messages


def template_file(*rows: dict) -> bytes:
    """The template filled in with openpyxl: the header and `rows` (see `row`)."""
    return xlsx([list(COLUMNS), *([r[c] for c in COLUMNS] for r in rows)])


def job_for(w, content: bytes, *, community: Community | None = None, status=ImportStatus.CHECKING):
    community = community or w.community_a
    return ResidentImport.objects.create(
        installer=community.installer,
        user=w.installer_a,
        actor=w.installer_a,
        community=community,
        file_name="residents.xlsx",
        file_size=len(content),
        content=content,
        status=status,
    )


def analysed(w, content: bytes, **kwargs) -> ResidentImport:
    job = job_for(w, content, **kwargs)
    importing.analyse(LABEL, job.pk)
    job.refresh_from_db()
    return job


def errors_of(job) -> list[str]:
    return [str(e) for e in importing.row_errors(job)]


def state() -> dict:
    """Everything an import may write, to compare before and after."""
    return {
        "buildings": sorted(Building.objects.values_list("pk", "name")),
        "apartments": sorted(
            Apartment.objects.values_list("pk", "building_id", "number", "name", "call_type", "web_relay_id")
        ),
        "residents": sorted(
            Resident.objects.values_list(
                "pk", "first_name", "last_name", "email", "country", "mobile_number", "landline1"
            )
        ),
        "devices": sorted(
            Device.objects.values_list("pk", "name", "device_type", "mac_address_id", "place", "apartment_id")
        ),
        "relays": Relay.objects.count(),
        "counters": sorted(
            Community.objects.values_list("pk", "apartment_count", "end_user_count", "device_count")
        ),
        "audit": AuditLog.objects.count(),
    }


def counters(community: Community) -> tuple[int, int, int]:
    community.refresh_from_db()
    return community.apartment_count, community.end_user_count, community.device_count


# --- one rule each: a row's own checks ------------------------------------------------------------

ANN = {"FirstName": "Ann", "LastName": "Lee"}


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            {"Building": "B" * 129},
            ["Row 2, column Building: Ensure this value has at most 128 characters (it has 129)."],
        ),
        ({"Apt": "12a"}, ['Row 2, column Apt: Use digits and "#" only, e.g. 2#123.']),
        ({"Apt": "1 2"}, ['Row 2, column Apt: Use digits and "#" only, e.g. 2#123.']),
        (
            {"Apt": "#2#123"},
            [
                'Row 2, column Apt: The APT cannot start with "#": door phones in APT#+PIN mode '
                "could not tell it from the PIN."
            ],
        ),
        ({"Apt": "1234567"}, ["Row 2, column Apt: Use at most 6 digits."]),
        ({"Apt": "12#34567"}, ["Row 2, column Apt: Use at most 6 digits."]),
        (
            {"AptName": "N" * 65},
            ["Row 2, column AptName: Ensure this value has at most 64 characters (it has 65)."],
        ),
        (
            {"FirstName": "F" * 65, "LastName": "L" * 65},
            [
                "Row 2, column FirstName: Ensure this value has at most 64 characters (it has 65).",
                "Row 2, column LastName: Ensure this value has at most 64 characters (it has 65).",
            ],
        ),
        (
            {"Email": "ann@example.test"},
            [
                "Row 2, column FirstName: This field cannot be blank.",
                "Row 2, column LastName: This field cannot be blank.",
            ],
        ),
        ({"FirstName": "Ann"}, ["Row 2, column LastName: This field cannot be blank."]),
        ({**ANN, "Email": "not-an-email"}, ["Row 2, column Email: Enter a valid email address."]),
        (
            {**ANN, "MobileNumber": "2015550123"},
            [f"Row 2, column TelephoneCallingCode: {ASK_CODE}"],
        ),
        (
            {**ANN, "Phone2": "2079460000"},
            [f"Row 2, column TelephoneCallingCode: {ASK_CODE}"],
        ),
        (
            {**ANN, "MobileNumber": "2015550123", "TelephoneCallingCode": 999},
            [
                "Row 2, column TelephoneCallingCode: “999” is not a country calling code: "
                "enter digits such as 1, 44 or 86."
            ],
        ),
        (
            {**ANN, "TelephoneCallingCode": "abc"},
            [
                "Row 2, column TelephoneCallingCode: “abc” is not a country calling code: "
                "enter digits such as 1, 44 or 86."
            ],
        ),
        (
            {**ANN, "MobileNumber": "123", "TelephoneCallingCode": 1},
            ["Row 2, column MobileNumber: Enter a valid mobile number for +1."],
        ),
        (
            {**ANN, "MobileNumber": "07400 123456", "TelephoneCallingCode": 1},
            ["Row 2, column MobileNumber: Enter a valid mobile number for +1."],
        ),
        (
            {**ANN, "MobileNumber": "020 7946 0000", "TelephoneCallingCode": 44},
            ["Row 2, column MobileNumber: This is a landline number: enter it under Landline 1, 2 or 3."],
        ),
        (
            {**ANN, "Phone3": "12", "TelephoneCallingCode": 44},
            ["Row 2, column 3rdPhone: Enter a valid phone number for +44."],
        ),
        ({"CallType": 6}, ["Row 2, column CallType: “6” is not a call type code from 0 to 5."]),
        ({"CallType": "x"}, ["Row 2, column CallType: “x” is not a call type code from 0 to 5."]),
        ({"CallType": -1}, ["Row 2, column CallType: “-1” is not a call type code from 0 to 5."]),
        ({"WebRelayID": 51}, ["Row 2, column WebRelayID: “51” is not a whole number from 0 to 50."]),
        ({"WebRelayID": 1.5}, ["Row 2, column WebRelayID: “1.5” is not a whole number from 0 to 50."]),
        (
            {"Device": "Gate2"},
            [
                "Row 2, column Device: “Gate2” is not “Device name, Device type, Device MAC”, "
                "e.g. Living Room,2,0C11050893C6."
            ],
        ),
        (
            {"Device": "Gate2,0C11050B9814"},
            [
                "Row 2, column Device: “Gate2,0C11050B9814” is not “Device name, Device type, Device MAC”, "
                "e.g. Living Room,2,0C11050893C6."
            ],
        ),
        (
            {"Device": "Gate2,4,0C11050B9814"},
            ["Row 2, column Device: “Gate2,4,0C11050B9814”: the device type is one of 0, 1, 2, 3, 50."],
        ),
        (
            {"Device": "Gate2,door,0C11050B9814"},
            ["Row 2, column Device: “Gate2,door,0C11050B9814”: the device type is one of 0, 1, 2, 3, 50."],
        ),
        (
            {"Device": "Gate2,0,0C11050B98"},
            [
                'Row 2, column Device: “Gate2,0,0C11050B98”: "0C11050B98" is not a MAC: enter 12 hex '
                'digits (0-9, A-F), with or without ":" or "-" separators, e.g. 0C11050893CA or '
                "0C:11:05:08:93:CA."
            ],
        ),
        (
            {"Device": ",2,0C1105AB0001"},
            ["Row 2, column Device: “,2,0C1105AB0001”: This field cannot be blank."],
        ),
        (
            {"Device": f"{'D' * 65},2,0C1105AB0001"},
            [
                f"Row 2, column Device: “{'D' * 65},2,0C1105AB0001”: Ensure this value has at most 64 "
                "characters (it has 65)."
            ],
        ),
        ({"Building": None}, ["Row 2, column Building: Enter the building of the APT."]),
    ],
)
def test_a_rows_own_rule_is_reported_at_its_column(world, cells, expected):
    assert check(world.community_a, row(**{"Building": "Tower", "Apt": "12", **cells})) == expected


@pytest.mark.parametrize(
    "cells",
    [
        {"FirstName": "Ann"},
        {"Email": "ann@example.test"},
        {"AptName": "Corner"},
        {"CallType": 3},
        {"MobileNumber": "2015550123", "TelephoneCallingCode": 1},
    ],
)
def test_apartment_or_resident_cells_without_an_apt_ask_for_it(world, cells):
    assert check(world.community_a, row(Building="Tower", **cells)) == [
        "Row 2, column Apt: Enter the APT of this row's apartment and resident."
    ]


def test_an_indoor_monitor_is_refused_on_a_building_row_and_in_the_public_area(world):
    mac = make_mac(world.installer_a).mac
    assert check(
        world.community_a, row(Building="Tower", Device=f"Hall,2,{mac}"), row(Device=f"Lobby,2,{mac}")
    ) == [
        f"Row 2, column Device: “Hall,2,{mac}”: A indoor monitor cannot be added to the building.",
        f"Row 3, column Device: “Lobby,2,{mac}”: A indoor monitor cannot be added to the public area.",
    ]


def test_a_valid_row_reads_every_accepted_form_of_its_values(world):
    mac = make_mac(world.installer_a).mac
    colons = ":".join(mac[i : i + 2] for i in range(0, 12, 2)).lower()
    plan = plan_import(
        community=fresh(world.community_a),
        rows=numbered(
            [
                row(
                    Building="Tower",
                    Apt="2#123",
                    AptName="Corner",
                    Device=f" Living Room , 2 , {colons} ;",
                    FirstName=" Ann ",
                    LastName="Lee",
                    Email="Ann.Lee@Example.test",
                    MobileNumber="+44 7400 123456",
                    TelephoneCallingCode="+44",
                    Phone1="020 7946 0000",
                    Phone2="07400 123457",
                    CallType="5",
                    WebRelayID=50,
                ),
                row(Building="Tower", Apt="124", FirstName="Bo", LastName="Li", TelephoneCallingCode="0086"),
            ]
        ),
    )
    assert plan.errors == []
    apt = plan.new_apartments[0]
    assert (apt.number, apt.name, apt.call_type, apt.web_relay_id) == ("2#123", "Corner", 5, 50)
    ann, bo = plan.new_residents
    assert (ann.first_name, ann.email, ann.country, ann.mobile_number, ann.landline1, ann.landline2) == (
        "Ann",
        "Ann.Lee@Example.test",
        "GB",
        "7400123456",
        "2079460000",
        "7400123457",
    )
    assert bo.country == "CN"
    (device,) = plan.new_devices
    assert (device.name, device.device_type, device.mac_address.mac) == ("Living Room", 2, mac)


# --- one rule each: what the database holds -----------------------------------------------------


def test_an_apt_of_another_building_is_refused_naming_that_building(world):
    assert check(world.community_a, row(Building="Tower", Apt="101", FirstName="Ann", LastName="Lee")) == [
        "Row 2, column Apt: APT 101 already exists in this community (Alpha Block)."
    ]


def test_an_apt_of_another_community_is_no_clash(world):
    assert check(world.community_a, row(Building="Tower", Apt="909")) == []


def test_an_apt_twice_in_the_file_is_refused_on_the_second_row(world):
    assert check(
        world.community_a,
        row(Building="Tower", Apt="12"),
        row(Building="Tower", Apt="13"),
        row(Building="Annex", Apt="12"),
    ) == ["Row 4, column Apt: APT 12 is already on row 2 of this file."]


def test_a_refused_apt_still_reports_every_other_error_of_its_row(world):
    unknown = next_mac()
    assert check(
        world.community_a,
        row(Building="Tower", Apt="12"),
        row(Building="Annex", Apt="12", FirstName="F" * 65, LastName="Lee", Device=f"Hall,2,{unknown}"),
        row(Building="Alpha Block", Apt="101"),  # no error: the family master stays as it is
        row(Apt="14", FirstName="G" * 65, LastName="Li"),
    ) == [
        "Row 3, column Apt: APT 12 is already on row 2 of this file.",
        f"Row 3, column Device: “Hall,2,{unknown}”: {unknown} {NOT_IN_LIBRARY}",
        "Row 3, column FirstName: Ensure this value has at most 64 characters (it has 65).",
        "Row 5, column Building: Enter the building of the APT.",
        "Row 5, column FirstName: Ensure this value has at most 64 characters (it has 65).",
    ]


def test_an_email_of_another_end_user_is_refused_in_any_case(world):
    Resident.objects.filter(pk=world.apartment_b.residents.get().pk).update(email="brenda@example.test")
    assert check(world.community_a, row(Building="Tower", Apt="12", **ANN, Email="Brenda@Example.TEST")) == [
        f"Row 2, column Email: {rules.EMAIL_TAKEN}"
    ]


def test_an_email_twice_in_the_file_is_refused_on_the_second_row(world):
    assert check(
        world.community_a,
        row(Building="Tower", Apt="12", **ANN, Email="ann@example.test"),
        row(Building="Tower", Apt="13", FirstName="Bo", LastName="Li", Email="ANN@example.test"),
    ) == ["Row 3, column Email: ANN@example.test is already on row 2 of this file."]


def test_a_mac_not_in_the_library_and_another_installers_mac_read_alike(world):
    unknown = next_mac()
    assert check(
        world.community_a,
        row(Building="Tower", Apt="12", Device=f"Gate,0,{unknown}"),
        row(Building="Tower", Apt="13", Device=f"Gate,0,{world.mac_b.mac}"),
    ) == [
        f"Row 2, column Device: “Gate,0,{unknown}”: {unknown} {NOT_IN_LIBRARY}",
        f"Row 3, column Device: “Gate,0,{world.mac_b.mac}”: {world.mac_b.mac} {NOT_IN_LIBRARY}",
    ]


def test_a_mac_bound_elsewhere_names_the_device_and_its_place(world):
    other = make_device(world.community_a2, "Towers Gate")
    mac_a, mac_other = world.mac_a.mac, other.mac_address.mac
    assert check(
        world.community_a,
        row(Building="Tower", Apt="12", Device=f"Hall,0,{mac_a}"),
        row(Building="Tower", Device=f"Hall,0,{mac_other}"),
    ) == [
        f"Row 2, column Device: “Hall,0,{mac_a}”: {mac_a} is already bound to “Alpha Gate” "
        "(Alpha Gardens, Public Area).",
        f"Row 3, column Device: “Hall,0,{mac_other}”: {mac_other} is already bound to “Towers Gate” "
        "(Alpha Towers, Public Area).",
    ]


def test_a_mac_bound_to_a_device_of_another_apartment_is_refused(world):
    monitor = make_device(
        world.community_a, "Bedroom", building=world.building_a, apartment=world.apartment_a, device_type=2
    )
    mac = monitor.mac_address.mac
    assert check(world.community_a, row(Building="Alpha Block", Apt="102", Device=f"Hall,2,{mac}")) == [
        f"Row 2, column Device: “Hall,2,{mac}”: {mac} is already bound to “Bedroom” "
        "(Alpha Gardens, Alpha Block-101)."
    ]


def test_a_mac_twice_in_a_row_or_in_two_rows_is_refused_where_it_repeats(world):
    mac, other = make_mac(world.installer_a).mac, make_mac(world.installer_a).mac
    assert check(
        world.community_a,
        row(Building="Tower", Apt="12", Device=f"Gate,0,{mac}; Back Gate,0,{mac}"),
        row(Building="Tower", Apt="13", Device=f"Hall,2,{other}"),
        row(Building="Tower", Device=f"Lobby,0,{other}"),
    ) == [
        f"Row 2, column Device: {mac} is already on row 2 of this file.",
        f"Row 4, column Device: {other} is already on row 3 of this file.",
    ]


def test_a_mac_typed_two_ways_is_the_same_mac(world):
    mac = make_mac(world.installer_a).mac
    dashed = "-".join(mac[i : i + 2] for i in range(0, 12, 2)).lower()
    assert check(
        world.community_a,
        row(Building="Tower", Apt="12", Device=f"Gate,0,{mac}"),
        row(Building="Tower", Apt="13", Device=f"Gate,0,{dashed}"),
    ) == [f"Row 3, column Device: {mac} is already on row 2 of this file."]


# --- devices already at the row's place: renamed, never retyped -------------------------------------


def test_a_mac_bound_at_the_same_place_renames_its_device(world):
    w = world
    monitor = make_device(
        w.community_a, "Bedroom", building=w.building_a, apartment=w.apartment_a, device_type=2
    )
    lobby = make_device(w.community_a, "Lobby", building=w.building_a)
    before = counters(w.community_a)
    result = apply(
        w,
        row(Building="ALPHA BLOCK", Apt="101", Device=f"Living Room,2,{monitor.mac_address.mac}"),
        row(Building="Alpha Block", Device=f"Main Lobby,0,{lobby.mac_address.mac}"),
        row(Device=f"Front Gate,0,{w.mac_a.mac}"),
    )
    assert result == {"devices renamed": 3}
    names = dict(Device.objects.filter(community=w.community_a).values_list("pk", "name"))
    assert (names[monitor.pk], names[lobby.pk], names[w.device_a.pk]) == (
        "Living Room",
        "Main Lobby",
        "Front Gate",
    )
    assert Device.objects.filter(community=w.community_a).count() == 3
    assert counters(w.community_a) == before


def test_a_mac_bound_at_the_same_place_with_the_same_name_changes_nothing(world):
    assert apply(world, row(Device=f"Alpha Gate,0,{world.mac_a.mac}")) == {}


def test_a_type_change_of_a_bound_device_is_refused(world):
    mac = world.mac_a.mac
    assert check(world.community_a, row(Device=f"Alpha Gate,1,{mac}")) == [
        f"Row 2, column Device: “Alpha Gate,1,{mac}”: {mac} is the multi-tenant door phone “Alpha Gate”; "
        "change a device's type in its Edit dialog."
    ]


def test_a_public_device_named_on_a_building_row_is_bound_elsewhere(world):
    mac = world.mac_a.mac
    assert check(world.community_a, row(Building="Alpha Block", Device=f"Alpha Gate,0,{mac}")) == [
        f"Row 2, column Device: “Alpha Gate,0,{mac}”: {mac} is already bound to “Alpha Gate” "
        "(Alpha Gardens, Public Area)."
    ]


# --- existing APTs: updated, blank cells keep their values -------------------------------------------


def _set_up_existing(w) -> Resident:
    Apartment.objects.filter(pk=w.apartment_a.pk).update(name="Corner", call_type=3, web_relay_id=7)
    Resident.objects.filter(pk=w.resident_a.pk).update(
        email="lily@example.test", country="US", mobile_number="2015550123"
    )
    return Resident.objects.get(pk=w.resident_a.pk)


def test_an_existing_apt_is_updated_and_blank_cells_keep_its_values(
    world, django_capture_on_commit_callbacks
):
    w = world
    _set_up_existing(w)
    before = counters(w.community_a)
    plan = plan_import(
        community=fresh(w.community_a),
        rows=numbered([row(Building="alpha block", Apt="101", CallType=4, LastName="Zhang")]),
    )
    assert plan.errors == []
    assert plan.preview.summary["apartments"]["items"] == [[2, "update", "APT 101 (Alpha Block)"]]
    assert plan.preview.summary["residents"]["items"] == [[2, "update", "Lily Zhang (APT 101)"]]
    with django_capture_on_commit_callbacks() as callbacks:
        result = apply(w, row(Building="alpha block", Apt="101", CallType=4, LastName="Zhang"))
    assert result == {"apartments updated": 1, "residents updated": 1}
    apt = Apartment.objects.get(pk=w.apartment_a.pk)
    assert (apt.name, apt.call_type, apt.web_relay_id, apt.floor) == ("Corner", 4, 7, 1)
    lily = Resident.objects.get(pk=w.resident_a.pk)
    assert (lily.first_name, lily.last_name, lily.email, lily.country, lily.mobile_number) == (
        "Lily",
        "Zhang",
        "lily@example.test",
        "US",
        "2015550123",
    )
    # The family member stays as it was; no new account email (the email did not change).
    assert Resident.objects.get(pk=w.member_a.pk).last_name == "Wang"
    assert callbacks == []
    assert counters(w.community_a) == before


def test_an_update_writes_back_only_the_fields_the_file_changes(world):
    # Columns the file leaves alone are not written, so an edit made meanwhile in the portal
    # (the Edit dialog's landline, the APT's name) is not overwritten with what was read.
    w = world
    _set_up_existing(w)
    with CaptureQueriesContext(connection) as queries:
        apply(w, row(Building="Alpha Block", Apt="101", CallType=4, LastName="Zhang"))
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    resident = next(sql for sql in updates if 'UPDATE "residents_resident"' in sql)
    apartment = next(sql for sql in updates if 'UPDATE "residents_apartment"' in sql)
    assert '"last_name"' in resident and '"landline1"' not in resident and '"email"' not in resident
    assert '"call_type"' in apartment and '"name"' not in apartment


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"CallType": "²"}, "Row 2, column CallType: “²” is not a call type code from 0 to 5."),
        ({"WebRelayID": "٣"}, "Row 2, column WebRelayID: “٣” is not a whole number from 0 to 50."),
        (
            {"Device": "Hall,²,0C1105000001"},
            "Row 2, column Device: “Hall,²,0C1105000001”: the device type is one of",
        ),
        (
            {"TelephoneCallingCode": "⁸⁶", "MobileNumber": "2015550123"},
            "Row 2, column TelephoneCallingCode: “⁸⁶”",
        ),
    ],
)
def test_digits_beyond_ascii_are_a_row_error_not_a_failure(world, cells, expected):
    errors = check(
        world.community_a, row(Building="Tower", Apt="12", FirstName="Ann", LastName="Lee", **cells)
    )
    assert len(errors) == 1 and errors[0].startswith(expected), errors


def test_an_existing_apt_with_the_same_values_is_not_counted_as_updated(world):
    w = world
    _set_up_existing(w)
    same = row(
        Building="Alpha Block",
        Apt="101",
        AptName="Corner",
        CallType=3,
        FirstName="Lily",
        Email="lily@example.test",
    )
    plan = plan_import(community=fresh(w.community_a), rows=numbered([same]))
    assert plan.errors == [] and plan.counts()["apartments updated"] == 0
    assert plan.counts()["residents updated"] == 0
    assert apply(w, same) == {}


def test_an_email_change_of_the_family_master_queues_a_new_account_email(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    w = world
    _set_up_existing(w)
    with django_capture_on_commit_callbacks(execute=True):
        result = apply(w, row(Building="Alpha Block", Apt="101", Email="lily.zheng@example.test"))
    assert result == {"residents updated": 1}
    assert Resident.objects.get(pk=w.resident_a.pk).email == "lily.zheng@example.test"
    assert [m.to for m in mailoutbox] == [["lily.zheng@example.test"]]


def test_an_existing_apt_keeps_its_own_email_in_another_case(world):
    _set_up_existing(world)
    assert check(world.community_a, row(Building="Alpha Block", Apt="101", Email="LILY@example.test")) == []


def test_an_existing_apt_refuses_the_email_of_its_family_member(world):
    Resident.objects.filter(pk=world.member_a.pk).update(email="jim@example.test")
    assert check(world.community_a, row(Building="Alpha Block", Apt="101", Email="jim@example.test")) == [
        f"Row 2, column Email: {rules.EMAIL_TAKEN}"
    ]


def test_an_existing_apt_without_a_resident_gets_its_family_master(world):
    w = world
    apt = make_apartment(w.building_a, "102")
    before = counters(w.community_a)
    assert apply(w, row(Building="Alpha Block", Apt="102", FirstName="Ann", LastName="Lee")) == {
        "residents created": 1
    }
    master = Resident.objects.get(apartment=apt)
    assert (master.first_name, master.family_master_id) == ("Ann", None)
    assert counters(w.community_a) == (before[0], before[1] + 1, before[2])


# --- feature plan Basic: an indoor monitor in every new apartment ---------------------------------


def _plan(community: Community, plan: str, *, home_automation: bool = False) -> None:
    Community.objects.filter(pk=community.pk).update(feature_plan=plan, home_automation=home_automation)


@pytest.mark.parametrize("plan", [FeaturePlan.BASIC, FeaturePlan.ONE_MONITOR_ALL])
def test_basic_plan_refuses_a_new_apartment_without_an_indoor_monitor(world, plan):
    w = world
    _plan(w.community_a, plan)
    gate = make_mac(w.installer_a).mac
    assert check(
        w.community_a,
        row(Building="Tower", Apt="12", **ANN),
        row(Building="Tower", Apt="13", Device=f"Door,1,{gate}"),
    ) == [
        "Row 2, column Device: The feature plan of Alpha Gardens needs an indoor monitor in every "
        "apartment: add one, e.g. Living Room,2,0C11050893C6.",
        "Row 3, column Device: The feature plan of Alpha Gardens needs an indoor monitor in every "
        "apartment: add one, e.g. Living Room,2,0C11050893C6.",
    ]


def test_basic_plan_accepts_a_new_apartment_with_an_indoor_monitor_and_updates_without_one(world):
    w = world
    _plan(w.community_a, FeaturePlan.BASIC)
    monitor, gate = make_mac(w.installer_a).mac, make_mac(w.installer_a).mac
    result = apply(
        w,
        row(Building="Tower", Apt="12", **ANN, Device=f"Door,1,{gate}; Living Room,2,{monitor}"),
        row(Building="Alpha Block", Apt="101", AptName="Corner"),
    )
    assert result == {
        "buildings created": 1,
        "apartments created": 1,
        "apartments updated": 1,
        "residents created": 1,
        "devices created": 2,
    }


def test_basic_plan_with_home_automation_needs_no_indoor_monitor(world):
    _plan(world.community_a, FeaturePlan.BASIC, home_automation=True)
    assert check(world.community_a, row(Building="Tower", Apt="12", **ANN)) == []


def test_premium_plan_needs_no_indoor_monitor(world):
    assert check(world.community_a, row(Building="Tower", Apt="12", **ANN)) == []


# --- capacity: the community's Number of apartments ----------------------------------------------


def test_more_new_apartments_than_the_number_of_apartments_is_one_error_on_the_first_row_over(world):
    w = world
    Community.objects.filter(pk=w.community_a.pk).update(number_of_apartments=3)  # it has 1
    errors = check(
        w.community_a,
        row(Building="Alpha Block", Apt="101", AptName="Corner"),  # an update takes no room
        row(Building="Tower", Apt="12"),
        row(Building="Tower", Apt="13"),
        row(Building="Tower", Apt="14"),
        row(Building="Tower", Apt="15"),
    )
    assert errors == [
        "Row 5, column Apt: Alpha Gardens has 1 apartments and room for 2 more (Number of apartments 3); "
        "this file adds 4. Delete an apartment first, or raise the Number of apartments in the "
        "community's settings."
    ]


def test_new_apartments_up_to_the_number_of_apartments_are_accepted(world):
    Community.objects.filter(pk=world.community_a.pk).update(number_of_apartments=3)
    assert check(world.community_a, row(Building="Tower", Apt="12"), row(Building="Tower", Apt="13")) == []


# --- the file itself, through the job ------------------------------------------------------------


def test_a_formula_cell_is_refused_at_its_cell(world):
    job = analysed(
        world,
        template_file(
            row(Building="Tower", Apt="12", AptName='="Cor"&"ner"', FirstName="Ann", LastName="Lee")
        ),
    )
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == ["Row 2, column AptName: the cell holds a formula; type the value itself."]


def test_a_formula_in_a_required_cell_gets_only_the_formula_message(world):
    job = analysed(
        world, template_file(row(Building="Tower", Apt="12", FirstName='="A"&"nn"', LastName="Lee"))
    )
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == ["Row 2, column FirstName: the cell holds a formula; type the value itself."]


def test_an_empty_file_is_an_error(world):
    job = analysed(world, template_file())
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == ["Row 2, column Building: The file has no rows under the header."]


def test_a_file_without_the_templates_header_is_an_error(world):
    job = analysed(world, xlsx([["Name", "Unit"], ["Tower", "12"]]))
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == [
        'The sheet "Sheet1" lacks the column(s) Building, Apt in row 1. Use the template (Download The '
        "Template on the dashboard): its first row names the columns."
    ]


def test_several_errors_in_one_file_are_all_reported_sorted_by_row(world):
    w = world
    good = make_mac(w.installer_a).mac
    unknown = next_mac()
    before = state()
    content = template_file(
        row(Building="Tower", Apt="12", **ANN, Device=f"Hall,2,{good}"),
        row(Building="Tower", Apt="13", FirstName="Bo", Email="bo@", CallType=9, Device=f"Gate,0,{unknown}"),
        row(Building="Tower", Apt="12"),
        row(Building="Tower", Apt="14", FirstName="Cy", LastName="Wu", AptName="=A1"),
        row(Building="T" * 129, Apt="15", MobileNumber="2015550123", FirstName="Di", LastName="Ng"),
    )
    job = analysed(w, content)
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == [
        f"Row 3, column Device: “Gate,0,{unknown}”: {unknown} {NOT_IN_LIBRARY}",
        "Row 3, column LastName: This field cannot be blank.",
        "Row 3, column Email: Enter a valid email address.",
        "Row 3, column CallType: “9” is not a call type code from 0 to 5.",
        "Row 4, column Apt: APT 12 is already on row 2 of this file.",
        "Row 5, column AptName: the cell holds a formula; type the value itself.",
        "Row 6, column Building: Ensure this value has at most 128 characters (it has 129).",
        f"Row 6, column TelephoneCallingCode: {ASK_CODE}",
    ]
    assert job.error_count == 8
    assert state() == before


# --- what an import writes ------------------------------------------------------------------------


def test_apply_writes_every_kind_with_its_defaults_counters_and_one_audit_change_set(
    world, django_capture_on_commit_callbacks
):
    w = world
    macs = [make_mac(w.installer_a).mac for _ in range(5)]
    before = counters(w.community_a)
    audit = AuditLog.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        result = apply(
            w,
            row(
                Building="Tower",
                Apt="12",
                AptName="Lee",
                **ANN,
                Email="ann@example.test",
                Device=f"Gate2,0,{macs[0]}; Living Room,2,{macs[1]}",
                CallType=2,
                WebRelayID=9,
            ),
            row(Building="Tower", Device=f"Lobby,1,{macs[2]}; Guard,3,{macs[3]}"),
            row(Device=f"Reader,50,{macs[4]}"),
        )
    assert result == {
        "buildings created": 1,
        "apartments created": 1,
        "residents created": 1,
        "devices created": 5,
    }
    tower = Building.objects.get(community=w.community_a, name="Tower")
    apt = Apartment.objects.get(building=tower, number="12")
    assert (apt.community_id, apt.name, apt.call_type, apt.web_relay_id) == (w.community_a.pk, "Lee", 2, 9)
    assert apt.family_sip_number.isdigit()
    ann = Resident.objects.get(email="ann@example.test")
    assert (ann.apartment_id, ann.community_id, ann.family_master_id) == (apt.pk, w.community_a.pk, None)
    assert ann.app_password.startswith(UNUSABLE_PASSWORD_PREFIX)  # the account email brings one
    devices = {
        d.name: (
            d.place,
            d.building_id,
            d.apartment_id,
            d.device_type,
            d.mac_address.mac,
            [r.name for r in d.relays.all()],
        )
        for d in Device.objects.filter(mac_address__mac__in=macs).select_related("mac_address")
    }
    assert devices == {
        "Gate2": (Place.APARTMENT, tower.pk, apt.pk, DeviceType.MULTI_TENANT_DOOR_PHONE, macs[0], ["Relay1"]),
        "Living Room": (Place.APARTMENT, tower.pk, apt.pk, DeviceType.INDOOR_MONITOR, macs[1], []),
        "Lobby": (Place.BUILDING, tower.pk, None, DeviceType.SINGLE_TENANT_DOOR_PHONE, macs[2], ["Relay1"]),
        "Guard": (Place.BUILDING, tower.pk, None, DeviceType.GUARD_PHONE, macs[3], []),
        "Reader": (Place.PUBLIC, None, None, DeviceType.ACCESS_CONTROL, macs[4], ["Relay1"]),
    }
    assert counters(w.community_a) == (before[0] + 1, before[1] + 1, before[2] + 5)
    # The entries the dialogs' saves write: one "Created" per object, relays joined to their device.
    entries = list(AuditLog.objects.order_by("pk")[audit:])
    assert len({e.change_set for e in entries}) == 1  # one change set: the whole import
    assert sorted((e.installer_id, e.action, e.object_repr) for e in entries) == sorted(
        (w.installer_a.pk, "create", name)
        for name in ("Tower", "APT 12", "Ann Lee", "Gate2", "Living Room", "Lobby", "Guard", "Reader")
    )
    gate = next(e for e in entries if e.object_repr == "Gate2")
    assert gate.changes["relays"][1][0].startswith("Relay1: Relay1; DTMF -; SmartPlus Homepage")
    assert "relays" not in next(e for e in entries if e.object_repr == "Guard").changes
    assert len(callbacks) == 1  # the account email, after the commit


def test_a_resident_without_an_email_queues_no_email(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        apply(world, row(Building="Tower", Apt="12", **ANN))
    assert callbacks == []


# --- atomicity: one bad row and nothing is written ------------------------------------------------


def test_one_bad_row_writes_nothing_at_apply_time(world):
    w = world
    macs = [make_mac(w.installer_a).mac for _ in range(3)]
    before = state()
    messages = rejected(
        w,
        row(Building="Tower", Apt="12", **ANN, Email="ann@example.test", Device=f"Hall,2,{macs[0]}"),
        row(Building="Tower", Device=f"Lobby,0,{macs[1]}"),
        row(Building="Alpha Block", Apt="101", AptName="Renamed", Device=f"Living Room,2,{macs[2]}"),
        row(Device=f"Front Gate,0,{w.mac_a.mac}"),
        row(Building="Annex", Apt="13", FirstName="Bo", LastName="Li", WebRelayID=51),
    )
    assert messages == ["Row 6, column WebRelayID: “51” is not a whole number from 0 to 50."]
    assert state() == before
    assert not Device.objects.filter(mac_address__mac__in=macs).exists()


def test_a_mac_taken_between_preview_and_confirm_rejects_the_import_and_writes_nothing(world):
    w = world
    monitor, gate = make_mac(w.installer_a).mac, make_mac(w.installer_a).mac
    job = analysed(
        w,
        template_file(
            row(Building="Tower", Apt="12", **ANN, Device=f"Living Room,2,{monitor}"),
            row(Building="Tower", Apt="13", FirstName="Bo", LastName="Li", Device=f"Gate,0,{gate}"),
        ),
    )
    assert job.status == ImportStatus.READY
    make_device(w.community_a2, "Towers Gate", mac=gate)  # another user, meanwhile
    before = state()
    assert importing.confirm(job)
    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == [
        f"Row 3, column Device: “Gate,0,{gate}”: {gate} is already bound to “Towers Gate” "
        "(Alpha Towers, Public Area)."
    ]
    assert state() == before
    assert job.content  # kept for the errors' download


def test_an_apt_added_between_preview_and_confirm_rejects_the_import(world):
    w = world
    job = analysed(w, template_file(row(Building="Tower", Apt="12", **ANN)))
    assert job.status == ImportStatus.READY
    make_apartment(make_building(w.community_a, "Annex"), "12")
    before = state()
    importing.confirm(job)
    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    assert errors_of(job) == ["Row 2, column Apt: APT 12 already exists in this community (Annex)."]
    assert state() == before


# --- idempotency: each step acts once ---------------------------------------------------------------


def test_run_twice_writes_once(world):
    w = world
    job = analysed(w, template_file(row(Building="Tower", Apt="12", **ANN)))
    assert job.status == ImportStatus.READY
    ResidentImport.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
    importing.run(LABEL, job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.result == [["buildings created", 1], ["apartments created", 1], ["residents created", 1]]
    after = state()
    importing.run(LABEL, job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert state() == after
    assert Apartment.objects.filter(community=w.community_a, number="12").count() == 1


def test_confirm_of_a_job_that_is_not_ready_does_nothing(world):
    job = analysed(world, template_file(row(Building="Tower", Apt="12a")))
    assert job.status == ImportStatus.REJECTED
    before = state()
    assert importing.confirm(job) is False
    job.refresh_from_db()
    assert job.status == ImportStatus.REJECTED
    assert state() == before


def test_analyse_twice_checks_once(world, monkeypatch):
    job = analysed(world, template_file(row(Building="Tower", Apt="12")))
    assert job.status == ImportStatus.READY
    calls = []
    monkeypatch.setattr(TemplateImporter, "check", lambda *args: calls.append(args))
    importing.analyse(LABEL, job.pk)
    assert calls == []
    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    assert [kind for kind, _ in job.summary] == ["buildings", "apartments", "residents", "devices"]


def test_a_done_job_is_not_analysed_again(world):
    job = analysed(world, template_file(row(Building="Tower", Apt="12")))
    importing.confirm(job)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.content == b""
    after = state()
    importing.analyse(LABEL, job.pk)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert state() == after


def test_an_unexpected_error_while_importing_fails_the_job_and_writes_nothing(world, monkeypatch):
    job = analysed(world, template_file(row(Building="Tower", Apt="12", **ANN)))
    before = state()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("smartplus.bulk.bulk_insert", broken)
    importing.confirm(job)
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert errors_of(job) == [importing.UNEXPECTED]
    assert state() == before


# --- acceptance 2: 10,000 rows ------------------------------------------------------------------

ROWS = 10_000
BAD_ROW = 9_999  # Excel's row number: the header is row 1
FIRST_MAC = 0x0C1109000000


def _mac_at(excel_row: int) -> str:
    return f"{FIRST_MAC + excel_row - 2:012X}"


def _big_file() -> bytes:
    """10,000 APTs in 100 buildings, each with its resident and an indoor monitor; every tenth
    resident with a mobile number (phonenumbers' checks are a third of a row's cost)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Template"
    sheet.append(COLUMNS)
    for i in range(ROWS):
        building, unit = divmod(i, 100)
        sheet.append(
            [
                f"Building {building + 1}",
                f"{building + 1}{unit + 1:03d}",
                f"Unit {unit + 1}",
                f"Living Room,2,{_mac_at(i + 2)}",
                "Ryan",
                f"Chen{i}",
                f"ryan.chen.{i}@example.test",
                *(("2015550123", 1) if i % 10 == 0 else (None, None)),
                None,
                None,
                None,
                i % 6,
                i % 51,
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _with_text_replaced(content: bytes, old: str, new: str) -> bytes:
    """`content` with the one cell holding `old` holding `new`, as an edit in Excel would leave it
    (saving 10,000 rows again would take seconds)."""
    out, found = io.BytesIO(), 0
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            found += data.count(f">{old}<".encode())
            target.writestr(info, data.replace(f">{old}<".encode(), f">{new}<".encode()))
    assert found == 1, (old, found)
    return out.getvalue()


def test_ten_thousand_rows_with_one_bad_row_write_nothing_and_fixed_import_all(world):
    w = world
    community = CommunityFactory(installer=w.installer_a, name="Big Park", number_of_apartments=ROWS)
    MacAddress.objects.bulk_create(
        [MacAddress(installer=w.installer_a, mac=f"{FIRST_MAC + i:012X}") for i in range(ROWS)],
        batch_size=2000,
    )
    before = state()

    content = _big_file()
    unknown = "0C11090FFFFF"
    bad_file = _with_text_replaced(content, f"Living Room,2,{_mac_at(BAD_ROW)}", f"Living Room,2,{unknown}")
    bad = analysed(w, bad_file, community=community)
    assert bad.status == ImportStatus.REJECTED
    assert errors_of(bad) == [
        f"Row {BAD_ROW}, column Device: “Living Room,2,{unknown}”: {unknown} {NOT_IN_LIBRARY}"
    ]
    assert state() == before

    good = analysed(w, content, community=community)
    assert good.status == ImportStatus.READY
    assert good.total_rows == ROWS
    summary = {kind: (entry["create"], entry["update"]) for kind, entry in good.summary}
    assert summary == {
        "buildings": (100, 0),
        "apartments": (ROWS, 0),
        "residents": (ROWS, 0),
        "devices": (ROWS, 0),
    }
    with override_settings(SMARTPLUS_IMPORT_INLINE_BYTES=10 * 1024 * 1024):
        assert importing.confirm(good)
    good.refresh_from_db()
    assert good.status == ImportStatus.DONE, good.errors
    assert dict(good.result) == {
        "buildings created": 100,
        "apartments created": ROWS,
        "residents created": ROWS,
        "devices created": ROWS,
    }
    assert Apartment.objects.filter(community=community).count() == ROWS
    assert Resident.objects.filter(community=community).count() == ROWS
    assert Device.objects.filter(community=community, device_type=DeviceType.INDOOR_MONITOR).count() == ROWS
    assert counters(community) == (ROWS, ROWS, ROWS)
    last = Apartment.objects.get(community=community, number="100100")
    assert (last.building.name, last.name, last.call_type, last.web_relay_id) == (
        "Building 100",
        "Unit 100",
        (ROWS - 1) % 6,
        (ROWS - 1) % 51,
    )
    assert cache.get(f"import-progress:{LABEL}:{good.pk}") is None

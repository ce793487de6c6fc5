"""Export (`?export=xlsx`) of every list: the on-screen columns and values, the page's filters and
sort, every row; the same scope and status codes as the page; formula-like text opens as text;
and a query count that does not grow with the rows."""

from __future__ import annotations

import io
import re
import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from communities.choices import DateFormat, TimeFormat
from communities.formatting import community_datetime
from communities.models import Community
from devices.choices import DeviceType, Place
from devices.models import Device
from maclib.models import MacAddress
from residents.models import Apartment, Resident
from smartplus.models import AuditAction, AuditLog
from smartplus.xlsx import XLSX_CONTENT_TYPE
from tests.factories import (
    CommunityFactory,
    DistributorFactory,
    InstallerFactory,
    World,
    make_apartment,
    make_building,
    make_camera,
    make_device,
    make_mac,
)
from tests.test_access_matrix import FORBIDDEN_TEXT

pytestmark = pytest.mark.django_db

XLSX = {"export": "xlsx"}


# --- helpers -----------------------------------------------------------------------------------


def load(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert response["Content-Disposition"].endswith('.xlsx"')
    return load_workbook(io.BytesIO(response.content)).worksheets[0]


def export(client, url: str, params: dict | None = None) -> tuple[list, list[list]]:
    """(header row, data rows) of the list's export."""
    sheet = load(client.get(url, {**(params or {}), **XLSX}))
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return rows[0], rows[1:]


def on_screen(client, url: str, params: dict | None = None):
    """The page's table: its headers without the action buttons, and its paginator."""
    response = client.get(url, params or {})
    assert response.status_code == 200
    table = response.context["table"]
    return [str(c.header) for c in table.columns if c.name != "actions"], table.paginator


def check_export(client, url: str, params: dict | None = None) -> list[list]:
    """The export's header is the page's, it holds every row the page counts, and no HTML."""
    headers, paginator = on_screen(client, url, params)
    header, rows = export(client, url, params)
    assert header == headers
    assert len(rows) == paginator.count
    assert not [v for row in rows for v in row if isinstance(v, str) and ("<" in v or "&amp;" in v)]
    return rows


def column(rows: list[list], index: int = 0) -> list:
    return [row[index] for row in rows]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- communities ----------------------------------------------------------------------------------


def test_dashboard_exports_the_community_table_only(world):
    client = logged_in(world.installer_a)
    url = reverse("communities:dashboard")
    rows = check_export(client, url)
    assert rows == [["Alpha Gardens", 1, 2, "Alice Manager"], ["Alpha Towers", 0, 0, None]]


def test_dashboard_export_applies_search_and_sort(world):
    client = logged_in(world.installer_a)
    url = reverse("communities:dashboard")
    assert column(check_export(client, url, {"q": "towers"})) == ["Alpha Towers"]
    assert column(check_export(client, url, {"sort": "-name"})) == ["Alpha Towers", "Alpha Gardens"]


def test_file_is_named_after_the_list_and_the_time(world):
    client = logged_in(world.installer_a)
    w = world
    names = {
        reverse("communities:dashboard"): "communities",
        reverse("residents:building_apartments", args=[w.building_a.pk]): "alpha-gardens-alpha-block-apt",
        reverse(
            "devices:public_devices", args=[w.community_a.pk]
        ): "alpha-gardens-public-area-intercom-devices",
        reverse("maclib:mac_list"): "mac-library",
    }
    for url, stem in names.items():
        disposition = client.get(url, XLSX)["Content-Disposition"]
        assert re.fullmatch(rf'attachment; filename="{stem}-\d{{8}}-\d{{4}}\.xlsx"', disposition), disposition


# --- residents and APTs ---------------------------------------------------------------------------


def test_residents_export_as_the_page_shows_them(world):
    community = world.community_a
    # The page shows times in the community's zone and formats; so does the export.
    Community.objects.filter(pk=community.pk).update(
        time_zone="America/Chicago", time_format=TimeFormat.H12, date_format=DateFormat.DMY
    )
    community.refresh_from_db()
    rows = check_export(
        logged_in(world.installer_a), reverse("residents:community_residents", args=[community.pk])
    )
    created = community_datetime(world.resident_a.created, community)
    assert created.endswith(("AM", "PM"))
    assert rows == [
        [
            "Jim Wang (Family member)",
            None,
            "Alpha Block",
            "101 (Floor 1)",
            None,
            "Inactivated",
            "Unregistered",
            community_datetime(world.member_a.created, community),
            None,
        ],
        [
            "Lily Zheng",
            None,
            "Alpha Block",
            "101 (Floor 1)",
            None,
            "Inactivated",
            "Unregistered",
            created,
            None,
        ],
    ]


def test_residents_export_applies_search_and_sort(world):
    client = logged_in(world.installer_a)
    url = reverse("residents:community_residents", args=[world.community_a.pk])
    assert column(check_export(client, url, {"q": "lily"})) == ["Lily Zheng"]
    assert column(check_export(client, url, {"app_status": "registered"})) == []
    assert column(check_export(client, url, {"sort": "resident"})) == [
        "Jim Wang (Family member)",
        "Lily Zheng",
    ]
    assert column(check_export(client, url, {"sort": "-resident"})) == [
        "Lily Zheng",
        "Jim Wang (Family member)",
    ]


def test_apartments_export_applies_the_sort(world):
    make_apartment(world.building_a, "102", resident={"first_name": "Ann", "last_name": "Lee"})
    client = logged_in(world.installer_a)
    url = reverse("residents:building_apartments", args=[world.building_a.pk])
    rows = check_export(client, url, {"sort": "number"})
    assert [row[:3] for row in rows] == [["101 (Floor 1)", None, "Lily Zheng"], ["102", None, "Ann Lee"]]
    assert column(check_export(client, url, {"sort": "-number"})) == ["102", "101 (Floor 1)"]


# --- intercom devices and cameras -----------------------------------------------------------------


@pytest.fixture
def block_door(world):
    return make_device(
        world.community_a, "Block Door", building=world.building_a, device_type=DeviceType.GUARD_PHONE
    )


def test_community_devices_export_with_location_and_status_text(world, block_door):
    client = logged_in(world.installer_a)
    url = reverse("devices:community_devices", args=[world.community_a.pk])
    rows = check_export(client, url)
    mac, when = world.device_a.mac_address.mac, community_datetime(world.device_a.created, world.community_a)
    assert rows[0] == [mac, "Alpha Gate", "Multi-tenant door phone", "Public Area", "Offline", when]
    assert rows[1][1:4] == ["Block Door", "Guard phone", "Alpha Block"]


def test_community_devices_export_applies_type_search_and_sort(world, block_door):
    client = logged_in(world.installer_a)
    url = reverse("devices:community_devices", args=[world.community_a.pk])
    by_name = lambda params: column(check_export(client, url, params), 1)  # noqa: E731
    assert by_name({"device_type": DeviceType.GUARD_PHONE}) == ["Block Door"]
    assert by_name({"q": "gate"}) == ["Alpha Gate"]
    assert by_name({"q": block_door.mac_address.mac[-6:].lower()}) == ["Block Door"]
    assert by_name({"sort": "-name"}) == ["Block Door", "Alpha Gate"]


def test_place_lists_export_their_own_devices(world, block_door):
    client = logged_in(world.installer_a)
    public = check_export(client, reverse("devices:public_devices", args=[world.community_a.pk]))
    building = check_export(client, reverse("devices:building_devices", args=[world.building_a.pk]))
    assert column(public, 1) == ["Alpha Gate"]
    assert column(building, 1) == ["Block Door"]


def test_camera_lists_export_their_linked_door_phones(world):
    make_camera(world.community_a, "Block Cam", building=world.building_a)
    client = logged_in(world.installer_a)
    public = check_export(client, reverse("devices:public_cameras", args=[world.community_a.pk]))
    building = check_export(client, reverse("devices:building_cameras", args=[world.building_a.pk]))
    assert public == [
        ["Alpha Cam", "Alpha Gate", community_datetime(world.camera_a.created, world.community_a)]
    ]
    assert [row[:2] for row in building] == [["Block Cam", None]]


# --- MAC library ----------------------------------------------------------------------------------


@pytest.fixture
def unbound(world):
    return [make_mac(world.installer_a, mac) for mac in ("0C1105ABCD01", "0C1105ABCD02")]


def test_mac_library_exports_owner_and_the_accounts_time(world, unbound):
    world.installer_a.time_zone = "Asia/Tokyo"
    world.installer_a.save(update_fields=["time_zone"])
    rows = check_export(logged_in(world.installer_a), reverse("maclib:mac_list"), {"sort": "mac"})
    created = timezone.localtime(world.mac_a.created, zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert rows == [
        [world.mac_a.mac, "inst_a", "Public Device", created.strftime("%Y-%m-%d %H:%M:%S")],
        ["0C1105ABCD01", "inst_a", None, rows[1][3]],
        ["0C1105ABCD02", "inst_a", None, rows[2][3]],
    ]


def test_mac_library_export_applies_bound_search_and_sort(world, unbound):
    client = logged_in(world.installer_a)
    url = reverse("maclib:mac_list")
    assert column(check_export(client, url, {"status": "bound"})) == [world.mac_a.mac]
    assert column(check_export(client, url, {"status": "unbound", "sort": "mac"})) == [
        "0C1105ABCD01",
        "0C1105ABCD02",
    ]
    assert column(check_export(client, url, {"q": "ab:cd:02"})) == ["0C1105ABCD02"]
    assert column(check_export(client, url, {"sort": "-mac"}))[0] == "0C1105ABCD02"


def test_distributor_export_names_the_kind_of_place_only(world):
    rows = check_export(logged_in(world.distributor_a), reverse("maclib:mac_list"))
    assert rows[0][:3] == [world.mac_a.mac, "inst_a", "Public Device"]
    rows = check_export(logged_in(world.distributor_a), reverse("maclib:mac_list"), {"status": "unbound"})
    assert rows == []


# --- audit log ------------------------------------------------------------------------------------


def test_audit_log_exports_filtered_and_sorted(world):
    client = logged_in(world.installer_a)
    url = reverse("auditlog_list")
    rows = check_export(client, url, {"action": AuditAction.CREATE})
    assert rows and {row[3] for row in rows} == {"Created"}
    times = column(rows)
    assert times == sorted(times, reverse=True)
    oldest_first = column(check_export(client, url, {"sort": "time"}))
    assert oldest_first == sorted(oldest_first)
    camera = next(row for row in rows if row[5] == "Alpha Cam")
    assert camera[1:3] == ["system", None]  # no one acting as someone else: blank, not "--"
    assert "name: Alpha Cam" in camera[6]
    assert check_export(client, url, {"user": "nobody"}) == []


def test_audit_log_time_is_the_accounts(world):
    world.installer_a.time_zone = "Asia/Tokyo"
    world.installer_a.save(update_fields=["time_zone"])
    client = logged_in(world.installer_a)
    rows = check_export(client, reverse("auditlog_list"), {"sort": "-time"})
    newest = AuditLog.objects.for_actor(world.installer_a).latest("time", "pk")
    tokyo = timezone.localtime(newest.time, zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert rows[0][0] == tokyo.strftime("%Y-%m-%d %H:%M:%S")


# --- installers -----------------------------------------------------------------------------------


def test_installer_list_exports_with_yes_no(world):
    InstallerFactory(username="inst_c", first_name="Carl", last_name="Stone", distributor=world.distributor_a)
    client = logged_in(world.distributor_a)
    url = reverse("accounts:installer_list")
    rows = check_export(client, url)
    assert rows == [
        ["inst_a", None, "inst_a@example.test", "Yes", "No"],
        ["inst_c", "Carl Stone", "inst_c@example.test", "No", "No"],
    ]
    assert column(check_export(client, url, {"q": "carl"})) == ["inst_c"]
    assert column(check_export(client, url, {"sort": "-username"})) == ["inst_c", "inst_a"]


# --- the Export button -------------------------------------------------------------------------


def list_urls(w: World) -> dict[str, str]:
    return {
        "dashboard": reverse("communities:dashboard"),
        "residents": reverse("residents:community_residents", args=[w.community_a.pk]),
        "apartments": reverse("residents:building_apartments", args=[w.building_a.pk]),
        "community_devices": reverse("devices:community_devices", args=[w.community_a.pk]),
        "public_devices": reverse("devices:public_devices", args=[w.community_a.pk]),
        "building_devices": reverse("devices:building_devices", args=[w.building_a.pk]),
        "public_cameras": reverse("devices:public_cameras", args=[w.community_a.pk]),
        "building_cameras": reverse("devices:building_cameras", args=[w.building_a.pk]),
        "mac_list": reverse("maclib:mac_list"),
        "auditlog": reverse("auditlog_list"),
        "installers": reverse("accounts:installer_list"),
    }


def export_href(response) -> str:
    html = response.content.decode()
    assert html.count('data-testid="export"') == 1
    tag = html[: html.index('data-testid="export"')]
    return tag[tag.rindex('href="') + 6 :].split('"', 1)[0].replace("&amp;", "&")


def test_every_list_page_has_one_export_button(world):
    urls = list_urls(world)
    installer, distributor = logged_in(world.installer_a), logged_in(world.distributor_a)
    for name, url in urls.items():
        client = distributor if name == "installers" else installer
        assert export_href(client.get(url)) == "?export=xlsx", name


def test_export_button_keeps_filters_and_sort_and_drops_the_page(world):
    client = logged_in(world.installer_a)
    url = reverse("residents:community_residents", args=[world.community_a.pk])
    response = client.get(url, {"q": "lily", "sort": "resident", "page": "2"})
    assert export_href(response) == "?q=lily&sort=resident&export=xlsx"


# --- scoping: the page's scope and status codes ----------------------------------------------------

ACTORS = ["anon", "inst_a", "sub_a", "inst_b", "pm_a", "pm_none", "dist_a", "acting", "dist_other", "root"]


def codes(default: int, **over: int) -> dict[str, int]:
    return {actor: over.get(actor, default) for actor in ACTORS} | {"anon": 302}


COMMUNITY_VIEW = codes(403, inst_a=200, sub_a=200, acting=200, inst_b=404, pm_a=200, pm_none=404, root=200)
EXPECTED_CODES = {
    "dashboard": codes(200, dist_a=403, dist_other=403),
    **{
        name: COMMUNITY_VIEW
        for name in (
            "residents",
            "apartments",
            "community_devices",
            "public_devices",
            "building_devices",
            "public_cameras",
            "building_cameras",
        )
    },
    "mac_list": codes(200, pm_a=403, pm_none=403),
    "auditlog": codes(403, inst_a=200, sub_a=200, acting=200, inst_b=200, root=200),
    "installers": codes(403, dist_a=200, dist_other=200, root=200),
}
# What each actor must never read: the access matrix's own table.
NEVER = FORBIDDEN_TEXT


def client_for(actor: str, w: World) -> Client:
    if actor == "anon":
        return Client()
    if actor == "acting":
        w.installer_a.permission_granted = True
        w.installer_a.save(update_fields=["permission_granted"])
        client = logged_in(w.distributor_a)
        assert client.post(reverse("hijack:acquire"), {"user_pk": w.installer_a.pk}).status_code == 302
        return client
    users = {
        "inst_a": w.installer_a,
        "sub_a": w.sub_a,
        "inst_b": w.installer_b,
        "pm_a": w.pm_a,
        "pm_none": w.pm_nothing,
        "dist_a": w.distributor_a,
        "dist_other": w.distributor_other,
        "root": w.superuser,
    }
    return logged_in(users[actor])


@pytest.mark.parametrize("name", sorted(EXPECTED_CODES))
def test_export_has_the_pages_scope_and_status_for_every_role(name, world):
    url = list_urls(world)[name]
    for actor in ACTORS:
        client = client_for(actor, world)
        page = client.get(url)
        response = client.get(url, XLSX)
        expected = EXPECTED_CODES[name][actor]
        assert (page.status_code, response.status_code) == (expected, expected), f"{name} as {actor}"
        if expected == 302:
            assert response["Location"].startswith("/accounts/login/")
        if expected != 200:
            continue
        cells = [
            str(cell.value) for row in load(response).iter_rows() for cell in row if cell.value is not None
        ]
        text = "\n".join(cells)
        leaked = [n for n in NEVER[actor] if n in text]
        assert not leaked, f"{name} as {actor} leaked {leaked}"


def test_installer_b_exports_only_its_own_community(world):
    client = logged_in(world.installer_b)
    residents = check_export(client, reverse("residents:community_residents", args=[world.community_b.pk]))
    devices = check_export(client, reverse("devices:community_devices", args=[world.community_b.pk]))
    assert column(residents) == ["Brenda Bravoresident"]
    assert column(devices, 1) == ["Bravo Gate"]
    assert column(check_export(client, reverse("communities:dashboard"))) == ["Bravo Heights"]


# --- formula injection (acceptance 4) --------------------------------------------------------------

FORMULA_NAMES = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)"]
# Leading tab and carriage return: kept in an APT Name (a resident's display name is stripped).
CONTROL_VALUES = ["\tTabbed", "\rReturned"]


def test_formula_like_values_open_as_text(world):
    w = world
    for i, name in enumerate(FORMULA_NAMES):
        apartment = make_apartment(w.building_a, f"2{i:02d}")
        # residents.services requires a last name and strips leading tabs and carriage returns,
        # so a family master named exactly `+1` exists only through the ORM (or another writer).
        Resident.objects.create(community=w.community_a, apartment=apartment, first_name=name, last_name="")
    for i, value in enumerate(CONTROL_VALUES):
        apartment = make_apartment(
            w.building_a, f"3{i:02d}", resident={"first_name": f"C{i}", "last_name": "X"}
        )
        # The service strips the APT name too; the stored value is set directly.
        Apartment.objects.filter(pk=apartment.pk).update(name=value)
    # And through the service: its display name starts with "@" too.
    make_apartment(w.building_a, "400", resident={"first_name": "@cmd", "last_name": "Lee"})

    response = logged_in(w.installer_a).get(
        reverse("residents:community_residents", args=[w.community_a.pk]), XLSX
    )
    sheet = load(response)
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row if cell.value is not None}
    # XML parsers (Excel's and openpyxl's) read a raw carriage return in cell text as a line feed.
    read_back = {"\rReturned": "\nReturned"}
    for typed in [*FORMULA_NAMES, *CONTROL_VALUES, "@cmd Lee"]:
        text = read_back.get(typed, typed)
        cell = cells[text]  # the exact text
        assert (cell.data_type, cell.value, cell.quotePrefix) == ("s", text, True), repr(text)
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    # Ordinary text is left as it is.
    assert cells["Lily Zheng"].quotePrefix is False


# --- query counts: 10 rows cost what 200 do ------------------------------------------------------

SMALL, LARGE = 10, 200
PLACES = (Place.PUBLIC, Place.BUILDING, Place.APARTMENT)


def build_site(size: int, tag: str):
    """An installer whose community holds `size` residents (one APT each) and `size` devices, each
    bound to one of its `size` MACs, in the public area, a building and an apartment in turn."""
    installer = InstallerFactory(
        username=f"inst-{tag}", distributor=DistributorFactory(username=f"dist-{tag}")
    )
    community = CommunityFactory(installer=installer, name=f"Site {tag}", number_of_apartments=size)
    building = make_building(community, "Block A")
    apartments = Apartment.objects.bulk_create(
        Apartment(
            community=community,
            building=building,
            number=f"{i + 1:04d}",
            floor=i % 9 + 1,
            family_sip_number=f"E{community.pk % 1000:03d}{i:06d}",
        )
        for i in range(size)
    )
    Resident.objects.bulk_create(
        Resident(
            community=community,
            apartment=apt,
            first_name=f"Res{i}",
            last_name="Export",
            email=f"{tag}{i}@x.test",
        )
        for i, apt in enumerate(apartments)
    )
    start = timezone.now() - timedelta(days=1)
    prefix = 0x0C1108000000 if tag == "small" else 0x0C1109000000
    macs = MacAddress.objects.bulk_create(
        MacAddress(installer=installer, mac=f"{prefix + i:012X}", created=start + timedelta(seconds=i))
        for i in range(size)
    )
    Device.objects.bulk_create(
        Device(
            community=community,
            place=PLACES[i % 3],
            building=None if PLACES[i % 3] == Place.PUBLIC else building,
            apartment=apartments[0] if PLACES[i % 3] == Place.APARTMENT else None,
            mac_address=mac,
            device_type=DeviceType.INDOOR_MONITOR
            if PLACES[i % 3] == Place.APARTMENT
            else DeviceType.GUARD_PHONE,
            name=f"Device {i}",
        )
        for i, mac in enumerate(macs)
    )
    return installer, community


def export_queries(client, url: str, size: int) -> int:
    client.get(url, XLSX)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as ctx:
        _, rows = export(client, url)
    # Every row, not one page: 200 is more than the longest page (100 lines).
    assert len(rows) == size, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("which", ["residents", "community_devices", "mac_list"])
def test_export_queries_do_not_grow_with_the_rows(which):
    counts = {}
    for size, tag in ((SMALL, "small"), (LARGE, "large")):
        installer, community = build_site(size, tag)
        url = {
            "residents": reverse("residents:community_residents", args=[community.pk]),
            "community_devices": reverse("devices:community_devices", args=[community.pk]),
            "mac_list": reverse("maclib:mac_list"),
        }[which]
        counts[size] = export_queries(logged_in(installer), url, size)
    assert counts[SMALL] == counts[LARGE], counts

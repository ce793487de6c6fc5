"""Intercom device pages through the test client: Add/Edit Device per place, info, delete, lists.

The rules are tested on the services (tests/devices/test_services.py); here each one is driven
through the dialog and the answer must put the service's message at the right field, save nothing
on an error, and show only what the role may do.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.choices import FeaturePlan
from communities.models import Community
from devices.choices import AccessMethod, ContactDisplay, DeviceType, Place, RelayKind
from devices.models import Device
from maclib.models import MacAddress
from tests.factories import ALL_METHODS, make_building, make_device, make_mac

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
DOOR = str(DeviceType.MULTI_TENANT_DOOR_PHONE.value)
MONITOR = str(DeviceType.INDOOR_MONITOR.value)
SINGLE = DeviceType.SINGLE_TENANT_DOOR_PHONE


def device_post(mac: str, **overrides) -> dict:
    """A valid POST of the Add Device dialog: a door phone with Relay1 On and every method."""
    data = {
        "device_type": DOOR,
        "mac": mac,
        "network_group": "1",
        "name": "Front Gate",
        "all_buildings": "on",
        "contact_display": ContactDisplay.ALL.value,
        "relays": "1",
        "relay1_enabled": "1",
        "relay1_name": "Door",
        "relay1_dtmf_code": "",
        "relay1_access_methods": ALL_METHODS,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def public_add(w) -> str:
    return reverse("devices:public_device_add", args=[w.community_a.pk])


def building_add(w) -> str:
    return reverse("devices:building_device_add", args=[w.building_a.pk])


def apartment_add(w) -> str:
    return reverse("devices:apartment_device_add", args=[w.apartment_a.pk])


def field_errors(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


def device_count(community: Community) -> tuple[int, int]:
    community.refresh_from_db()
    return Device.objects.filter(community=community).count(), community.device_count


def row_names(response) -> list[str]:
    return [row.record.name for row in response.context["table"].page.object_list]


def enable_offline_solution(w) -> None:
    w.distributor_a.doorphone_offline_enabled = True
    w.distributor_a.save(update_fields=["doorphone_offline_enabled"])


# --- Add Device, per place ------------------------------------------------------------------------


def test_add_public_device_with_two_relays_chosen_methods_and_chosen_buildings(client, world):
    w = world
    second = make_building(w.community_a, "Beta Block")
    make_building(w.community_a, "Gamma Block")  # not chosen
    mac = make_mac(w.installer_a)
    typed = ":".join(mac.mac[i : i + 2] for i in range(0, 12, 2)).lower()
    client.force_login(w.installer_a)
    before = device_count(w.community_a)
    response = client.post(
        public_add(w),
        device_post(
            typed,
            name="North Gate",
            network_group="3",
            all_buildings=None,
            buildings=[str(w.building_a.pk), str(second.pk)],
            relays="2",
            relay1_access_methods=["rf_card", "pin"],
            relay1_dtmf_code="#1",
            relay2_enabled="1",
            relay2_name="Side Door",
            relay2_dtmf_code="*2",
            relay2_access_methods=["face"],
            # Relay3 is not added: what its block holds is not saved.
            relay3_enabled="1",
            relay3_name="x" * 99,
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("devices:public_devices", args=[w.community_a.pk])
    device = Device.objects.get(mac_address=mac)
    assert (device.place, device.name, device.network_group, device.all_buildings) == (
        Place.PUBLIC,
        "North Gate",
        3,
        False,
    )
    assert sorted(b.name for b in device.buildings.all()) == ["Alpha Block", "Beta Block"]
    relays = list(device.relays.order_by("index"))
    assert [(r.kind, r.index, r.name, r.dtmf_code, r.access_methods) for r in relays] == [
        (RelayKind.RELAY, 1, "Door", "#1", "pin,rf_card"),
        (RelayKind.RELAY, 2, "Side Door", "*2", "face"),
    ]
    assert device_count(w.community_a) == (before[0] + 1, before[1] + 1)


def test_add_building_device_with_contact_display(client, world):
    w = world
    mac = make_mac(w.installer_a)
    client.force_login(w.installer_a)
    response = client.post(
        building_add(w),
        device_post(mac.mac, name="Lobby Panel", contact_display=ContactDisplay.APT_NUMBERS.value),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("devices:building_devices", args=[w.building_a.pk])
    device = Device.objects.get(mac_address=mac)
    assert (device.place, device.building, device.contact_display) == (
        Place.BUILDING,
        w.building_a,
        ContactDisplay.APT_NUMBERS,
    )
    listed = client.get(reverse("devices:building_devices", args=[w.building_a.pk]))
    assert row_names(listed) == ["Lobby Panel"]


def test_add_apartment_indoor_monitor_with_arming(client, world):
    w = world
    mac = make_mac(w.installer_a)
    client.force_login(w.installer_a)
    response = client.post(
        apartment_add(w),
        device_post(mac.mac, device_type=MONITOR, name="Kitchen Monitor", arming_function="on"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:apartment_detail", args=[w.apartment_a.pk])
    device = Device.objects.get(mac_address=mac)
    assert (device.place, device.apartment, device.device_type, device.arming_function) == (
        Place.APARTMENT,
        w.apartment_a,
        DeviceType.INDOOR_MONITOR,
        True,
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="device-count">1 Intercom Device<' in page
    assert "Kitchen Monitor" in page and mac.mac in page


def test_fields_a_type_does_not_have_are_ignored(client, world):
    """Without JavaScript every field is posted; the door phone does not take the monitor's."""
    w = world
    mac = make_mac(w.installer_a)
    client.force_login(w.installer_a)
    response = client.post(apartment_add(w), device_post(mac.mac, device_type=DOOR, arming_function="on"))
    assert response.status_code == 302
    assert Device.objects.get(mac_address=mac).arming_function is False


def test_add_offers_only_the_types_of_the_place(client, world):
    client.force_login(world.installer_a)
    public = client.get(public_add(world)).context["form"].fields["device_type"]
    apartment = client.get(apartment_add(world)).context["form"].fields["device_type"]
    assert int(MONITOR) not in [int(v) for v, _ in public.choices]
    assert int(MONITOR) in [int(v) for v, _ in apartment.choices]
    mac = make_mac(world.installer_a).mac
    response = client.post(public_add(world), device_post(mac, device_type=MONITOR))
    assert response.status_code == 422
    assert field_errors(response, "device_type")


def test_security_relay_is_saved_for_a_door_phone_and_refused_for_a_monitor(client, world):
    w = world
    client.force_login(w.installer_a)
    security = {
        "security_relay": "on",
        "security_relay_enabled": "1",
        "security_relay_name": "SR01",
        "security_relay_access_methods": ["pin"],
    }
    mac = make_mac(w.installer_a)
    assert client.post(building_add(w), device_post(mac.mac, **security)).status_code == 302
    sr = Device.objects.get(mac_address=mac).relays.get(kind=RelayKind.SECURITY)
    assert (sr.name, sr.access_methods) == ("SR01", "pin")

    other = make_mac(w.installer_a)
    response = client.post(apartment_add(w), device_post(other.mac, device_type=MONITOR, **security))
    assert response.status_code == 422
    assert "door phone" in field_errors(response, "security_relay")
    assert not Device.objects.filter(mac_address=other).exists()


def test_every_field_is_in_the_page_for_browsers_without_javascript(client, world):
    """The script only hides; the page itself holds every relay block and the plain controls."""
    client.force_login(world.installer_a)
    page = client.get(public_add(world)).content.decode()
    for name in ("relays", "security_relay", "security_relay_name", "buildings", "all_buildings"):
        assert f'name="{name}"' in page, name
    for index in range(1, 5):
        assert f'name="relay{index}_name"' in page
        assert f'data-relay="{index}"' in page
    assert " hidden" not in page.split('data-testid="relay2"')[0].rsplit("<fieldset", 1)[1]


def test_htmx_add_renders_the_modal_and_redirects_on_success(client, world):
    w = world
    client.force_login(w.installer_a)
    response = client.get(public_add(w), **HTMX)
    assert response.status_code == 200
    assert 'class="modal-header"' in response.content.decode()
    response = client.post(public_add(w), device_post(make_mac(w.installer_a).mac), **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("devices:public_devices", args=[w.community_a.pk])


def test_next_is_honoured_after_save(client, world):
    client.force_login(world.installer_a)
    target = reverse("devices:community_devices", args=[world.community_a.pk])
    response = client.post(f"{public_add(world)}?next={target}", device_post(make_mac(world.installer_a).mac))
    assert response["Location"] == target


# --- field errors at the right field, nothing saved -----------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"relay1_name": ""}, "relay1_name", "Enter the Relay Name of Relay1"),
        ({"relays": "2", "relay2_enabled": "1", "relay2_name": ""}, "relay2_name", "Relay2"),
        ({"relay1_dtmf_code": "12ab"}, "relay1_dtmf_code", "keypad characters"),
        ({"mac": "0C11050893"}, "mac", "is not a MAC"),
        ({"mac": "zz:11:05:08:93:ca"}, "mac", "is not a MAC"),
        ({"mac": "0C:11:05:FF:FF:01"}, "mac", "is not in your MAC library"),
        ({"mac": ""}, "mac", "required"),
        ({"name": ""}, "name", "required"),
        ({"name": "x" * 65}, "name", "at most 64 characters"),
        ({"all_buildings": None}, "buildings", "Choose at least one building"),
    ],
)
def test_bad_input_gets_a_message_at_the_field_and_saves_nothing(client, world, overrides, field, message):
    w = world
    before = device_count(w.community_a)
    macs = MacAddress.objects.filter(device__isnull=False).count()
    client.force_login(w.installer_a)
    data = {k: v for k, v in (device_post(make_mac(w.installer_a).mac) | overrides).items() if v is not None}
    response = client.post(public_add(w), data)
    assert response.status_code == 422
    assert message in field_errors(response, field)
    assert f'data-field-error="{field}"' in response.content.decode()
    assert device_count(w.community_a) == before
    assert MacAddress.objects.filter(device__isnull=False).count() == macs


def test_relay_off_needs_no_name(client, world):
    client.force_login(world.installer_a)
    mac = make_mac(world.installer_a)
    response = client.post(public_add(world), device_post(mac.mac, relay1_enabled="0", relay1_name=""))
    assert response.status_code == 302
    relay = Device.objects.get(mac_address=mac).relays.get()
    assert (relay.enabled, relay.name) == (False, "")


def test_mac_of_another_installer_reads_as_not_in_the_library(client, world):
    client.force_login(world.installer_a)
    response = client.post(public_add(world), device_post(world.mac_b.mac))
    assert "is not in your MAC library" in field_errors(response, "mac")
    assert "Bravo" not in response.content.decode()


def test_mac_already_bound_names_the_device(client, world):
    client.force_login(world.installer_a)
    response = client.post(public_add(world), device_post(world.mac_a.mac))
    assert "already bound to “Alpha Gate”" in field_errors(response, "mac")


# --- the Doorphone Offline Solution ---------------------------------------------------------------


def test_offline_fields_are_not_rendered_without_the_offline_solution(client, world):
    client.force_login(world.installer_a)
    for url in (public_add(world), building_add(world), apartment_add(world)):
        page = client.get(url).content.decode()
        assert 'name="internet_access"' not in page
        assert 'name="offline_ip"' not in page
        assert 'name="works_offline"' not in page


def test_offline_fields_are_rendered_with_the_offline_solution(client, world):
    enable_offline_solution(world)
    client.force_login(world.installer_a)
    for url in (public_add(world), building_add(world), apartment_add(world)):
        page = client.get(url).content.decode()
        assert 'name="internet_access"' in page
        assert 'name="offline_ip"' in page
    assert 'name="works_offline"' in client.get(apartment_add(world)).content.decode()
    assert 'name="works_offline"' not in client.get(building_add(world)).content.decode()


def test_door_phone_without_internet_needs_the_ip_and_keeps_it(client, world):
    enable_offline_solution(world)
    client.force_login(world.installer_a)
    mac = make_mac(world.installer_a)
    response = client.post(building_add(world), device_post(mac.mac, internet_access="0", offline_ip=""))
    assert response.status_code == 422
    assert "static IP address" in field_errors(response, "offline_ip")
    response = client.post(
        building_add(world), device_post(mac.mac, internet_access="0", offline_ip="192.168.1.50")
    )
    assert response.status_code == 302
    device = Device.objects.get(mac_address=mac)
    assert (device.internet_access, device.offline_ip) == (False, "192.168.1.50")
    info = client.get(reverse("devices:device_detail", args=[device.pk])).content.decode()
    assert 'data-testid="device-internet">No<' in info and "192.168.1.50" in info


def test_indoor_monitor_works_offline_in_an_apartment(client, world):
    enable_offline_solution(world)
    client.force_login(world.installer_a)
    mac = make_mac(world.installer_a)
    data = device_post(mac.mac, device_type=MONITOR, works_offline="on")
    response = client.post(apartment_add(world), data)
    assert response.status_code == 302
    assert Device.objects.get(mac_address=mac).works_offline is True
    second = make_mac(world.installer_a)
    response = client.post(
        apartment_add(world), device_post(second.mac, device_type=MONITOR, works_offline="on")
    )
    assert "already transfers calls" in field_errors(response, "works_offline")


# --- Edit Device -----------------------------------------------------------------------------------


@pytest.fixture
def two_relay_device(world):
    """A public door phone for Beta Block only, with Relay1 On, Relay2 Off and a security relay."""
    from devices.services import device_create

    second = make_building(world.community_a, "Beta Block")
    return device_create(
        actor=world.installer_a,
        community=world.community_a,
        mac=make_mac(world.installer_a).mac,
        fields={"device_type": SINGLE, "name": "Side Gate", "all_buildings": False},
        relays=[
            {"enabled": True, "name": "Main", "dtmf_code": "11", "access_methods": ["pin", "face"]},
            {"enabled": False, "name": "Back", "dtmf_code": "", "access_methods": ["nfc"]},
        ],
        security_relay={"enabled": True, "name": "SR01", "dtmf_code": "9", "access_methods": ["rf_card"]},
        buildings=[second],
    )


def test_edit_prefills_everything(client, world, two_relay_device):
    device = two_relay_device
    client.force_login(world.installer_a)
    response = client.get(reverse("devices:device_edit", args=[device.pk]))
    form = response.context["form"]
    values = {name: form[name].value() for name in form.fields}
    assert values["mac"] == device.mac_address.mac
    assert values["name"] == "Side Gate"
    assert values["all_buildings"] is False
    assert values["buildings"] == [device.buildings.get().pk]
    assert values["relays"] == "2"
    relay1 = (values["relay1_name"], values["relay1_dtmf_code"], values["relay1_enabled"])
    assert relay1 == ("Main", "11", "1")
    assert values["relay1_access_methods"] == ["pin", "face"]
    assert (values["relay2_name"], values["relay2_enabled"], values["relay2_access_methods"]) == (
        "Back",
        "0",
        ["nfc"],
    )
    assert values["security_relay"] is True
    assert (values["security_relay_name"], values["security_relay_access_methods"]) == ("SR01", ["rf_card"])
    page = response.content.decode()
    assert f'value="{device.mac_address.mac}"' in page
    # Relays not added yet open with every access method ticked.
    assert values["relay3_access_methods"] == list(AccessMethod.values)


def test_edit_changes_the_mac_relays_and_unbinds_the_old_mac(client, world, two_relay_device):
    device = two_relay_device
    old_mac = device.mac_address
    new_mac = make_mac(world.installer_a)
    client.force_login(world.installer_a)
    response = client.post(
        reverse("devices:device_edit", args=[device.pk]),
        device_post(new_mac.mac.lower(), name="Side Gate 2", relay1_name="Main Door"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("devices:public_devices", args=[world.community_a.pk])
    device.refresh_from_db()
    assert (device.name, device.mac_address, device.all_buildings) == ("Side Gate 2", new_mac, True)
    assert list(device.relays.values_list("kind", "name")) == [(RelayKind.RELAY, "Main Door")]
    assert not Device.objects.filter(mac_address=old_mac).exists()
    assert MacAddress.objects.filter(pk=old_mac.pk).exists()


def test_edit_with_an_error_keeps_the_device(client, world, two_relay_device):
    client.force_login(world.installer_a)
    response = client.post(
        reverse("devices:device_edit", args=[two_relay_device.pk]),
        device_post(two_relay_device.mac_address.mac, name="Renamed", relay1_name=""),
    )
    assert response.status_code == 422
    assert field_errors(response, "relay1_name")
    two_relay_device.refresh_from_db()
    assert two_relay_device.name == "Side Gate"
    assert two_relay_device.relays.count() == 3


# --- Delete -----------------------------------------------------------------------------------------


def test_delete_through_the_view_unbinds_the_mac_and_counts(client, world):
    w = world
    device = make_device(w.community_a, "Temp", building=w.building_a)
    before = device_count(w.community_a)
    client.force_login(w.installer_a)
    url = reverse("devices:device_delete", args=[device.pk])
    page = client.get(url).content.decode()
    assert "the device “Temp”" in page and device.mac_address.mac in page
    response = client.post(url)
    assert response["Location"] == reverse("devices:building_devices", args=[w.building_a.pk])
    assert not Device.objects.filter(pk=device.pk).exists()
    assert MacAddress.objects.filter(pk=device.mac_address_id).exists()
    assert device_count(w.community_a) == (before[0] - 1, before[1] - 1)


def test_delete_refused_for_the_last_indoor_monitor_of_a_basic_apartment(client, world):
    w = world
    monitor = make_device(w.community_a, "Only Monitor", apartment=w.apartment_a, device_type=2)
    Community.objects.filter(pk=w.community_a.pk).update(feature_plan=FeaturePlan.BASIC)
    client.force_login(w.installer_a)
    response = client.post(reverse("devices:device_delete", args=[monitor.pk]), follow=True)
    assert Device.objects.filter(pk=monitor.pk).exists()
    messages = [str(m) for m in response.context["messages"]]
    assert any("must keep an indoor monitor" in m for m in messages)


# --- info -----------------------------------------------------------------------------------------


def test_info_shows_every_field_and_the_relays(client, world, two_relay_device):
    client.force_login(world.installer_a)
    page = client.get(reverse("devices:device_detail", args=[two_relay_device.pk])).content.decode()
    for text in (
        "Public Area",
        "Single-tenant door phone",
        two_relay_device.mac_address.mac,
        "Side Gate",
        "Network Group 1",
        "Beta Block",
        "Main",
        "PIN, Face",
        "Back",
        "NFC",
        "SR01",
        "RF Card",
        "Offline",
    ):
        assert text in page, text
    assert 'data-testid="edit-device"' in page and 'data-testid="delete-device"' in page


@pytest.mark.parametrize(
    ("firmware", "noted"),
    [
        ("29.30.2.14", True),  # R29: another model
        ("28.30.10.6", True),  # R28 older than 28.30.10.7
        ("28.30.10.7", False),
        ("28.31.1.1", False),
        ("912.30.10.204", False),
        ("912.30.10.20", True),
        ("", False),  # model unknown: nothing to say
    ],
)
def test_info_notes_when_the_firmware_ignores_access_methods(client, world, firmware, noted):
    device = make_device(world.community_a, "Fw Gate", firmware_version=firmware)
    client.force_login(world.installer_a)
    page = client.get(reverse("devices:device_detail", args=[device.pk])).content.decode()
    assert ('data-testid="access-method-note"' in page) is noted


def test_info_of_an_apartment_monitor_shows_arming_and_location(client, world):
    device = make_device(
        world.community_a, "Hall Monitor", apartment=world.apartment_a, device_type=2, arming_function=True
    )
    client.force_login(world.installer_a)
    page = client.get(reverse("devices:device_detail", args=[device.pk])).content.decode()
    assert 'data-testid="device-location">Alpha Block-101<' in page
    assert 'data-testid="device-arming">On<' in page


# --- lists ------------------------------------------------------------------------------------------


@pytest.fixture
def listed(world):
    """Devices in every place of community_a, created a minute apart: Alpha Gate is the oldest."""
    w = world
    for mac in ("0C1105AB0001", "0C1105AB0002", "0C1105CD0003"):
        make_mac(w.installer_a, mac)
    made = [
        make_device(w.community_a, "Zulu Panel", building=w.building_a, mac="0C1105AB0001"),
        make_device(
            w.community_a, "Mike Monitor", apartment=w.apartment_a, device_type=2, mac="0C1105AB0002"
        ),
        make_device(w.community_a, "Charlie Gate", mac="0C1105CD0003"),
    ]
    base = timezone.now() - dt.timedelta(hours=1)
    for minutes, device in enumerate([w.device_a, *made]):
        Device.objects.filter(pk=device.pk).update(created=base + dt.timedelta(minutes=minutes))
    return w


def community_list(w) -> str:
    return reverse("devices:community_devices", args=[w.community_a.pk])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Alpha Gate", "Charlie Gate", "Mike Monitor", "Zulu Panel"]),
        ({"q": "GATE"}, ["Alpha Gate", "Charlie Gate"]),
        ({"q": "monitor"}, ["Mike Monitor"]),
        ({"q": "0c:11:05:ab"}, ["Mike Monitor", "Zulu Panel"]),
        ({"q": "AB-00-02"}, ["Mike Monitor"]),
        ({"q": "0C1105CD0003"}, ["Charlie Gate"]),
        ({"device_type": "2"}, ["Mike Monitor"]),
        ({"device_type": "0", "q": "a"}, ["Alpha Gate", "Charlie Gate", "Zulu Panel"]),
        ({"q": "nothing-like-it"}, []),
    ],
)
def test_community_list_searches_name_and_mac(client, listed, params, expected):
    client.force_login(listed.installer_a)
    assert row_names(client.get(community_list(listed), params)) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alpha Gate", "Charlie Gate", "Mike Monitor", "Zulu Panel"]),
        ("-name", ["Zulu Panel", "Mike Monitor", "Charlie Gate", "Alpha Gate"]),
        ("created", ["Alpha Gate", "Zulu Panel", "Mike Monitor", "Charlie Gate"]),
        ("-created", ["Charlie Gate", "Mike Monitor", "Zulu Panel", "Alpha Gate"]),
        ("device_type", ["Alpha Gate", "Charlie Gate", "Mike Monitor", "Zulu Panel"]),  # not orderable
    ],
)
def test_community_list_sorts_by_name_and_created_time(client, listed, sort, expected):
    client.force_login(listed.installer_a)
    assert row_names(client.get(community_list(listed), {"sort": sort})) == expected


def test_community_list_columns_and_stored_count(client, listed):
    w = listed
    client.force_login(w.installer_a)
    response = client.get(community_list(w))
    w.community_a.refresh_from_db()
    assert response.context["table"].paginator.count == w.community_a.device_count == 4
    rows = {row.record.name: row for row in response.context["table"].page.object_list}
    assert rows["Mike Monitor"].get_cell("location") == "Alpha Block-101"
    assert rows["Zulu Panel"].get_cell("location") == "Alpha Block"
    assert rows["Alpha Gate"].get_cell("location") == "Public Area"
    assert rows["Alpha Gate"].get_cell("mac") == w.mac_a.mac
    assert "Offline" in rows["Alpha Gate"].get_cell("status")
    page = response.content.decode()
    assert "Bravo Gate" not in page
    assert 'data-testid="in-all">4 In All' in page
    orderable = {c.name for c in response.context["table"].columns if c.orderable}
    assert orderable == {"name", "created"}


def test_community_list_time_follows_the_communitys_zone_and_format(client, listed):
    w = listed
    Community.objects.filter(pk=w.community_a.pk).update(
        time_zone="Asia/Tokyo", time_format="12h", date_format="d/m/Y"
    )
    when = dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.UTC)
    Device.objects.filter(pk=w.device_a.pk).update(created=when)
    client.force_login(w.installer_a)
    response = client.get(community_list(w), {"q": "Alpha"})
    (row,) = response.context["table"].page.object_list
    assert row.get_cell("created") == "02/03/2024 08:30:00 AM"


def test_online_device_shows_online(client, listed):
    Device.objects.filter(pk=listed.device_a.pk).update(last_seen_at=timezone.now())
    client.force_login(listed.installer_a)
    response = client.get(reverse("devices:public_devices", args=[listed.community_a.pk]))
    rows = {row.record.name: row for row in response.context["table"].page.object_list}
    assert "Online" in rows["Alpha Gate"].get_cell("status")


def test_place_lists_show_only_their_place(client, listed):
    w = listed
    client.force_login(w.installer_a)
    public = client.get(reverse("devices:public_devices", args=[w.community_a.pk]))
    assert row_names(public) == ["Alpha Gate", "Charlie Gate"]
    building = client.get(reverse("devices:building_devices", args=[w.building_a.pk]))
    assert row_names(building) == ["Zulu Panel"]
    assert [c.verbose_name for c in building.context["table"].columns] == [
        "MAC",
        "Device Name",
        "Device Type",
        "Status",
        "Binding Time",
        "Action",
    ]
    apartment = client.get(reverse("residents:apartment_detail", args=[w.apartment_a.pk])).content.decode()
    assert "Mike Monitor" in apartment and "Zulu Panel" not in apartment


def test_lists_offer_new_and_actions_to_the_installer(client, listed):
    w = listed
    client.force_login(w.sub_a)
    for url in (
        reverse("devices:public_devices", args=[w.community_a.pk]),
        reverse("devices:building_devices", args=[w.building_a.pk]),
        reverse("residents:apartment_detail", args=[w.apartment_a.pk]),
    ):
        page = client.get(url).content.decode()
        assert 'data-testid="new-device"' in page, url
        assert 'title="Edit"' in page and 'title="Delete"' in page, url


def test_dashboard_device_count_follows_adds_and_deletes(client, world):
    w = world
    client.force_login(w.installer_a)

    def shown() -> str:
        table = client.get(reverse("communities:dashboard")).context["table"]
        cells = {row.record.pk: row.get_cell("device_count") for row in table.page.object_list}
        return str(cells[w.community_a.pk])

    assert shown() == "1"
    client.post(public_add(w), device_post(make_mac(w.installer_a).mac))
    assert shown() == "2"
    client.post(reverse("devices:device_delete", args=[w.device_a.pk]))
    assert shown() == "1"


# --- roles and tenants ------------------------------------------------------------------------------


def test_property_manager_sees_lists_and_info_without_any_change_button(client, listed):
    w = listed
    client.force_login(w.pm_a)
    for url in (
        community_list(w),
        reverse("devices:public_devices", args=[w.community_a.pk]),
        reverse("devices:building_devices", args=[w.building_a.pk]),
        reverse("residents:apartment_detail", args=[w.apartment_a.pk]),
        reverse("devices:device_detail", args=[w.device_a.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert "Alpha Gate" in page or "Zulu Panel" in page or "Mike Monitor" in page, url
        assert 'data-testid="new-device"' not in page, url
        for name in ("device_edit", "device_delete"):
            assert reverse(f"devices:{name}", args=[w.device_a.pk]) not in page, url
    assert client.get(public_add(w)).status_code == 403
    assert client.get(reverse("devices:device_edit", args=[w.device_a.pk])).status_code == 403
    assert client.post(reverse("devices:device_delete", args=[w.device_a.pk])).status_code == 403


@pytest.mark.parametrize("who", ["installer_b", "pm_nothing"])
def test_other_tenant_gets_404(client, world, who):
    w = world
    client.force_login(getattr(w, who))
    urls = [
        reverse("devices:community_devices", args=[w.community_a.pk]),
        reverse("devices:public_devices", args=[w.community_a.pk]),
        reverse("devices:building_devices", args=[w.building_a.pk]),
        reverse("devices:device_detail", args=[w.device_a.pk]),
    ]
    if who == "installer_b":
        urls += [
            public_add(w),
            building_add(w),
            apartment_add(w),
            reverse("devices:device_edit", args=[w.device_a.pk]),
            reverse("devices:device_delete", args=[w.device_a.pk]),
        ]
    for url in urls:
        assert client.get(url).status_code == 404, url


def test_other_tenants_posts_change_nothing(client, world):
    w = world
    client.force_login(w.installer_b)
    mac = make_mac(w.installer_b)
    assert client.post(public_add(w), device_post(mac.mac)).status_code == 404
    edit = reverse("devices:device_edit", args=[w.device_a.pk])
    assert client.post(edit, device_post(mac.mac, name="Hijacked")).status_code == 404
    assert client.post(reverse("devices:device_delete", args=[w.device_a.pk])).status_code == 404
    w.device_a.refresh_from_db()
    assert w.device_a.name == "Alpha Gate"
    assert not Device.objects.filter(mac_address=mac).exists()


def test_community_list_never_shows_another_tenants_device(client, world):
    w = world
    client.force_login(w.installer_a)
    page = client.get(community_list(w), {"q": "Gate"}).content.decode()
    assert "Alpha Gate" in page and "Bravo Gate" not in page
    response = client.get(community_list(w), {"q": w.mac_b.mac})
    assert row_names(response) == []
    assert "Bravo Gate" not in response.content.decode()

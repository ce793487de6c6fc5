"""Feature plan Basic: "you are required to add at least one indoor monitor in every apartment".

Add APT of a Basic community asks for the indoor monitor (MAC, Device Name, Network Group,
Arming Function, Relay1/2) and adds it with the apartment, or writes nothing; the apartment
then cannot lose its last indoor monitor. Premium communities ask for none.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from communities.models import Community
from devices import services as devices
from devices.choices import DeviceType, NetworkGroup, Place
from devices.models import Device, Relay
from maclib.models import MacAddress
from residents import services
from residents.models import Apartment, Resident
from tests.factories import CommunityFactory, apt_form, build_world, make_building, make_device, make_mac

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
MONITOR = DeviceType.INDOOR_MONITOR
DOOR = DeviceType.MULTI_TENANT_DOOR_PHONE
MONITOR_FIELDS = {
    "monitor_mac",
    "monitor_name",
    "monitor_network_group",
    "monitor_arming_function",
    "monitor_relay1_enabled",
    "monitor_relay1_name",
    "monitor_relay2_enabled",
    "monitor_relay2_name",
}


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def basic(world):
    """A Basic community of installer A with one building."""
    community = CommunityFactory(installer=world.installer_a, name="Basic Court", feature_plan="basic")
    return make_building(community, "Basic Block")


def apt_post(**overrides) -> dict:
    return apt_form(**{"number": "201", **overrides})


def monitor_post(mac: str, **overrides) -> dict:
    data = {
        "monitor_mac": mac,
        "monitor_name": "Living Room",
        "monitor_network_group": "3",
        "monitor_arming_function": "on",
        "monitor_relay1_enabled": "on",
        "monitor_relay1_name": "Front Door",
        "monitor_relay2_name": "",
    }
    data.update(overrides)
    return data


def state(community: Community) -> tuple:
    """Everything Add APT could write: rows and the community's stored counters."""
    community.refresh_from_db()
    return (
        Apartment.objects.filter(community=community).count(),
        Resident.objects.filter(community=community).count(),
        Device.objects.filter(community=community).count(),
        Relay.objects.filter(device__community=community).count(),
        community.apartment_count,
        community.end_user_count,
        community.device_count,
    )


def add_basic_apt(building, number="301", **monitor_fields):
    """A Basic apartment with its indoor monitor, through the service; returns (apartment, monitor)."""
    installer = building.community.installer
    apt = devices.apartment_create_with_indoor_monitor(
        actor=installer,
        building=building,
        apartment={"number": number},
        resident=None,
        indoor_monitor={
            "mac": make_mac(installer).mac,
            "fields": {"name": f"Monitor {number}", **monitor_fields},
            "relays": [],
        },
    )
    return apt, Device.objects.get(apartment=apt, device_type=MONITOR)


def field_errors(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


# --- the Add APT dialog -----------------------------------------------------------------------------


@pytest.mark.parametrize("plan", ["basic", "1monitor_all"])
def test_add_apt_of_a_monitor_plan_shows_the_device_block(client, world, plan):
    community = CommunityFactory(installer=world.installer_a, feature_plan=plan)
    building = make_building(community, "B1")
    client.force_login(world.installer_a)
    for response in (
        client.get(reverse("residents:apartment_add", args=[building.pk])),
        client.get(reverse("residents:apartment_add", args=[building.pk]), **HTMX),
    ):
        form = response.context["form"]
        assert set(form.fields) >= MONITOR_FIELDS
        assert form.fields["monitor_mac"].required and form.fields["monitor_name"].required
        html = response.content.decode()
        assert 'data-testid="indoor-monitor-fields"' in html
        for name in MONITOR_FIELDS:
            assert f'name="{name}"' in html


def test_premium_add_apt_and_any_edit_apt_show_no_device_block(client, world, basic):
    apt, _ = add_basic_apt(basic)
    client.force_login(world.installer_a)
    for url in (
        reverse("residents:apartment_add", args=[world.building_a.pk]),  # Alpha Gardens: Premium
        reverse("residents:apartment_edit", args=[apt.pk]),
        reverse("residents:apartment_edit", args=[world.apartment_a.pk]),
    ):
        response = client.get(url)
        assert not MONITOR_FIELDS & set(response.context["form"].fields), url
        assert 'data-testid="indoor-monitor-fields"' not in response.content.decode()


def test_basic_apt_without_mac_is_an_error_at_the_mac_and_writes_nothing(client, world, basic):
    before = state(basic.community)
    client.force_login(world.installer_a)
    response = client.post(
        reverse("residents:apartment_add", args=[basic.pk]), apt_post(**monitor_post(mac=""))
    )
    assert response.status_code == 422
    assert "required" in field_errors(response, "monitor_mac")
    assert 'data-field-error="monitor_mac"' in response.content.decode()
    assert state(basic.community) == before


def test_the_service_refuses_a_basic_apt_without_indoor_monitor(world, basic):
    before = state(basic.community)
    with pytest.raises(ValidationError) as exc:
        services.apartment_create(
            actor=world.installer_a,
            building=basic,
            apartment={"number": "201"},
            resident={"first_name": "Ann", "last_name": "Lee"},
        )
    assert "monitor_mac" in exc.value.message_dict
    assert state(basic.community) == before


def test_basic_apt_with_a_library_mac_adds_the_apartment_and_its_bound_indoor_monitor(client, world, basic):
    entry = make_mac(world.installer_a)
    before = state(basic.community)
    client.force_login(world.installer_a)
    response = client.post(
        reverse("residents:apartment_add", args=[basic.pk]),
        apt_post(**monitor_post(mac=entry.mac.lower())),
    )
    assert response.status_code == 302
    apt = Apartment.objects.get(community=basic.community, number="201")
    monitor = Device.objects.get(apartment=apt)
    assert (monitor.device_type, monitor.place, monitor.building) == (MONITOR, Place.APARTMENT, basic)
    assert monitor.mac_address == entry
    assert (monitor.name, monitor.network_group, monitor.arming_function) == (
        "Living Room",
        NetworkGroup.GROUP_3,
        True,
    )
    relays = list(monitor.relays.values_list("index", "enabled", "name"))
    assert relays == [(1, True, "Front Door"), (2, False, "")]
    assert apt.residents.get().first_name == "Ann"
    after = state(basic.community)
    assert after[:3] == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert after[4:] == (before[4] + 1, before[5] + 1, before[6] + 1)


@pytest.mark.parametrize("whose", ["installer_b_free", "installer_b_bound", "unknown", "bound_here"])
def test_a_mac_that_is_not_free_in_the_installers_library_is_refused(client, world, basic, whose):
    mac = {
        "installer_b_free": lambda: make_mac(world.installer_b).mac,
        "installer_b_bound": lambda: world.mac_b.mac,
        "unknown": lambda: "0C1105DEAD99",
        "bound_here": lambda: world.mac_a.mac,
    }[whose]()
    before = state(basic.community)
    client.force_login(world.installer_a)
    response = client.post(
        reverse("residents:apartment_add", args=[basic.pk]), apt_post(**monitor_post(mac=mac))
    )
    assert response.status_code == 422
    message = field_errors(response, "monitor_mac")
    assert "not in your MAC library" in message or "already bound" in message
    assert "Bravo" not in message
    assert state(basic.community) == before
    if whose == "installer_b_free":
        assert not Device.objects.filter(mac_address__mac=mac).exists()


def test_monitor_errors_from_the_service_land_at_their_fields(client, world, basic):
    before = state(basic.community)
    client.force_login(world.installer_a)
    data = apt_post(**monitor_post(mac=make_mac(world.installer_a).mac, monitor_relay1_name=""))
    response = client.post(reverse("residents:apartment_add", args=[basic.pk]), data)
    assert response.status_code == 422
    assert "Relay Name of Relay1" in field_errors(response, "monitor_relay1_name")
    assert 'data-field-error="monitor_relay1_name"' in response.content.decode()
    assert state(basic.community) == before


def test_the_service_reports_a_blank_device_name_as_monitor_name(world, basic):
    with pytest.raises(ValidationError) as exc:
        devices.apartment_create_with_indoor_monitor(
            actor=world.installer_a,
            building=basic,
            apartment={"number": "201"},
            resident=None,
            indoor_monitor={"mac": make_mac(world.installer_a).mac, "fields": {"name": "  "}, "relays": []},
        )
    assert "monitor_name" in exc.value.message_dict


def test_apartment_and_monitor_errors_come_in_one_round(client, world, basic):
    client.force_login(world.installer_a)
    data = apt_post(number="#1", **monitor_post(mac="", monitor_name=""))
    errors = client.post(reverse("residents:apartment_add", args=[basic.pk]), data).context["form"].errors
    assert {"number", "monitor_mac", "monitor_name"} <= set(errors)


def test_premium_needs_no_indoor_monitor(client, world):
    before = state(world.community_a)
    client.force_login(world.installer_a)
    response = client.post(reverse("residents:apartment_add", args=[world.building_a.pk]), apt_post())
    assert response.status_code == 302
    apt = Apartment.objects.get(community=world.community_a, number="201")
    assert not apt.devices.exists()
    assert state(world.community_a)[2] == before[2]
    # Nor does the service ask.
    apt2 = services.apartment_create(
        actor=world.installer_a, building=world.building_a, apartment={"number": "202"}, resident=None
    )
    assert not apt2.devices.exists()


# --- the apartment keeps its last indoor monitor --------------------------------------------------------


def test_deleting_the_last_indoor_monitor_of_a_basic_apartment_is_refused(world, basic):
    _, monitor = add_basic_apt(basic)
    with pytest.raises(ValidationError) as exc:
        devices.device_delete(actor=world.installer_a, device=monitor)
    assert exc.value.messages == [
        "APT 301 must keep an indoor monitor: Basic Court uses the Basic feature plan. "
        "Add another indoor monitor first."
    ]
    assert Device.objects.filter(pk=monitor.pk).exists()
    assert MacAddress.objects.get(pk=monitor.mac_address_id).device == monitor


def test_deleting_one_of_two_indoor_monitors_is_allowed(world, basic):
    apt, first = add_basic_apt(basic)
    second = make_device(basic.community, "Bedroom", apartment=apt, device_type=MONITOR)
    devices.device_delete(actor=world.installer_a, device=first)
    assert list(Device.objects.filter(apartment=apt)) == [second]
    with pytest.raises(ValidationError):
        devices.device_delete(actor=world.installer_a, device=second)


def test_other_devices_of_a_basic_apartment_delete_freely(world, basic):
    apt, _ = add_basic_apt(basic)
    door = make_device(basic.community, "Apt Door", apartment=apt, device_type=DOOR)
    devices.device_delete(actor=world.installer_a, device=door)
    assert not Device.objects.filter(pk=door.pk).exists()


def _retype(actor, device, device_type):
    return devices.device_update(
        actor=actor,
        device=device,
        mac=device.mac_address.mac,
        fields={"device_type": device_type, "name": device.name},
        relays=[{"enabled": True, "name": "Door", "access_methods": []}],
    )


def test_changing_the_last_indoor_monitors_type_away_is_refused(world, basic):
    apt, monitor = add_basic_apt(basic)
    with pytest.raises(ValidationError) as exc:
        _retype(world.installer_a, monitor, DOOR)
    assert "must keep an indoor monitor" in exc.value.message_dict["device_type"][0]
    monitor.refresh_from_db()
    assert monitor.device_type == MONITOR
    # With a second indoor monitor in the apartment, the first may become a door phone.
    make_device(basic.community, "Bedroom", apartment=apt, device_type=MONITOR)
    assert _retype(world.installer_a, monitor, DOOR).device_type == DOOR


def test_premium_allows_removing_the_only_indoor_monitor(world):
    monitor = make_device(world.community_a, "Monitor", apartment=world.apartment_a, device_type=MONITOR)
    other = make_device(world.community_a, "Monitor 2", apartment=world.apartment_a, device_type=MONITOR)
    _retype(world.installer_a, other, DOOR)
    devices.device_delete(actor=world.installer_a, device=monitor)
    assert not Device.objects.filter(apartment=world.apartment_a, device_type=MONITOR).exists()


def test_a_basic_apartment_itself_can_still_be_deleted(world, basic):
    apt, monitor = add_basic_apt(basic)
    services.apartment_delete(actor=world.installer_a, apartment=apt)
    assert not Device.objects.filter(pk=monitor.pk).exists()
    assert state(basic.community) == (0, 0, 0, 0, 0, 0, 0)

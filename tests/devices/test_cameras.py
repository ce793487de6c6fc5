"""Third-party cameras: the service's rules, then the Add/Edit Camera dialog, the lists and delete.

Each rule test states one rule of the spec's Add Camera form (RTSP format, required fields,
lengths, Link Device only to R29 door phones of the camera's own place, the write-only password)
and fails when the rule is taken out of devices.services. Secrecy of the password at rest, in
pages and in logs is tested in test_camera_secrecy.py.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.formatting import community_datetime
from devices import selectors, services
from devices.choices import DeviceType, Place
from devices.models import Device, ThirdPartyCamera
from tests.factories import build_world, make_apartment, make_building, make_camera, make_device, make_mac

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
R29 = "29.30.2.14"
R28 = "28.30.10.7"
DOOR = DeviceType.MULTI_TENANT_DOOR_PHONE
MONITOR = DeviceType.INDOOR_MONITOR


@pytest.fixture
def world():
    return build_world()


def create(world, *, building=None, apartment=None, password="pw-1", linked=(), **fields):
    """Add a camera to community_a as installer_a; fields default to a valid public camera."""
    return services.camera_create(
        actor=world.installer_a,
        community=world.community_a,
        building=building,
        apartment=apartment,
        fields={"name": "Yard Cam", "rtsp_address": "rtsp://192.168.1.30:554", "username": "admin", **fields},
        password=password,
        linked_devices=list(linked),
    )


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


def camera_post(**overrides) -> dict:
    data = {
        "name": "Yard Cam",
        "rtsp_address": "rtsp://192.168.1.30:554/stream1",
        "username": "admin",
        "password": "typed-pw-1",
    }
    data.update(overrides)
    return data


# --- RTSP address -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["rtsp://192.168.1.20:554", "rtsp://cam.example.com:8554/stream1", "rtsp://[fe80::1]:554"],
)
def test_rtsp_address_accepts_ip_domain_and_ipv6_with_port(world, address):
    assert create(world, rtsp_address=address).rtsp_address == address


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("http://192.168.1.20:554", "Not an RTSP address"),
        ("rtsp://cam.example.com", "needs a port"),
        ("rtsp://192.168.1.20", "needs a port"),
        ("rtsp://192.168.1.20:0", "from 1 to 65535"),
        ("rtsp://192.168.1.20:70000", "from 1 to 65535"),
        ("rtsp://192.168.1.20:²", "from 1 to 65535"),  # a digit to str.isdigit, not to int()
        ("rtsp://192.168.1.20:٥٥٤", "from 1 to 65535"),  # Arabic-Indic digits
        ("rtsp://u:p@192.168.1.20:554", "Do not put the username or password"),
        ("rtsp://192.168.1.20:554/my stream", "Not an RTSP address"),
        ("rtsp://cam example.com:554", "Not an RTSP address"),
        ("rtsp://999.1.1.1:554", "not an IP address or domain name"),
        ("", "This field cannot be blank"),
    ],
)
def test_rtsp_address_refuses_what_is_not_rtsp_ip_or_domain_and_port(world, address, message):
    with pytest.raises(ValidationError) as exc:
        create(world, name="Bad Cam", rtsp_address=address)
    assert message in " ".join(errors_of(exc)["rtsp_address"])
    assert not ThirdPartyCamera.objects.filter(name="Bad Cam").exists()


# --- required fields and lengths ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "username"])
def test_name_and_username_are_required(world, field):
    with pytest.raises(ValidationError) as exc:
        create(world, **{field: "   "})
    assert field in errors_of(exc)


def test_password_is_required_when_adding(world):
    with pytest.raises(ValidationError) as exc:
        create(world, password="")
    assert errors_of(exc)["password"] == ["Enter the password the camera's manufacturer provided."]


@pytest.mark.parametrize(
    ("field", "limit"), [("name", 64), ("username", 64), ("rtsp_address", 255), ("password", 128)]
)
def test_field_lengths(world, field, limit):
    def value(n):
        if field == "rtsp_address":
            prefix = "rtsp://cam.example.com:554/"
            return prefix + "s" * (n - len(prefix))
        return "x" * n

    values = {"password": value(limit + 1)} if field == "password" else {field: value(limit + 1)}
    with pytest.raises(ValidationError) as exc:
        create(world, **values)
    assert field in errors_of(exc)
    values = {"password": value(limit)} if field == "password" else {field: value(limit)}
    camera = create(world, **values)
    if field == "password":
        assert services.camera_password(camera) == value(limit)
    else:
        assert getattr(camera, field) == value(limit)


def test_fields_are_stored_trimmed(world):
    camera = create(world, name="  Yard Cam  ", username=" admin ")
    assert (camera.name, camera.username) == ("Yard Cam", "admin")


# --- Link Device: only R29 door phones of the camera's own place -----------------------------------


def test_a_public_camera_links_a_public_r29_door_phone(world):
    assert list(world.camera_a.linked_devices.all()) == [world.device_a]
    camera = create(world, linked=[world.device_a])
    assert list(camera.linked_devices.all()) == [world.device_a]


def test_a_building_camera_cannot_link_a_public_r29(world):
    with pytest.raises(ValidationError) as exc:
        create(world, building=world.building_a, linked=[world.device_a])
    assert errors_of(exc)["linked_devices"] == [
        "Alpha Gate: only R29 door phones of the camera's own building can be linked."
    ]


def test_a_building_camera_cannot_link_a_door_phone_of_another_building(world):
    other = make_building(world.community_a, "Other Block")
    phone = make_device(world.community_a, "Other Door", building=other, firmware_version=R29)
    with pytest.raises(ValidationError) as exc:
        create(world, building=world.building_a, linked=[phone])
    assert "linked_devices" in errors_of(exc)
    own = make_device(world.community_a, "Own Door", building=world.building_a, firmware_version=R29)
    assert list(create(world, building=world.building_a, linked=[own]).linked_devices.all()) == [own]


def test_a_public_camera_cannot_link_a_building_door_phone(world):
    phone = make_device(world.community_a, "Block Door", building=world.building_a, firmware_version=R29)
    with pytest.raises(ValidationError) as exc:
        create(world, linked=[phone])
    assert "linked_devices" in errors_of(exc)


def test_an_r28_door_phone_is_refused(world):
    r28 = make_device(world.community_a, "Old Gate", firmware_version=R28)
    assert r28.model == "R28"
    with pytest.raises(ValidationError) as exc:
        create(world, linked=[r28])
    assert errors_of(exc)["linked_devices"][0].startswith("Old Gate:")


def test_a_door_phone_that_never_reported_its_firmware_is_refused(world):
    unknown = make_device(world.community_a, "New Gate")
    assert unknown.model == ""
    with pytest.raises(ValidationError) as exc:
        create(world, linked=[unknown])
    assert "linked_devices" in errors_of(exc)


@pytest.mark.parametrize("device_type", [DeviceType.GUARD_PHONE, DeviceType.ACCESS_CONTROL])
def test_an_r29_model_device_that_is_not_a_door_phone_is_refused(world, device_type):
    device = make_device(world.community_a, "Guard", device_type=device_type, firmware_version=R29)
    assert device.model == "R29"
    with pytest.raises(ValidationError) as exc:
        create(world, linked=[device])
    assert "linked_devices" in errors_of(exc)


def test_an_apartment_camera_links_only_its_own_apartments_door_phone(world):
    apt_y = make_apartment(world.building_a, "102")
    phone_x = make_device(world.community_a, "X Door", apartment=world.apartment_a, firmware_version=R29)
    phone_y = make_device(world.community_a, "Y Door", apartment=apt_y, firmware_version=R29)
    monitor_x = make_device(
        world.community_a, "X Monitor", apartment=world.apartment_a, device_type=MONITOR, firmware_version=R29
    )
    with pytest.raises(ValidationError) as exc:
        create(world, apartment=world.apartment_a, linked=[phone_y])
    assert errors_of(exc)["linked_devices"] == [
        "Y Door: only R29 door phones of the camera's own apartment can be linked."
    ]
    with pytest.raises(ValidationError):
        create(world, apartment=world.apartment_a, linked=[monitor_x])
    camera = create(world, apartment=world.apartment_a, linked=[phone_x])
    assert list(camera.linked_devices.all()) == [phone_x]
    assert (camera.place, camera.building) == (Place.APARTMENT, world.building_a)


def test_linkable_devices_are_the_r29_door_phones_of_the_place(world):
    make_device(world.community_a, "Public R28", firmware_version=R28)
    make_device(world.community_a, "Public Guard", device_type=DeviceType.GUARD_PHONE, firmware_version=R29)
    single = make_device(
        world.community_a,
        "Public Single",
        device_type=DeviceType.SINGLE_TENANT_DOOR_PHONE,
        firmware_version=R29,
    )
    block = make_device(world.community_a, "Block Door", building=world.building_a, firmware_version=R29)
    apt = make_device(world.community_a, "Apt Door", apartment=world.apartment_a, firmware_version=R29)
    other_community = make_device(world.community_a2, "Towers Gate", firmware_version=R29)
    assert list(selectors.linkable_devices(actor=world.installer_a, camera=world.camera_a)) == [
        world.device_a,
        single,
    ]
    building_cam = create(world, building=world.building_a)
    assert list(selectors.linkable_devices(actor=world.installer_a, camera=building_cam)) == [block]
    apt_cam = create(world, apartment=world.apartment_a)
    assert list(selectors.linkable_devices(actor=world.installer_a, camera=apt_cam)) == [apt]
    assert other_community not in selectors.linkable_devices(actor=world.installer_a, camera=world.camera_a)
    # Another tenant is offered nothing of installer A's.
    assert list(selectors.linkable_devices(actor=world.installer_b, camera=world.camera_a)) == []


# --- the Model chosen at Add Device counts until the device reports its firmware -------------------


def test_a_new_r29_chosen_at_add_device_can_be_linked_before_it_reports(world):
    """A new installation: the door phone is not online yet, its model is the one chosen."""
    gate = make_device(world.community_a, "New Gate", chosen_model="R29")
    assert (gate.model, gate.known_model) == ("", "R29")
    assert gate in selectors.linkable_devices(actor=world.installer_a, camera=world.camera_a)
    assert list(create(world, linked=[gate]).linked_devices.all()) == [gate]


def test_the_reported_model_wins_over_the_chosen_one(world):
    said_r29 = make_device(world.community_a, "Said R29", chosen_model="R29", firmware_version=R28)
    said_r28 = make_device(world.community_a, "Said R28", chosen_model="R28", firmware_version=R29)
    linkable = list(selectors.linkable_devices(actor=world.installer_a, camera=world.camera_a))
    assert said_r28 in linkable and said_r29 not in linkable
    with pytest.raises(ValidationError) as exc:
        create(world, linked=[said_r29])
    assert errors_of(exc)["linked_devices"][0].startswith("Said R29:")
    assert list(create(world, linked=[said_r28]).linked_devices.all()) == [said_r28]


def test_a_chosen_model_other_than_r29_is_not_linkable(world):
    r28 = make_device(world.community_a, "Chosen R28", chosen_model="R28")
    assert r28 not in selectors.linkable_devices(actor=world.installer_a, camera=world.camera_a)
    with pytest.raises(ValidationError):
        create(world, linked=[r28])


def test_the_model_choice_is_for_door_phones_and_their_models(world):
    with pytest.raises(ValidationError) as exc:
        make_device(world.community_a, "Monitor Gate", chosen_model="C313")
    assert "chosen_model" in errors_of(exc)
    # A type without the Model field keeps no chosen model.
    guard = make_device(world.community_a, "Guard", device_type=DeviceType.GUARD_PHONE, chosen_model="R29")
    assert guard.chosen_model == ""
    assert guard not in selectors.linkable_devices(actor=world.installer_a, camera=world.camera_a)


def test_changing_the_chosen_model_of_a_linked_r29_is_refused(world):
    gate = make_device(world.community_a, "New Gate", chosen_model="R29")
    create(world, linked=[gate])
    with pytest.raises(ValidationError) as exc:
        services.device_update(
            actor=world.installer_a,
            device=gate,
            mac=gate.mac_address.mac,
            fields={"chosen_model": "R28"},
            relays=[{"enabled": True, "name": "Door"}],
        )
    assert "Unlink them before changing its model" in errors_of(exc)["chosen_model"][0]


def test_add_device_dialog_offers_the_model_and_link_device_then_offers_the_door_phone(client, world):
    client.force_login(world.installer_a)
    add_device = reverse("devices:public_device_add", args=[world.community_a.pk])
    html = client.get(add_device).content.decode()
    assert 'name="chosen_model"' in html and ">Unknown<" in html and ">R29<" in html
    mac = make_mac(world.installer_a).mac
    post = {
        "device_type": DOOR,
        "mac": mac,
        "network_group": "1",
        "name": "Fresh Gate",
        "all_buildings": "on",
        "chosen_model": "R29",
        "relays": "1",
        "relay1_enabled": "1",
        "relay1_name": "Door",
    }
    assert client.post(add_device, post).status_code == 302
    gate = Device.objects.get(name="Fresh Gate")
    assert gate.chosen_model == "R29" and gate.firmware_version == ""
    add_camera = reverse("devices:public_camera_add", args=[world.community_a.pk])
    form = client.get(add_camera).context["form"]
    assert gate in form.fields["linked_devices"].queryset
    assert "Fresh Gate (R29)" in client.get(add_camera).content.decode()


def test_device_page_says_when_the_chosen_and_reported_models_disagree(client, world):
    agreed = make_device(world.community_a, "Agreed", chosen_model="R29", firmware_version=R29)
    waiting = make_device(world.community_a, "Waiting", chosen_model="R29")
    disagreed = make_device(world.community_a, "Disagreed", chosen_model="R29", firmware_version=R28)
    client.force_login(world.installer_a)

    def page(device):
        return client.get(reverse("devices:device_detail", args=[device.pk])).content.decode()

    assert 'data-testid="model-mismatch"' not in page(agreed)
    assert "not reported yet" in page(waiting)
    html = page(disagreed)
    assert 'data-testid="model-mismatch"' in html
    assert "reports model R28 (firmware 28.30.10.7), not the R29 chosen at Add Device" in html


def test_a_camera_of_another_community_cannot_be_linked_across(world):
    towers_gate = make_device(world.community_a2, "Towers Gate", firmware_version=R29)
    with pytest.raises(ValidationError):
        create(world, linked=[towers_gate])


# --- the write-only password ------------------------------------------------------------------------


def test_the_password_is_stored_encrypted_and_reads_back(world):
    camera = create(world, password="s3cret-yard")
    camera.refresh_from_db()
    assert "s3cret-yard" not in camera.password_ciphertext
    assert services.camera_password(camera) == "s3cret-yard"


@pytest.mark.parametrize("blank", [None, ""])
def test_editing_with_a_blank_password_keeps_the_stored_one(world, blank):
    before = world.camera_a.password_ciphertext
    services.camera_update(
        actor=world.installer_a,
        camera=world.camera_a,
        fields={"name": "Alpha Cam 2"},
        password=blank,
        linked_devices=[world.device_a],
    )
    world.camera_a.refresh_from_db()
    assert world.camera_a.name == "Alpha Cam 2"
    assert world.camera_a.password_ciphertext == before
    assert services.camera_password(world.camera_a) == "cam-secret-1"


def test_editing_with_a_new_password_replaces_it(world):
    services.camera_update(actor=world.installer_a, camera=world.camera_a, fields={}, password="new-pw-2")
    world.camera_a.refresh_from_db()
    assert services.camera_password(world.camera_a) == "new-pw-2"
    # No linked devices passed: the links are cleared, as the form's empty selection means.
    assert world.camera_a.linked_devices.count() == 0


def test_editing_checks_the_links_again(world):
    block = make_device(world.community_a, "Block Door", building=world.building_a, firmware_version=R29)
    with pytest.raises(ValidationError) as exc:
        services.camera_update(
            actor=world.installer_a, camera=world.camera_a, fields={}, linked_devices=[block]
        )
    assert "linked_devices" in errors_of(exc)
    assert list(world.camera_a.linked_devices.all()) == [world.device_a]


# --- who may write ---------------------------------------------------------------------------------


def test_property_manager_cannot_add_change_or_delete(world):
    with pytest.raises(PermissionDenied):
        services.camera_create(
            actor=world.pm_a,
            community=world.community_a,
            fields={"name": "X", "rtsp_address": "rtsp://1.2.3.4:554", "username": "a"},
            password="p",
        )
    with pytest.raises(PermissionDenied):
        services.camera_update(actor=world.pm_a, camera=world.camera_a, fields={"name": "X"})
    with pytest.raises(PermissionDenied):
        services.camera_delete(actor=world.pm_a, camera=world.camera_a)


def test_another_installer_cannot_touch_the_camera(world):
    # Another tenant's camera and community are not found.
    with pytest.raises(Http404):
        services.camera_update(actor=world.installer_b, camera=world.camera_a, fields={"name": "X"})
    with pytest.raises(Http404):
        services.camera_delete(actor=world.installer_b, camera=world.camera_a)
    with pytest.raises(Http404):
        services.camera_create(
            actor=world.installer_b,
            community=world.community_a,
            fields={"name": "X", "rtsp_address": "rtsp://1.2.3.4:554", "username": "a"},
            password="p",
        )
    assert ThirdPartyCamera.objects.filter(pk=world.camera_a.pk, name="Alpha Cam").exists()


def test_a_building_of_another_community_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.camera_create(
            actor=world.installer_a,
            community=world.community_a2,
            building=world.building_a,
            fields={"name": "X", "rtsp_address": "rtsp://1.2.3.4:554", "username": "a"},
            password="p",
        )


# --- views: the dialog in the three places ------------------------------------------------------------


def place_urls(world) -> dict[str, tuple[str, str]]:
    """place -> (Add Camera URL, the list the camera then appears in)."""
    return {
        Place.PUBLIC: (
            reverse("devices:public_camera_add", args=[world.community_a.pk]),
            reverse("devices:public_cameras", args=[world.community_a.pk]),
        ),
        Place.BUILDING: (
            reverse("devices:building_camera_add", args=[world.building_a.pk]),
            reverse("devices:building_cameras", args=[world.building_a.pk]),
        ),
        Place.APARTMENT: (
            reverse("devices:apartment_camera_add", args=[world.apartment_a.pk]),
            reverse("residents:apartment_detail", args=[world.apartment_a.pk]),
        ),
    }


@pytest.mark.parametrize("place", list(Place))
def test_add_camera_in_each_place_through_the_dialog(client, world, place):
    client.force_login(world.installer_a)
    add_url, list_url = place_urls(world)[place]
    page = client.get(add_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'placeholder="rtsp://ip:port or rtsp://domain:port"' in html
    assert 'type="password"' in html
    response = client.post(add_url, camera_post(name=f"{place} cam"))
    assert response.status_code == 302
    assert response["Location"] == list_url
    camera = ThirdPartyCamera.objects.get(name=f"{place} cam")
    assert camera.place == place
    assert camera.community == world.community_a
    assert services.camera_password(camera) == "typed-pw-1"
    assert f"{place} cam" in client.get(list_url).content.decode()


def test_add_camera_through_htmx_redirects_the_page(client, world):
    client.force_login(world.installer_a)
    add_url, list_url = place_urls(world)[Place.PUBLIC]
    modal = client.get(add_url, **HTMX)
    assert modal.status_code == 200 and b"modal-header" in modal.content and b"<html" not in modal.content
    response = client.post(add_url, camera_post(), **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == list_url


def test_add_camera_errors_land_at_their_fields_and_save_nothing(client, world):
    client.force_login(world.installer_a)
    add_url, _ = place_urls(world)[Place.BUILDING]
    response = client.post(
        add_url,
        camera_post(rtsp_address="rtsp://u:p@cam:554", password="", linked_devices=[world.device_a.pk]),
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "rtsp_address" in form.errors or "password" in form.errors
    assert "This field is required." in form.errors["password"]
    # The public door phone is not even offered for a building camera.
    assert "linked_devices" in form.errors
    assert not ThirdPartyCamera.objects.filter(name="Yard Cam").exists()


def test_service_errors_reach_the_form_fields(client, world):
    client.force_login(world.installer_a)
    add_url, _ = place_urls(world)[Place.PUBLIC]
    response = client.post(add_url, camera_post(rtsp_address="rtsp://u:p@cam:554"))
    assert response.status_code == 422
    assert "Do not put the username or password" in response.context["form"].errors["rtsp_address"][0]
    assert b'data-field-error="rtsp_address"' in response.content


def test_link_device_offers_the_places_r29_door_phones_only(client, world):
    block = make_device(world.community_a, "Block Door", building=world.building_a, firmware_version=R29)
    make_device(world.community_a, "Block R28", building=world.building_a, firmware_version=R28)
    client.force_login(world.installer_a)
    add_url, _ = place_urls(world)[Place.BUILDING]
    form = client.get(add_url).context["form"]
    assert list(form.fields["linked_devices"].queryset) == [block]
    html = client.get(add_url).content.decode()
    assert "only R29 door phones" in html.lower() or "Only R29 door phones" in html
    assert "bi-question-circle" in html
    response = client.post(add_url, {**camera_post(), "linked_devices": [block.pk]})
    assert response.status_code == 302
    assert list(ThirdPartyCamera.objects.get(name="Yard Cam").linked_devices.all()) == [block]


def test_edit_dialog_shows_the_fields_but_never_the_password(client, world):
    client.force_login(world.installer_a)
    url = reverse("devices:camera_edit", args=[world.camera_a.pk])
    for response in (client.get(url), client.get(url, **HTMX)):
        html = response.content.decode()
        assert response.status_code == 200
        assert 'value="rtsp://192.168.1.20:554"' in html
        assert 'value="admin"' in html
        assert "Leave blank to keep the current password." in html
        assert "cam-secret-1" not in html
        assert world.camera_a.password_ciphertext not in html
        assert response.context["form"].initial["linked_devices"] == [world.device_a.pk]


def test_edit_with_blank_password_keeps_it_and_with_a_new_one_replaces_it(client, world):
    client.force_login(world.installer_a)
    url = reverse("devices:camera_edit", args=[world.camera_a.pk])
    post = camera_post(name="Alpha Cam 2", password="", linked_devices=[world.device_a.pk])
    assert client.post(url, post).status_code == 302
    world.camera_a.refresh_from_db()
    assert world.camera_a.name == "Alpha Cam 2"
    assert services.camera_password(world.camera_a) == "cam-secret-1"
    assert client.post(url, {**post, "password": "changed-3"}).status_code == 302
    world.camera_a.refresh_from_db()
    assert services.camera_password(world.camera_a) == "changed-3"
    assert list(world.camera_a.linked_devices.all()) == [world.device_a]


def test_edit_keeps_showing_a_link_that_stopped_qualifying_and_says_why(client, world):
    world.device_a.firmware_version = R28
    world.device_a.save(update_fields=["firmware_version"])
    client.force_login(world.installer_a)
    url = reverse("devices:camera_edit", args=[world.camera_a.pk])
    assert world.device_a in client.get(url).context["form"].fields["linked_devices"].queryset
    response = client.post(url, camera_post(password="", linked_devices=[world.device_a.pk]))
    assert response.status_code == 422
    assert "only R29 door phones" in response.context["form"].errors["linked_devices"][0]
    assert client.post(url, camera_post(password="")).status_code == 302
    assert world.camera_a.linked_devices.count() == 0


def test_edit_redirects_back_to_the_cameras_place(client, world):
    camera = make_camera(world.community_a, "Apt Cam", apartment=world.apartment_a)
    client.force_login(world.installer_a)
    response = client.post(reverse("devices:camera_edit", args=[camera.pk]), camera_post(password=""))
    assert response["Location"] == reverse("residents:apartment_detail", args=[world.apartment_a.pk])


def test_delete_asks_for_confirmation_then_deletes(client, world):
    client.force_login(world.installer_a)
    url = reverse("devices:camera_delete", args=[world.camera_a.pk])
    page = client.get(url, **HTMX)
    assert page.status_code == 200
    assert "Are you sure you want to delete" in page.content.decode()
    assert page.context["summary"] == [
        "the camera “Alpha Cam” (Public Area)",
        "its link to the door phone(s) Alpha Gate (the door phones stay)",
    ]
    assert ThirdPartyCamera.objects.filter(pk=world.camera_a.pk).exists()
    response = client.post(url)
    assert response["Location"] == reverse("devices:public_cameras", args=[world.community_a.pk])
    assert not ThirdPartyCamera.objects.filter(pk=world.camera_a.pk).exists()
    assert world.device_a.__class__.objects.filter(pk=world.device_a.pk).exists()


# --- views: lists -------------------------------------------------------------------------------------


def test_public_list_shows_the_specs_columns_in_the_communitys_time(client, world):
    community = world.community_a
    community.time_zone, community.time_format, community.date_format = "Asia/Tokyo", "12h", "d/m/Y"
    community.save(update_fields=["time_zone", "time_format", "date_format"])
    make_camera(community, "Lonely Cam", rtsp_address="rtsp://10.9.9.9:8554/only")
    client.force_login(world.installer_a)
    response = client.get(reverse("devices:public_cameras", args=[community.pk]))
    html = response.content.decode()
    table = response.context["table"]
    assert [c.header for c in table.columns] == ["Device Name", "Link Device", "Created Time", "Action"]
    rows = {row.record.name: row for row in table.page.object_list}
    assert rows["Alpha Cam"].get_cell("linked") == "Alpha Gate"
    assert rows["Lonely Cam"].get_cell("linked") == "--"
    created = community_datetime(world.camera_a.created, community)
    assert created in html and (" AM" in created or " PM" in created)
    # The RTSP address stays in the edit dialog, out of the list.
    assert "rtsp://" not in html
    assert reverse("devices:camera_edit", args=[world.camera_a.pk]) in html
    assert reverse("devices:camera_delete", args=[world.camera_a.pk]) in html
    assert reverse("devices:public_camera_add", args=[community.pk]) in html


def test_each_list_shows_only_its_places_cameras(client, world):
    block_cam = make_camera(world.community_a, "Block Cam", building=world.building_a)
    apt_cam = make_camera(world.community_a, "Apt Cam", apartment=world.apartment_a)
    make_camera(world.community_a2, "Towers Cam")
    client.force_login(world.installer_a)

    def names(url):
        return [row.record.name for row in client.get(url).context["table"].page.object_list]

    assert names(reverse("devices:public_cameras", args=[world.community_a.pk])) == ["Alpha Cam"]
    assert names(reverse("devices:building_cameras", args=[world.building_a.pk])) == [block_cam.name]
    page = client.get(reverse("residents:apartment_detail", args=[world.apartment_a.pk]))
    assert [c.name for c in page.context["cameras"]] == [apt_cam.name]
    html = page.content.decode()
    assert "1 Third Party Device<" in html
    assert reverse("devices:apartment_camera_add", args=[world.apartment_a.pk]) in html
    assert reverse("devices:camera_edit", args=[apt_cam.pk]) in html


def test_tabs_mark_third_party_devices_active(client, world):
    client.force_login(world.installer_a)
    html = client.get(reverse("devices:building_cameras", args=[world.building_a.pk])).content.decode()
    assert (
        'aria-current="page" href="{}"'.format(
            reverse("devices:building_cameras", args=[world.building_a.pk])
        )
        in html
    )


def test_property_manager_sees_the_lists_without_any_write_button(client, world):
    apt_cam = make_camera(world.community_a, "Apt Cam", apartment=world.apartment_a)
    block_cam = make_camera(world.community_a, "Block Cam", building=world.building_a)
    client.force_login(world.pm_a)
    write_urls = [
        *[add for add, _ in place_urls(world).values()],
        *[
            reverse(f"devices:camera_{a}", args=[c.pk])
            for c in (world.camera_a, apt_cam, block_cam)
            for a in ("edit", "delete")
        ],
    ]
    for url, name in (
        (reverse("devices:public_cameras", args=[world.community_a.pk]), "Alpha Cam"),
        (reverse("devices:building_cameras", args=[world.building_a.pk]), "Block Cam"),
        (reverse("residents:apartment_detail", args=[world.apartment_a.pk]), "Apt Cam"),
    ):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert name in html
        assert not [u for u in write_urls if u in html]
    for url in write_urls:
        assert client.get(url).status_code == 403
        assert client.post(url, camera_post()).status_code == 403
    assert ThirdPartyCamera.objects.filter(pk=apt_cam.pk, name="Apt Cam").exists()


def test_another_installer_gets_404_everywhere(client, world):
    client.force_login(world.installer_b)
    urls = [
        reverse("devices:public_cameras", args=[world.community_a.pk]),
        reverse("devices:building_cameras", args=[world.building_a.pk]),
        *[add for add, _ in place_urls(world).values()],
        reverse("devices:camera_edit", args=[world.camera_a.pk]),
        reverse("devices:camera_delete", args=[world.camera_a.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, camera_post()).status_code in (404, 405), url
    world.camera_a.refresh_from_db()
    assert world.camera_a.name == "Alpha Cam"
    assert ThirdPartyCamera.objects.count() == 1


def test_sub_installer_adds_and_edits_like_the_installer(client, world):
    client.force_login(world.sub_a)
    add_url, _ = place_urls(world)[Place.PUBLIC]
    assert client.post(add_url, camera_post(name="Sub Cam")).status_code == 302
    camera = ThirdPartyCamera.objects.get(name="Sub Cam")
    url = reverse("devices:camera_edit", args=[camera.pk])
    assert client.post(url, camera_post(name="Sub Cam 2", password="")).status_code == 302


# --- views: constant queries ------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_lists_run_a_constant_number_of_queries(client, world):
    community, building, apartment = world.community_a, world.building_a, world.apartment_a
    block_door = make_device(community, "Block Door", building=building, firmware_version=R29)
    apt_door = make_device(community, "Apt Door", apartment=apartment, firmware_version=R29)
    urls = [
        reverse("devices:public_cameras", args=[community.pk]),
        reverse("devices:building_cameras", args=[building.pk]),
        reverse("residents:apartment_detail", args=[apartment.pk]),
    ]
    make_camera(community, "B0", building=building, linked_devices=[block_door])
    make_camera(community, "A0", apartment=apartment, linked_devices=[apt_door])
    client.force_login(world.installer_a)
    small = [_queries(client, url) for url in urls]
    for i in range(1, 7):
        make_camera(community, f"P{i}", linked_devices=[world.device_a])
        make_camera(community, f"B{i}", building=building, linked_devices=[block_door])
        make_camera(community, f"A{i}", apartment=apartment, linked_devices=[apt_door])
    large = [_queries(client, url) for url in urls]
    assert large == small


# --- community node: Third Party Devices -------------------------------------------------------------


def community_cameras_url(world) -> str:
    return reverse("devices:community_cameras", args=[world.community_a.pk])


def test_community_node_has_a_third_party_devices_tab(client, world):
    client.force_login(world.installer_a)
    for url in (
        reverse("residents:community_residents", args=[world.community_a.pk]),
        reverse("devices:community_devices", args=[world.community_a.pk]),
    ):
        tab = f'href="{community_cameras_url(world)}">Third Party Devices</a>'
        assert tab in client.get(url).content.decode()
    html = client.get(community_cameras_url(world)).content.decode()
    assert f'aria-current="page" href="{community_cameras_url(world)}"' in html


def test_community_cameras_lists_every_camera_with_its_location(client, world):
    make_camera(world.community_a, "Block Cam", building=world.building_a)
    make_camera(world.community_a, "Apt Cam", apartment=world.apartment_a)
    make_camera(world.community_a2, "Towers Cam")
    client.force_login(world.installer_a)
    response = client.get(community_cameras_url(world))
    table = response.context["table"]
    headers = [c.header for c in table.columns]
    assert headers == ["Device Name", "Location", "Link Device", "Created Time", "Action"]
    listed = {row.get_cell("name"): row.get_cell("location") for row in table.paginated_rows}
    assert listed == {
        "Alpha Cam": "Public Area",
        "Block Cam": "Alpha Block",
        "Apt Cam": "Alpha Block-101",
    }
    assert "Towers Cam" not in response.content.decode()


@pytest.mark.parametrize(("q", "expected"), [("cam", {"Alpha Cam", "Block Cam"}), ("BLOCK", {"Block Cam"})])
def test_community_cameras_search_by_device_name(client, world, q, expected):
    make_camera(world.community_a, "Block Cam", building=world.building_a)
    client.force_login(world.installer_a)
    table = client.get(community_cameras_url(world), {"q": q}).context["table"]
    assert {row.get_cell("name") for row in table.paginated_rows} == expected


def test_community_cameras_for_another_installer_is_404(client, world):
    client.force_login(world.installer_b)
    assert client.get(community_cameras_url(world)).status_code == 404


def test_community_cameras_run_a_constant_number_of_queries(client, world):
    community, building, apartment = world.community_a, world.building_a, world.apartment_a
    block_door = make_device(community, "Block Door", building=building, firmware_version=R29)
    make_camera(community, "B0", building=building, linked_devices=[block_door])
    client.force_login(world.installer_a)
    small = _queries(client, community_cameras_url(world))
    for i in range(1, 7):
        make_camera(community, f"P{i}", linked_devices=[world.device_a])
        make_camera(community, f"B{i}", building=building, linked_devices=[block_door])
        make_camera(community, f"A{i}", apartment=apartment)
    assert _queries(client, community_cameras_url(world)) == small
    assert _queries(client, community_cameras_url(world) + "?q=B") == small

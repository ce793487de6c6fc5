"""Delete dialogs say before the click what the service would refuse, and a community's name
must be typed to delete it.

The dialog's reason comes from the same service function the delete asks (building_delete_refusal,
mac_delete_refusal, device_delete_refusal), so the two cannot disagree.
"""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from communities import services as community_services
from communities.choices import FeaturePlan
from communities.models import Building, Community
from devices import services as device_services
from devices.models import Device
from maclib import services as mac_services
from maclib.models import MacAddress
from residents.services import apartment_delete
from tests.factories import build_world, make_building, make_device, make_mac

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
DISABLED_SUBMIT = re.compile(r'<button class="btn btn-danger" type="submit" disabled')


@pytest.fixture
def world():
    return build_world()


def refusal_of(html: str) -> str:
    match = re.search(r'data-testid="delete-refusal"><i[^>]*></i> ([^<]*)</div>', html)
    return html_lib.unescape(match.group(1)) if match else ""


# --- a building that still holds apartments ------------------------------------------------------


def test_building_dialog_says_why_and_disables_delete_while_it_holds_apartments(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:building_delete", args=[world.building_a.pk])
    for html in (client.get(url).content.decode(), client.get(url, **HTMX).content.decode()):
        assert refusal_of(html) == "Alpha Block still holds 1 apartment(s). Delete or move them first."
        assert DISABLED_SUBMIT.search(html)
    # A forged POST is still refused by the service, with the same words.
    with pytest.raises(ValidationError) as exc:
        community_services.building_delete(actor=world.installer_a, building=world.building_a)
    assert exc.value.messages == [community_services.building_delete_refusal(world.building_a)]


def test_building_dialog_of_an_empty_building_offers_delete(client, world):
    empty = make_building(world.community_a, "Empty Block")
    client.force_login(world.installer_a)
    html = client.get(reverse("communities:building_delete", args=[empty.pk])).content.decode()
    assert refusal_of(html) == "" and not DISABLED_SUBMIT.search(html)
    assert "the building “Empty Block”" in html
    assert client.post(reverse("communities:building_delete", args=[empty.pk])).status_code == 302
    assert not Building.objects.filter(pk=empty.pk).exists()


# --- a MAC bound to a device ------------------------------------------------------------------------


def test_mac_dialog_says_which_device_holds_it_and_disables_remove(client, world):
    client.force_login(world.installer_a)
    html = client.get(reverse("maclib:mac_delete", args=[world.mac_a.pk]), **HTMX).content.decode()
    reason = refusal_of(html)
    where = "“Alpha Gate” (Alpha Gardens, Public Area)"
    assert reason.startswith(f"{world.mac_a.mac} is bound to the device {where}")
    assert re.search(r'type="submit" disabled[^>]*>Remove</button>', html)
    with pytest.raises(ValidationError) as exc:
        mac_services.mac_delete(actor=world.installer_a, mac=world.mac_a)
    assert exc.value.messages == [reason]


def test_mac_dialog_for_a_distributor_does_not_name_the_installers_device(client, world):
    client.force_login(world.distributor_a)
    html = client.get(reverse("maclib:mac_delete", args=[world.mac_a.pk])).content.decode()
    assert "bound to a device (Public Device) of the installer" in refusal_of(html)
    assert "Alpha Gate" not in html


def test_mac_dialog_of_an_unbound_mac_offers_remove(client, world):
    free = make_mac(world.installer_a)
    client.force_login(world.installer_a)
    html = client.get(reverse("maclib:mac_delete", args=[free.pk])).content.decode()
    assert refusal_of(html) == "" and "disabled" not in html
    client.post(reverse("maclib:mac_delete", args=[free.pk]))
    assert not MacAddress.objects.filter(pk=free.pk).exists()


# --- the last indoor monitor of a Basic-plan apartment ---------------------------------------------


def test_device_dialog_refuses_the_last_indoor_monitor_of_a_basic_apartment(client, world):
    monitor = make_device(world.community_a, "Only Monitor", apartment=world.apartment_a, device_type=2)
    Community.objects.filter(pk=world.community_a.pk).update(feature_plan=FeaturePlan.BASIC)
    client.force_login(world.installer_a)
    url = reverse("devices:device_delete", args=[monitor.pk])
    html = client.get(url, **HTMX).content.decode()
    reason = refusal_of(html)
    assert reason.startswith("APT 101 must keep an indoor monitor")
    assert DISABLED_SUBMIT.search(html)
    # A second monitor lifts the refusal.
    make_device(world.community_a, "Second Monitor", apartment=world.apartment_a, device_type=2)
    html = client.get(url, **HTMX).content.decode()
    assert refusal_of(html) == "" and not DISABLED_SUBMIT.search(html)
    assert client.post(url).status_code == 302
    assert not Device.objects.filter(pk=monitor.pk).exists()


def test_device_refusal_matches_what_the_service_raises(world):
    monitor = make_device(world.community_a, "Only Monitor", apartment=world.apartment_a, device_type=2)
    Community.objects.filter(pk=world.community_a.pk).update(feature_plan=FeaturePlan.BASIC)
    monitor = Device.objects.select_related("community", "apartment").get(pk=monitor.pk)
    with pytest.raises(ValidationError) as exc:
        device_services.device_delete(actor=world.installer_a, device=monitor)
    assert exc.value.messages == [device_services.device_delete_refusal(monitor)]
    # A Premium community's monitor, and a door phone, are never refused.
    Community.objects.filter(pk=world.community_a.pk).update(feature_plan=FeaturePlan.PREMIUM)
    monitor.community.refresh_from_db()
    assert device_services.device_delete_refusal(monitor) is None
    assert device_services.device_delete_refusal(world.device_a) is None


# --- Delete Community: type its name ------------------------------------------------------------------


def test_community_delete_asks_for_the_name_and_refuses_a_wrong_one_at_the_field(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:community_delete", args=[world.community_a.pk])
    html = client.get(url, **HTMX).content.decode()
    assert "Type the community name to confirm" in html and 'name="name"' in html

    one_click = client.post(url)
    assert one_click.status_code == 422
    assert one_click.context["confirm_form"].errors["name"] == [
        "Type the community name, Alpha Gardens, to confirm."
    ]
    wrong = client.post(url, {"name": "alpha gardens"}, **HTMX)
    assert wrong.status_code == 200  # htmx swaps the dialog with its error in place
    assert 'data-field-error="name"' in wrong.content.decode()
    assert "“alpha gardens” is not the community&#x27;s name" in wrong.content.decode()
    assert Community.objects.filter(pk=world.community_a.pk).exists()

    right = client.post(url, {"name": " Alpha Gardens "}, **HTMX)
    assert right.status_code == 204 and right["HX-Redirect"] == reverse("communities:dashboard")
    assert not Community.objects.filter(pk=world.community_a.pk).exists()


def test_apartment_delete_then_building_dialog_offers_delete(client, world):
    apartment_delete(actor=world.installer_a, apartment=world.apartment_a)
    assert community_services.building_delete_refusal(world.building_a) is None

"""The dashboard's pmportal blocks: a property manager's card per assigned community and the
installer's fleet overview, with the numbers a user reads, at a constant query count."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import PropertyManagerAssignment
from devices.models import Device
from residents.models import Resident
from tests.factories import CommunityFactory, make_apartment, make_building, make_device
from tests.logs.support import make_door_event
from tests.querycounts import get_captured

from .support import client_for

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("communities:dashboard")


def card(body: str, community) -> str:
    return body.split(f'data-testid="pm-card-{community.pk}"')[1].split(
        'data-testid="card-premium-controls"'
    )[0]


def value(block: str, testid: str) -> str:
    raw = block.split(f'data-testid="{testid}"')[1].split("</dd>")[0].split("</strong>")[0]
    return re.sub(r"<[^>]+>|\s", "", raw.split(">", 1)[1])


def test_a_pms_card_counts_its_community(world):
    now = timezone.now()
    Device.objects.filter(pk=world.device_a.pk).update(last_seen_at=now)  # online
    make_device(world.community_a, "Old Gate")  # never seen: offline
    make_apartment(world.building_a, "102", resident={"first_name": "Ann", "last_name": "Soon"})
    make_apartment(world.building_a, "103", resident={"first_name": "Ben", "last_name": "Later"})
    Resident.objects.filter(first_name="Lily").update(activated=True, expires_at=now + timedelta(days=3))
    Resident.objects.filter(first_name="Ann").update(activated=True, expires_at=now + timedelta(days=20))
    Resident.objects.filter(first_name="Ben").update(activated=True, expires_at=now + timedelta(days=40))
    # An expired account and a family member are no "account expiring soon".
    Resident.objects.filter(first_name="Jim").update(activated=True, expires_at=now + timedelta(days=2))
    body = client_for(world.pm_a).get(DASHBOARD).content.decode()
    block = card(body, world.community_a)
    world.community_a.refresh_from_db()
    assert value(block, "card-apartments") == "3"
    assert value(block, "card-end-users") == str(world.community_a.end_user_count) == "4"
    assert value(block, "card-devices") == "1/1"
    assert value(block, "card-expiring") == "2"
    assert "50%" in block  # the online donut
    assert "Days 1-7: 1" in block and "Days 15-21: 1" in block  # the expiry bars
    assert "{# Recent door events #}" not in body  # the marked spot is a template comment
    # Only the assigned community: not Alpha Towers, never another tenant's.
    assert f'pm-card-{world.community_a2.pk}"' not in body and "Bravo Heights" not in body
    assert 'data-testid="fleet-overview"' not in body


def test_the_installers_fleet_overview(world):
    now = timezone.now()
    Device.objects.filter(pk=world.device_a.pk).update(last_seen_at=now)
    make_device(world.community_a2, "Towers Gate", firmware_version="29.30.2.14")
    make_device(world.community_a2, "Towers Side", firmware_version="227.30.1.1")
    Resident.objects.filter(first_name="Lily").update(activated=True, expires_at=now + timedelta(days=9))
    body = client_for(world.installer_a).get(DASHBOARD).content.decode()
    overview = body.split('data-testid="fleet-overview"')[1]
    assert value(overview, "fleet-online") == "1" and value(overview, "fleet-offline") == "2"
    assert value(overview, "fleet-expiring") == "1"
    firmware = re.sub(r"\s", "", overview.split('data-testid="fleet-firmware"')[1].split("</table>")[0])
    assert '<td>R29</td><td>29.30.2.14</td><tdclass="text-end">2</td>' in firmware
    assert '<td>R27</td><td>227.30.1.1</td><tdclass="text-end">1</td>' in firmware
    assert "Bravo Heights" not in body
    assert 'data-testid="pm-cards"' not in body


def _grow(world, n: int) -> None:
    """n more communities of installer A, each with a building, an apartment, a device, all
    assigned to pm_a."""
    for i in range(n):
        community = CommunityFactory(installer=world.installer_a, name=f"Grown {i}")
        building = make_building(community, "Block")
        make_apartment(building, "1", resident={"first_name": "Gro", "last_name": f"Wn{i}"})
        gate = make_device(community, f"Gate {i}", firmware_version="29.30.2.14")
        for n in range(4):
            make_door_event(gate, f"g{i}-{n}", minutes_ago=n + 1)
        PropertyManagerAssignment.objects.create(
            community=community, property_manager=world.pm_a, log_access_control=True
        )


@pytest.mark.parametrize("who", ["pm_a", "installer_a"])
def test_the_dashboard_costs_the_same_queries_for_1_and_6_communities(world, who):
    # Every card with its recent door events (Log Access Control, as the grown ones have).
    PropertyManagerAssignment.objects.filter(pk=world.assignment_a.pk).update(log_access_control=True)
    client = client_for(getattr(world, who))
    _, few = get_captured(client, DASHBOARD)
    _grow(world, 5)
    response, many = get_captured(client, DASHBOARD)
    assert "Grown 4" in response.content.decode()
    assert len(many) == len(few)


def test_a_pms_card_lists_the_latest_door_events_only_with_log_access_control(world):
    for n in range(5):
        make_door_event(world.device_a, f"e{n}", minutes_ago=n + 1, resident_name=f"Visitor {n}")
    make_door_event(world.device_a, "refused", minutes_ago=30, result="refused", resident_name="Old")
    client = client_for(world.pm_a)

    block = card(client.get(DASHBOARD).content.decode(), world.community_a)
    # No Log Access Control: neither the events nor the way to the Door Log.
    assert 'data-testid="card-door-events"' not in block and 'data-testid="card-door-log"' not in block

    PropertyManagerAssignment.objects.filter(pk=world.assignment_a.pk).update(log_access_control=True)
    block = card(client.get(DASHBOARD).content.decode(), world.community_a)
    events = block.split('data-testid="card-door-events"')[1].split("</ul>")[0]
    # The three latest, newest first; older ones are in the Door Log.
    assert [name for name in re.findall(r"Visitor \d", events)] == ["Visitor 0", "Visitor 1", "Visitor 2"]
    assert "Visitor 3" not in events and "Old" not in events

"""Building rules, tested where they live (communities.services, bottom)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from communities import services
from communities.models import Building
from residents.services import apartment_delete
from tests.factories import CommunityFactory, make_apartment

pytestmark = pytest.mark.django_db


def _create(community, name, actor=None) -> Building:
    return services.building_create(actor=actor or community.installer, community=community, name=name)


def _names(community) -> list[str]:
    return sorted(community.buildings.values_list("name", flat=True))


# --- default names ------------------------------------------------------------------------------


def test_default_names_count_up():
    community = CommunityFactory()
    assert services.default_building_name(community=community) == "Building1"
    _create(community, "Building1")
    assert services.default_building_name(community=community) == "Building2"
    _create(community, "Building2")
    assert services.default_building_name(community=community) == "Building3"


def test_default_name_takes_the_first_free_one_case_insensitively():
    community = CommunityFactory()
    _create(community, "building1")
    _create(community, "Building3")
    assert services.default_building_name(community=community) == "Building2"


def test_default_names_are_per_community(world):
    # Community A holds "Alpha Block" only; community A2 none.
    _create(world.community_a, "Building1")
    assert services.default_building_name(community=world.community_a) == "Building2"
    assert services.default_building_name(community=world.community_a2) == "Building1"


# --- name rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "   ", "x" * 129])
def test_name_is_required_and_at_most_128(world, name):
    with pytest.raises(ValidationError) as exc:
        _create(world.community_a, name)
    assert list(exc.value.message_dict) == ["name"]
    assert _names(world.community_a) == ["Alpha Block"]


def test_name_of_128_characters_is_fine(world):
    building = _create(world.community_a, "x" * 128)
    assert len(Building.objects.get(pk=building.pk).name) == 128


def test_name_is_stripped(world):
    building = _create(world.community_a, "  Beta Block ")
    assert Building.objects.get(pk=building.pk).name == "Beta Block"


@pytest.mark.parametrize("name", ["Alpha Block", "alpha block", "ALPHA BLOCK", " Alpha Block "])
def test_name_is_unique_per_community_case_insensitively(world, name):
    with pytest.raises(ValidationError) as exc:
        _create(world.community_a, name)
    assert list(exc.value.message_dict) == ["name"]
    assert _names(world.community_a) == ["Alpha Block"]


def test_same_name_in_another_community_is_fine(world):
    building = _create(world.community_a2, "Alpha Block")
    assert building.community == world.community_a2
    other_tenant = _create(world.community_b, "alpha block")
    assert other_tenant.community == world.community_b


# --- rename -------------------------------------------------------------------------------------


def test_rename_works(world):
    services.building_rename(actor=world.installer_a, building=world.building_a, name="Alpha Tower")
    world.building_a.refresh_from_db()
    assert world.building_a.name == "Alpha Tower"


def test_rename_may_change_only_the_case_of_its_own_name(world):
    services.building_rename(actor=world.installer_a, building=world.building_a, name="ALPHA BLOCK")
    world.building_a.refresh_from_db()
    assert world.building_a.name == "ALPHA BLOCK"


@pytest.mark.parametrize(("name", "reason"), [("beta block", "taken"), ("", "required"), ("y" * 129, "long")])
def test_rename_follows_the_name_rules(world, name, reason):
    _create(world.community_a, "Beta Block")
    with pytest.raises(ValidationError) as exc:
        services.building_rename(actor=world.installer_a, building=world.building_a, name=name)
    assert list(exc.value.message_dict) == ["name"], reason
    world.building_a.refresh_from_db()
    assert world.building_a.name == "Alpha Block"


def test_rename_keeps_the_apartments(world):
    services.building_rename(actor=world.installer_a, building=world.building_a, name="Renamed")
    world.apartment_a.refresh_from_db()
    assert world.apartment_a.building_id == world.building_a.pk


# --- delete -------------------------------------------------------------------------------------


def test_delete_is_refused_while_it_holds_apartments_and_says_what(world):
    make_apartment(world.building_a, "102")
    assert services.building_contents(building=world.building_a) == ["2 apartment(s)"]
    with pytest.raises(ValidationError) as exc:
        services.building_delete(actor=world.installer_a, building=world.building_a)
    message = " ".join(exc.value.messages)
    assert "Alpha Block" in message
    assert "2 apartment(s)" in message
    assert Building.objects.filter(pk=world.building_a.pk).exists()


def test_delete_works_once_empty(world):
    apartment_delete(actor=world.installer_a, apartment=world.apartment_a)
    assert services.building_contents(building=world.building_a) == []
    services.building_delete(actor=world.installer_a, building=world.building_a)
    assert not Building.objects.filter(pk=world.building_a.pk).exists()


def test_empty_building_is_deleted(world):
    building = _create(world.community_a, "Empty")
    services.building_delete(actor=world.installer_a, building=building)
    assert _names(world.community_a) == ["Alpha Block"]


# --- roles --------------------------------------------------------------------------------------


OPS = {
    "create": lambda w, actor: services.building_create(actor=actor, community=w.community_a, name="New"),
    "rename": lambda w, actor: services.building_rename(actor=actor, building=w.building_a, name="New"),
    "delete_empty": lambda w, actor: services.building_delete(
        actor=actor, building=Building.objects.create(community=w.community_a, name="Empty")
    ),
}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("who", ["installer_b", "pm_b", "pm_a", "pm_nothing"])
def test_others_cannot_manage_community_a_buildings(world, op, who):
    before = _names(world.community_a)
    if op == "delete_empty":
        before = [*before, "Empty"]
    # Another tenant's community is not found; a property manager's role has no building writes.
    with pytest.raises(Http404 if who == "installer_b" else PermissionDenied):
        OPS[op](world, getattr(world, who))
    assert _names(world.community_a) == sorted(before)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("who", ["installer_a", "sub_a"])
def test_installer_and_sub_installer_manage_community_a_buildings(world, op, who):
    OPS[op](world, getattr(world, who))
    expected = {
        "create": ["Alpha Block", "New"],
        "rename": ["New"],
        "delete_empty": ["Alpha Block"],
    }[op]
    assert _names(world.community_a) == expected


def test_other_tenant_cannot_delete_a_full_building(world):
    with pytest.raises(Http404):
        services.building_delete(actor=world.installer_b, building=world.building_a)
    assert Building.objects.filter(pk=world.building_a.pk).exists()

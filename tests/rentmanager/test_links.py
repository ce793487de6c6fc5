"""The sync's links carry no database constraint: every way of deleting what they point at takes
them along (Django's on_delete, through the Collector and smartplus.deletion), so none is left
pointing at nothing."""

from __future__ import annotations

import pytest

from communities import services as communities
from rentmanager import services
from rentmanager.models import ContactLink, SyncedProperty, UnitLink
from rentmanager.sync import run_sync
from residents import services as residents
from residents.models import Apartment, Resident

from .conftest import link

pytestmark = pytest.mark.django_db


def _dangling() -> tuple[int, int]:
    units = UnitLink.objects.exclude(apartment_id__in=Apartment.objects.values("pk")).count()
    contacts = ContactLink.objects.exclude(resident_id__in=Resident.objects.values("pk")).count()
    units += UnitLink.objects.exclude(prop_id__in=SyncedProperty.objects.values("pk")).count()
    contacts += ContactLink.objects.exclude(prop_id__in=SyncedProperty.objects.values("pk")).count()
    return units, contacts


@pytest.fixture
def synced(world, fake_rm):
    conn = link(world.installer_a, fake_rm)
    run_sync(connection_id=conn.pk)
    assert UnitLink.objects.count() == 18 and ContactLink.objects.count() == 20
    return conn


def test_deleting_end_users_takes_their_contact_links(world, synced):
    member = Resident.objects.filter(rentmanager_contact__isnull=False).first()
    residents.resident_delete(actor=world.installer_a, resident=member)
    assert ContactLink.objects.count() == 19
    master = Resident.objects.filter(family_members__rentmanager_contact__isnull=False).first()
    family = master.family_members.count()
    residents.resident_delete(actor=world.installer_a, resident=master)  # its members go along
    assert ContactLink.objects.count() == 19 - family
    assert _dangling() == (0, 0)


def test_deleting_an_apartment_takes_its_unit_link_and_its_members_links(world, synced):
    apartment = Apartment.objects.filter(residents__rentmanager_contact__isnull=False).first()
    members = ContactLink.objects.filter(resident__apartment=apartment).count()
    assert members
    residents.apartment_delete(actor=world.installer_a, apartment=apartment)
    assert UnitLink.objects.count() == 17
    assert ContactLink.objects.count() == 20 - members
    assert _dangling() == (0, 0)


def test_deleting_a_community_takes_its_links(world, synced):
    prop = synced.properties.order_by("rm_id").first()
    units, contacts = prop.units.count(), prop.contacts.count()
    communities.community_delete(actor=world.installer_a, community=prop.community)
    assert UnitLink.objects.count() == 18 - units
    assert ContactLink.objects.count() == 20 - contacts
    assert _dangling() == (0, 0)


def test_unlinking_the_installer_takes_every_link(world, synced):
    services.connection_delete(actor=world.superuser, connection=synced)
    assert not UnitLink.objects.exists() and not ContactLink.objects.exists()
    assert Apartment.objects.filter(community__installer=world.installer_a).count() == 18 + 1  # kept

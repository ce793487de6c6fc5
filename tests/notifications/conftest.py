"""A community with an installer, a property manager and expired end-user accounts."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

import pytest

from accounts.models import PropertyManagerAssignment
from residents.models import Resident
from tests.factories import (
    AssignmentFactory,
    CommunityFactory,
    InstallerFactory,
    PropertyManagerFactory,
    make_apartment,
    make_building,
)

KIRITIMATI = "Pacific/Kiritimati"  # UTC+14
PAGO_PAGO = "Pacific/Pago_Pago"  # UTC-11


def local(zone: str, *args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zoneinfo.ZoneInfo(zone))


@dataclass
class Site:
    installer: object
    community: object
    pm: object
    assignment: object
    building: object

    def account(self, number: str, expires_at, *, email: str | None = None, language: str = "en") -> Resident:
        apartment = make_apartment(self.building, number, resident={"first_name": "Res", "last_name": number})
        resident = apartment.residents.get(family_master__isnull=True)
        Resident.objects.filter(pk=resident.pk).update(
            activated=True,
            expires_at=expires_at,
            email=email or f"res{number}.{self.community.pk}@example.test",
            language=language,
        )
        resident.refresh_from_db()
        return resident

    def pm_app(self, expires_at) -> PropertyManagerAssignment:
        PropertyManagerAssignment.objects.filter(pk=self.assignment.pk).update(
            app_enabled=True, app_activated=True, app_expires_at=expires_at
        )
        self.assignment.refresh_from_db()
        return self.assignment


def make_site(*, time_zone: str = "UTC", switch: bool = True, name: str = "Luna Gardens", **fields) -> Site:
    installer = InstallerFactory(email=f"installer.{name.split()[0].lower()}@example.test", language="en")
    community = CommunityFactory(
        installer=installer, name=name, time_zone=time_zone, send_expiration_email=switch, **fields
    )
    pm = PropertyManagerFactory(installer=installer)
    assignment = AssignmentFactory(community=community, property_manager=pm)
    return Site(installer, community, pm, assignment, make_building(community, "Tower B"))


@pytest.fixture
def site(db):
    return make_site()

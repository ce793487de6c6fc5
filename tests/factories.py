"""factory_boy factories and the fixture world every access test runs against."""

from __future__ import annotations

from dataclasses import dataclass

import factory

from accounts.choices import Role
from accounts.models import PropertyManagerAssignment, User
from communities.models import Building, Community
from devices.models import Device, ThirdPartyCamera, model_for_firmware
from maclib.models import MacAddress
from residents.models import Apartment, Resident

PASSWORD = "correct-horse-battery"

# A valid POST of the New Community form; tests override what they exercise.
COMMUNITY_FORM = {
    "name": "Luna",
    "number_of_apartments": 50,
    "feature_plan": "premium",
    "country": "US",
    "state": "TX",
    "city": "Austin",
    "post_code": "78701",
    "street": "1 Congress Ave",
    "time_zone": "America/Chicago",
    "time_format": "24h",
    "date_format": "Y-m-d",
    "access_control_permission": "public_private",
    "pin_mode": "pin",
    "charge_mode": "installer",
}


def apt_form(number: str = "102", **overrides) -> dict:
    """A valid POST of the Add APT dialog (apartment and family master); tests override fields."""
    return {
        "number": number,
        "floor": "",
        "name": "",
        "web_relay_id": "0",
        "call_type": "0",
        "call_mode": "ip",
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "",
        "language": "en",
        "country": "",
        "mobile_number": "",
        "landline1": "",
        "landline2": "",
        "landline3": "",
        **overrides,
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    role = Role.INSTALLER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class DistributorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"distributor{n}")
    role = Role.DISTRIBUTOR


class InstallerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"installer{n}")
    role = Role.INSTALLER
    distributor = factory.SubFactory(DistributorFactory)


class SubInstallerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"sub{n}")
    role = Role.SUB_INSTALLER
    installer = factory.SubFactory(InstallerFactory)


class PropertyManagerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"pm{n}@example.test")
    email = factory.LazyAttribute(lambda o: o.username)
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Manager"
    role = Role.PROPERTY_MANAGER
    installer = factory.SubFactory(InstallerFactory)


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    installer = factory.SubFactory(InstallerFactory)
    name = factory.Sequence(lambda n: f"Community{n}")
    country = "US"
    city = "Springfield"
    street = "1 Main Street"
    post_code = "12345"


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PropertyManagerAssignment

    community = factory.SubFactory(CommunityFactory)
    property_manager = factory.SubFactory(PropertyManagerFactory)


def make_building(community: Community, name: str | None = None) -> Building:
    """A building made through the service, as the installer."""
    from communities.services import building_create, default_building_name

    name = name or default_building_name(community=community)
    return building_create(actor=community.installer, community=community, name=name)


def make_apartment(building: Building, number: str = "101", *, resident: dict | None = None, **fields):
    """An apartment (and its family master when `resident` is given) made through the service."""
    from residents.services import apartment_create

    return apartment_create(
        actor=building.community.installer,
        building=building,
        apartment={"number": number, **fields},
        resident=resident,
    )


_mac_counter = iter(range(0x0C1105000001, 0x0C1105FFFFFF))


def next_mac() -> str:
    """A fresh, valid MAC (upper-case, no separators)."""
    return f"{next(_mac_counter):012X}"


def make_mac(installer: User, mac: str | None = None) -> MacAddress:
    """A MAC in the installer's library, through the service."""
    from maclib.services import mac_add

    return mac_add(actor=installer, installer=installer, mac=mac or next_mac())


ALL_METHODS = ["homepage", "talking_page", "pin", "face", "rf_card", "bluetooth", "nfc"]


def make_device(
    community: Community,
    name: str = "Gate",
    *,
    building: Building | None = None,
    apartment: Apartment | None = None,
    device_type: int = 0,
    mac: str | None = None,
    relays: list[dict] | None = None,
    firmware_version: str = "",
    **fields,
) -> Device:
    """A device bound to a fresh MAC of the installer's library, through the service."""
    from devices.services import device_create

    installer = community.installer
    mac = mac or make_mac(installer).mac
    device = device_create(
        actor=installer,
        community=community,
        building=building,
        apartment=apartment,
        mac=mac,
        fields={"device_type": device_type, "name": name, **fields},
        relays=relays
        if relays is not None
        else [{"enabled": True, "name": "Door", "access_methods": ALL_METHODS}],
    )
    if firmware_version:
        # As the device API records a heartbeat: one UPDATE, no audit entry.
        Device.objects.filter(pk=device.pk).update(
            firmware_version=firmware_version, model=model_for_firmware(firmware_version)
        )
        device.refresh_from_db()
    return device


def make_camera(
    community: Community,
    name: str = "Lobby Cam",
    *,
    building: Building | None = None,
    apartment: Apartment | None = None,
    password: str = "cam-secret-1",
    linked_devices=(),
    **fields,
) -> ThirdPartyCamera:
    from devices.services import camera_create

    return camera_create(
        actor=community.installer,
        community=community,
        building=building,
        apartment=apartment,
        fields={"name": name, "rtsp_address": "rtsp://192.168.1.20:554", "username": "admin", **fields},
        password=password,
        linked_devices=list(linked_devices),
    )


def make_family_member(apartment: Apartment, **fields) -> Resident:
    from residents.services import family_member_create

    fields.setdefault("first_name", "Jim")
    fields.setdefault("last_name", "Wang")
    return family_member_create(actor=apartment.community.installer, apartment=apartment, fields=fields)


@dataclass
class World:
    """Two tenants (A and B) and every kind of account around them."""

    distributor_a: User
    distributor_other: User
    installer_a: User
    installer_b: User
    sub_a: User
    pm_a: User
    pm_nothing: User
    superuser: User
    community_a: Community
    community_a2: Community
    community_b: Community
    assignment_a: PropertyManagerAssignment
    pm_b: User
    building_a: Building
    apartment_a: Apartment
    resident_a: Resident
    member_a: Resident
    building_b: Building
    apartment_b: Apartment
    mac_a: MacAddress
    device_a: Device
    camera_a: ThirdPartyCamera
    mac_b: MacAddress
    device_b: Device


def ensure_default_prices() -> None:
    """The default price list is a data migration's row; a transactional test's flush removes it."""
    import importlib

    from billing.models import PriceList

    defaults = importlib.import_module("billing.migrations.0002_default_price_list").DEFAULTS
    if not PriceList.objects.filter(is_default=True).exists():
        PriceList.objects.create(distributor=None, **defaults)


def build_world(*, granted: bool = False) -> World:
    ensure_default_prices()
    distributor_a = DistributorFactory(username="dist_a")
    distributor_other = DistributorFactory(username="dist_other")
    installer_a = InstallerFactory(
        username="inst_a", distributor=distributor_a, account_access_enabled=True, permission_granted=granted
    )
    installer_b = InstallerFactory(
        username="inst_b", distributor=distributor_other, account_access_enabled=True, permission_granted=True
    )
    sub_a = SubInstallerFactory(username="helper_sam", installer=installer_a)
    pm_a = PropertyManagerFactory(username="pm_a@example.test", installer=installer_a, first_name="Alice")
    pm_nothing = PropertyManagerFactory(
        username="pm_none@example.test", installer=installer_a, first_name="Nora"
    )
    pm_b = PropertyManagerFactory(username="pm_b@example.test", installer=installer_b, first_name="Bob")
    community_a = CommunityFactory(installer=installer_a, name="Alpha Gardens")
    community_a2 = CommunityFactory(installer=installer_a, name="Alpha Towers")
    community_b = CommunityFactory(installer=installer_b, name="Bravo Heights")
    assignment_a = AssignmentFactory(community=community_a, property_manager=pm_a)
    AssignmentFactory(community=community_b, property_manager=pm_b)
    superuser = UserFactory(username="root", role=Role.SUPER_MANAGER, is_superuser=True, is_staff=True)
    building_a = make_building(community_a, "Alpha Block")
    apartment_a = make_apartment(
        building_a, "101", floor=1, resident={"first_name": "Lily", "last_name": "Zheng"}
    )
    member_a = make_family_member(apartment_a, first_name="Jim", last_name="Wang")
    building_b = make_building(community_b, "Bravo Block")
    apartment_b = make_apartment(
        building_b, "909", resident={"first_name": "Brenda", "last_name": "Bravoresident"}
    )
    # A public R29 door phone with a linked camera in A; a building door phone in B.
    device_a = make_device(community_a, "Alpha Gate", firmware_version="29.30.2.14")
    camera_a = make_camera(community_a, "Alpha Cam", linked_devices=[device_a])
    device_b = make_device(community_b, "Bravo Gate", building=building_b)
    return World(
        distributor_a=distributor_a,
        distributor_other=distributor_other,
        installer_a=installer_a,
        installer_b=installer_b,
        sub_a=sub_a,
        pm_a=pm_a,
        pm_nothing=pm_nothing,
        superuser=superuser,
        community_a=community_a,
        community_a2=community_a2,
        community_b=community_b,
        assignment_a=assignment_a,
        pm_b=pm_b,
        building_a=building_a,
        apartment_a=apartment_a,
        resident_a=apartment_a.residents.get(family_master__isnull=True),
        member_a=member_a,
        building_b=building_b,
        apartment_b=apartment_b,
        mac_a=device_a.mac_address,
        device_a=device_a,
        camera_a=camera_a,
        mac_b=device_b.mac_address,
        device_b=device_b,
    )

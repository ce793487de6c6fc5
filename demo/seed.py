"""Demo data for `make demo`: a distributor, an installer with a sub-installer, a property manager
assigned to one community, and three communities with the spec's settings. Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.choices import Role
from accounts.models import BillingInformation, PropertyManager, PropertyManagerAssignment, User
from billing.choices import CouponKind
from billing.models import Coupon
from communities import services as community_services
from communities.choices import (
    AccessControlPermission,
    ChargeMode,
    DateFormat,
    FeaturePlan,
    PinMode,
    TimeFormat,
)
from communities.models import Community
from devices import services as device_services
from devices.choices import DeviceType, Place
from devices.models import Device
from devices.simulator import specs_for
from firmware.models import Firmware
from maclib.models import MacAddress
from maclib.services import mac_add, mac_import
from residents import services as resident_services
from residents.models import Apartment, Resident

DEMO_PASSWORD = "smartplus-demo"
DEMO_LOGINS = [
    ("Super manager (/admin/)", "admin", DEMO_PASSWORD),
    ("Distributor", "distributor", DEMO_PASSWORD),
    ("Installer (Project Manager)", "installer", DEMO_PASSWORD),
    ("Sub-installer", "subinstaller", DEMO_PASSWORD),
    ("Property manager", "pm@demo.smartplus.test", DEMO_PASSWORD),
]

COMMUNITIES = [
    dict(
        name="Community1",
        number_of_apartments=50,
        feature_plan=FeaturePlan.PREMIUM,
        country="US",
        state="NY",
        city="New York",
        post_code="10001",
        street="350 Fifth Avenue",
        time_zone="America/New_York",
        send_expiration_email=True,
        send_renew_email=True,
    ),
    dict(
        name="Akuvox-",
        number_of_apartments=120,
        home_automation=True,
        feature_plan=FeaturePlan.BASIC,
        country="GB",
        city="London",
        post_code="SW1A1AA",
        street="10 Downing Street",
        time_zone="Europe/London",
        time_format=TimeFormat.H12,
        date_format=DateFormat.DMY,
        pin_mode=PinMode.APT_PIN,
        charge_mode=ChargeMode.PAY_BY_PM,
        community_calls=True,
    ),
    dict(
        name="New_Com",
        number_of_apartments=30,
        feature_plan=FeaturePlan.PREMIUM,
        country="SG",
        city="Singapore",
        post_code="018956",
        street="10 Bayfront Avenue",
        time_zone="Asia/Singapore",
        access_control_permission=AccessControlPermission.PUBLIC_ONLY,
        landline_service=True,
        date_format=DateFormat.MDY,
    ),
]


def _user(username: str, **fields) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, **fields)
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


@transaction.atomic
def seed() -> None:
    _user(
        "admin", email="admin@demo.smartplus.test", role=Role.SUPER_MANAGER, is_staff=True, is_superuser=True
    )
    distributor = _user(
        "distributor",
        email="distributor@demo.smartplus.test",
        role=Role.DISTRIBUTOR,
        first_name="Dana",
        last_name="Distributor",
        community_calls_enabled=True,
        time_zone="America/New_York",
    )
    installer = _user(
        "installer",
        email="installer@demo.smartplus.test",
        role=Role.INSTALLER,
        distributor=distributor,
        first_name="Ryan",
        last_name="Chen",
        account_access_enabled=True,
        permission_granted=True,
        time_zone="America/New_York",
    )
    _user(
        "subinstaller",
        email="sub@demo.smartplus.test",
        role=Role.SUB_INSTALLER,
        installer=installer,
        time_zone="America/New_York",
    )
    pm = _user(
        "pm@demo.smartplus.test",
        email="pm@demo.smartplus.test",
        role=Role.PROPERTY_MANAGER,
        installer=installer,
        first_name="Inn",
        last_name="Ilian",
        monthly_password_reminder=True,
    )
    for fields in COMMUNITIES:
        if not Community.objects.filter(installer=installer, name=fields["name"]).exists():
            community_services.community_create(actor=installer, **fields)
    first = Community.objects.get(installer=installer, name="Community1")
    seed_residents(installer=installer, community=first)
    seed_devices(installer=installer, community=first)
    seed_firmware()
    PropertyManagerAssignment.objects.get_or_create(
        community=first,
        property_manager=PropertyManager.objects.get(pk=pm.pk),
        defaults={"app_enabled": True, "log_access_control": True},
    )
    seed_billing(installer=installer)
    seed_rentmanager(installer=installer)


def seed_rentmanager(*, installer) -> None:
    """The demo installer linked to the fake Rent Manager that `make demo` starts: press Sync now
    on /rentmanager/ to see its properties arrive as communities."""
    from django.conf import settings

    from rentmanager.fake import seed as rm_seeds
    from rentmanager.models import Connection, SyncedProperty

    port = getattr(settings, "SMARTPLUS_FAKE_RENTMANAGER_PORT", None)
    if port is None or Connection.objects.filter(installer=installer).exists():
        return
    connection = Connection(
        installer=installer, base_url=f"http://127.0.0.1:{port}", username=rm_seeds.DEFAULT_USER["Username"]
    )
    connection.set_password(rm_seeds.DEFAULT_USER["Password"])
    connection.save()
    p, u, t = (int(n) for n in settings.SMARTPLUS_FAKE_RENTMANAGER_GENERATE.split(","))
    for prop in rm_seeds.generate(p, u, t)["Properties"]:
        SyncedProperty.objects.create(connection=connection, rm_id=prop["PropertyID"], name=prop["Name"])


DEMO_COUPON = "DEMO-WELCOME-10"


def seed_billing(*, installer) -> None:
    """What paying needs in the demo: the installer's Billing Information (Pay asks for it) and a
    $10 coupon to redeem with Exchange Coupon. Prices are the default list (billing 0002)."""
    BillingInformation.objects.get_or_create(
        installer=installer,
        defaults={
            "company": "Chen Intercoms LLC",
            "attn": "Ryan Chen",
            "street": "1 Main Street",
            "city": "Springfield",
            "post_code": "12345",
            "country": "US",
            "tel": "+12025550123",
            "email": "billing@demo.smartplus.test",
        },
    )
    now = timezone.now()
    Coupon.objects.get_or_create(
        code=DEMO_COUPON,
        defaults={
            "kind": CouponKind.AMOUNT,
            "amount_off": 1000,
            "balance": 1000,
            "valid_from": now - timedelta(days=1),
            "valid_until": now + timedelta(days=365),
        },
    )


DEMO_APARTMENTS = [
    # building, APT, floor, APT name, family master (first, last, email), state
    ("Building1", "101", 1, "Garden flat", ("Lily", "Zheng", "lily.zheng@demo.smartplus.test"), "normal"),
    ("Building1", "102", 1, "", ("Ryan", "Chen", ""), "registered"),
    ("Building1", "2#203", 2, "", None, ""),
    ("Building2", "1203", 12, "Penthouse", ("Ela", "Zheng", "ela.zheng@demo.smartplus.test"), "expired"),
    # Not activated yet: what Subscriptions offers to activate (and pay on the fake Stripe page).
    ("Building2", "1204", 12, "", ("Noah", "Kim", "noah.kim@demo.smartplus.test"), ""),
    ("Building2", "1205", 12, "", ("Mia", "Rossi", "mia.rossi@demo.smartplus.test"), ""),
]


def seed_residents(*, installer, community) -> None:
    """Buildings, apartments, residents and a family member, made through the services."""
    if community.buildings.exists():
        return
    buildings = {
        name: community_services.building_create(actor=installer, community=community, name=name)
        for name in ("Building1", "Building2")
    }
    now = timezone.now()
    for building, number, floor, apt_name, master, state in DEMO_APARTMENTS:
        resident = None
        if master:
            first, last, email = master
            resident = {"first_name": first, "last_name": last, "email": email, "language": "en"}
        apt = resident_services.apartment_create(
            actor=installer,
            building=buildings[building],
            apartment={"number": number, "floor": floor, "name": apt_name},
            resident=resident,
        )
        # Subscription and app state come from billing and the app; the demo sets them directly.
        masters = Resident.objects.filter(apartment=apt, family_master__isnull=True)
        if state == "normal":
            masters.update(activated=True, expires_at=now + timedelta(days=300))
        elif state == "registered":
            masters.update(activated=True, expires_at=now + timedelta(days=30), app_registered_at=now)
        elif state == "expired":
            masters.update(activated=True, expires_at=now - timedelta(days=3))
        if number == "101":
            resident_services.family_member_create(
                actor=installer, apartment=apt, fields={"first_name": "Jim", "last_name": "Wang"}
            )


# The spec's example MACs: bound ones get devices below, the rest stay free in the library.
DEMO_MACS = ["0C11050B9814", "0C110509BA3C", "0C11050893C6", "0C11050893CA", "0C11050893CB", "0C11050893CC"]
ALL_METHODS = ["homepage", "talking_page", "pin", "face", "rf_card", "bluetooth", "nfc"]


def seed_devices(*, installer, community) -> None:
    """MAC library, public / building / apartment devices and cameras, made through the services."""
    if MacAddress.objects.filter(installer=installer).exists():
        return
    for mac in DEMO_MACS:
        mac_add(actor=installer, installer=installer, mac=mac)
    building1 = community.buildings.get(name="Building1")
    apt101 = Apartment.objects.get(community=community, number="101")

    def relay(name, methods=ALL_METHODS, dtmf=""):
        return {"enabled": True, "name": name, "dtmf_code": dtmf, "access_methods": methods}

    gate = device_services.device_create(
        actor=installer,
        community=community,
        mac="0C11050B9814",
        fields={"device_type": DeviceType.MULTI_TENANT_DOOR_PHONE, "name": "Gate2"},
        relays=[relay("Main Gate", dtmf="#"), relay("Pedestrian Door", ["pin", "rf_card", "face"], "*")],
    )
    entrance = device_services.device_create(
        actor=installer,
        community=community,
        building=building1,
        mac="0C110509BA3C",
        fields={"device_type": DeviceType.MULTI_TENANT_DOOR_PHONE, "name": "Building1 Entrance"},
        relays=[relay("Lobby Door")],
    )
    device_services.device_create(
        actor=installer,
        community=community,
        apartment=apt101,
        mac="0C11050893C6",
        fields={"device_type": DeviceType.INDOOR_MONITOR, "name": "Living Room", "arming_function": True},
        relays=[relay("Balcony Lock", ["homepage", "talking_page"])],
    )
    # The firmware the simulated devices start on (they report it at first contact).
    monitor = Device.objects.get(mac_address__mac="0C11050893C6")
    for device, version in ((gate, "29.30.2.14"), (entrance, "28.30.10.7"), (monitor, "119.30.10.203")):
        device.firmware_version = version
        device.save(update_fields=["firmware_version"])
    device_services.camera_create(
        actor=installer,
        community=community,
        fields={"name": "Parking Cam", "rtsp_address": "rtsp://192.168.10.20:554", "username": "admin"},
        password="demo-camera-pass",
        linked_devices=[Device.objects.get(pk=gate.pk)],
    )
    device_services.camera_create(
        actor=installer,
        community=community,
        building=building1,
        fields={
            "name": "Lobby Cam",
            "rtsp_address": "rtsp://cam-lobby.local:8554/stream1",
            "username": "viewer",
        },
        password="demo-camera-pass",
    )


# The spec's Firmware list (version, created), plus newer builds the demo devices can upgrade to.
DEMO_FIRMWARE = [
    ("29.30.2.805", "2021-08-04 22:24:52"),
    ("29.30.2.804", "2021-08-04 22:24:16"),
    ("29.30.102.820", "2021-07-15 16:44:53"),
    ("29.30.2.803", "2021-07-14 17:02:16"),
    ("29.30.2.450", "2021-07-14 16:50:16"),
    ("113.30.6.89", "2021-07-05 19:32:41"),
    ("916.30.101.303", "2020-09-14 21:03:52"),
    ("82.30.2.622", "2020-05-26 20:40:11"),
    ("28.31.1.209", "2020-04-08 01:17:54"),
    ("227.31.1.131", "2020-03-30 19:10:44"),
    ("119.30.10.210", "2021-09-01 10:00:00"),
]


def seed_firmware() -> None:
    """The catalogue, as the super manager uploads it: small stand-in .rom files with checksums."""
    import hashlib
    from datetime import datetime

    for version, created in DEMO_FIRMWARE:
        if Firmware.objects.filter(version=version).exists():
            continue
        content = f"SmartPlus demo firmware {version}\n".encode() * 2048
        firmware = Firmware(
            version=version,
            version_log=version if version != "29.30.102.820" else f"{version}_Log",
            sha256=hashlib.sha256(content).hexdigest(),
            size=len(content),
        )
        firmware.file.save(f"{version}.rom", ContentFile(content), save=False)
        firmware.save()
        when = timezone.make_aware(datetime.fromisoformat(created), timezone.get_fixed_timezone(8 * 60))
        Firmware.objects.filter(pk=firmware.pk).update(created=when)


# `seed_demo --devices N`: the demo's own devices plus this many public door phones in Akuvox-,
# on the simulator's default MACs, so the demo shows a fleet of N (and `make demo` simulates it).
FLEET_COMMUNITY = "Akuvox-"


@transaction.atomic
def seed_fleet(total: int) -> int:
    """Public R29 door phones until the demo has `total` devices (never fewer than its own); returns
    how many were added. The MACs are `python -m devices.simulator --count N`'s (0C1105000001, ...),
    none of which is one of the demo's own."""
    installer = User.objects.get(username="installer")
    community = Community.objects.get(installer=installer, name=FLEET_COMMUNITY)
    wanted = max(0, total - Device.objects.filter(community__installer=installer).count())
    if not wanted:
        return 0
    taken = set(MacAddress.objects.values_list("mac", flat=True))
    macs = []
    for spec in specs_for(wanted + len(taken)):
        if spec.mac not in taken:
            macs.append(spec.mac)
        if len(macs) == wanted:
            break
    mac_import(actor=installer, installer=installer, rows=list(enumerate(macs, start=2)))
    entries = dict(MacAddress.objects.filter(mac__in=macs).values_list("mac", "pk"))
    start = Device.objects.filter(community=community).count() + 1
    devices = [
        Device(
            place=Place.PUBLIC,
            device_type=DeviceType.MULTI_TENANT_DOOR_PHONE,
            name=f"Fleet door phone {number:04d}",
            mac_address_id=entries[mac],
            firmware_version="29.30.2.14",
            all_buildings=True,
        )
        for number, mac in enumerate(macs, start=start)
    ]
    device_services.device_bulk_create(actor=installer, community=community, devices=devices)
    return len(devices)

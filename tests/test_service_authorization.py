"""Every public service that takes an `actor` authorizes what it is given, whoever calls it.

The services are found by introspection (every function of `<app>/services.py` and of the other
service modules that has an `actor` parameter), so a new service without a row below fails
`test_every_service_is_covered`. Each is called on tenant A's objects and ids as installer B, B's
sub-installer, A's unassigned property manager, A's distributor (no account-access grant) and
another distributor: each call must be refused by authorization (PermissionDenied, or NotFound
— a 404 — for another tenant's rows; a ValidationError is *not* a refusal), with nothing
written: the main tables' row counts and the audit log unchanged. The same call as A's own
installer (or, where the service is the distributor's, A's distributor) must pass authorization,
so the refusals cannot be vacuous.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from access.models import Credential, DeviceUsers
from accounts.models import BillingInformation, CustomerService, PropertyManagerAssignment, User
from billing.models import Coupon, Order, OrderItem
from billing.services import Item
from communities.models import Building, Community
from devices.choices import Place, Transport
from devices.models import (
    Device,
    DeviceCommand,
    ProvisioningCode,
    RegistrationRequest,
    Relay,
    ThirdPartyCamera,
)
from devices.template_import import COLUMNS
from firmware.choices import Timing
from firmware.models import FirmwareUpgrade, UpgradeOperation
from maclib.models import MacAddress
from residents.models import Apartment, Resident
from smartplus.models import AuditLog
from tests.factories import SubInstallerFactory, build_world, make_apartment, make_device, make_mac, next_mac
from tests.firmware.factories import make_firmware

# Service modules beyond `<app>/services.py`.
EXTRA_SERVICE_MODULES = ("billing.checkout", "devices.maintenance", "devices.template_import")
ATTACKERS = ("installer_b", "sub_b", "pm_unassigned", "distributor_no_grant", "distributor_other")
REFUSALS = (PermissionDenied, Http404)
COUNTED = (
    User,
    Community,
    Building,
    PropertyManagerAssignment,
    Apartment,
    Resident,
    Device,
    Relay,
    ThirdPartyCamera,
    DeviceCommand,
    RegistrationRequest,
    ProvisioningCode,
    MacAddress,
    FirmwareUpgrade,
    UpgradeOperation,
    BillingInformation,
    CustomerService,
    Order,
    OrderItem,
    Coupon,
    Credential,
    DeviceUsers,
    AuditLog,
)


def service_functions() -> dict[str, object]:
    """ "module.function" -> every public function of a service module taking an `actor`."""
    names = [
        f"{config.name}.services"
        for config in apps.get_app_configs()
        if config.path.startswith(str(settings.BASE_DIR))
    ]
    found = {}
    for module_name in (*names, *EXTRA_SERVICE_MODULES):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module_name:
                continue
            if "actor" in inspect.signature(fn).parameters:
                found[f"{module_name}.{name}"] = fn
    return found


# --- the fixture world ---------------------------------------------------------------------------


def _world():
    w = build_world()  # installer A has not granted its distributor account access
    assert not w.installer_a.permission_granted
    w.sub_b = SubInstallerFactory(username="helper_bea", installer=w.installer_b)
    w.pm_unassigned = w.pm_nothing  # A's property manager, assigned to no community
    w.distributor_no_grant = w.distributor_a
    w.empty_building_a = Building.objects.create(community=w.community_a, name="Empty Block")
    w.free_mac_a = make_mac(w.installer_a)
    w.bare_apartment_a = make_apartment(w.building_a, "109")  # no family master yet
    now = timezone.now()
    w.registration_a = RegistrationRequest.objects.create(
        device=w.device_a, claim_hash="0" * 64, first_seen_at=now, last_seen_at=now
    )
    Resident.objects.filter(pk=w.resident_a.pk).update(email="lily.zheng@example.test")  # Reset Password
    PropertyManagerAssignment.objects.filter(pk=w.assignment_a.pk).update(app_enabled=True)
    w.assignment_a.refresh_from_db()
    w.firmware = make_firmware("29.30.2.900")
    w.spare_r29_a = make_device(w.community_a, "Spare Gate", firmware_version=w.device_a.firmware_version)
    from billing import services as billing
    from firmware.services import upgrade_create

    w.coupon_a = Coupon.objects.create(
        code="ALPHA-COUPON",
        amount_off=500,
        balance=500,
        valid_from=timezone.now() - timedelta(days=1),
        valid_until=timezone.now() + timedelta(days=30),
        installer=w.installer_a,
    )
    w.free_coupon = Coupon.objects.create(
        code="FREE-COUPON",
        amount_off=500,
        balance=500,
        valid_from=timezone.now() - timedelta(days=1),
        valid_until=timezone.now() + timedelta(days=30),
    )
    w.order_a = billing.order_create(
        actor=w.installer_a, order_type="activation", items=[billing.Item("app", w.resident_a.pk)]
    )
    w.upgrade_a = upgrade_create(
        actor=w.installer_a,
        firmware=w.firmware,
        devices=[w.device_a],
        timing=Timing.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(days=1),
    )
    from access.services import credential_create

    w.credential_a = credential_create(
        actor=w.installer_a, resident_id=w.resident_a.pk, fields={"kind": "pin", "code": "1234"}
    )
    return w


def _later():
    return timezone.now() + timedelta(days=2)


def _premium_in_force(community):
    Community.objects.filter(pk=community.pk).update(feature_plan="premium", plan_expires_at=_later())
    community.refresh_from_db()
    return community


def _rm_connection(w):
    from rentmanager.models import Connection

    connection, _ = Connection.objects.get_or_create(
        installer=w.installer_a,
        defaults={
            "base_url": "https://acme.api.rentmanager.com",
            "username": "api",
            "password_encrypted": "x",
        },
    )
    return connection


def _import_row(**cells) -> dict:
    return {column: cells.get(column) for column in COLUMNS}


@dataclass
class Case:
    """How to call a service on A's objects; `legit` is who may (A's installer unless said)."""

    kwargs: object  # world -> keyword arguments, without `actor`
    legit: str = "installer_a"
    # Attackers the spec lets through on A's rows, with the reason.
    allowed: dict[str, str] = field(default_factory=dict)


DISTRIBUTOR_MACS = {
    "distributor_no_grant": "A distributor registers and removes MACs for its own installers; "
    "that needs no account-access grant (roles.py, scoping: the installer's distributor)."
}
DISTRIBUTOR_INSTALLERS = {
    "distributor_no_grant": "A distributor manages its own installers' accounts without a grant."
}

CASES: dict[str, Case] = {
    # access
    "access.services.credential_create": Case(
        lambda w: {"resident_id": w.member_a.pk, "fields": {"kind": "rf_card", "code": "00C0FFEE"}}
    ),
    "access.services.credential_update": Case(
        lambda w: {"credential_id": w.credential_a.pk, "fields": {"name": "Front door"}}
    ),
    "access.services.credential_delete": Case(lambda w: {"credential_id": w.credential_a.pk}),
    "access.services.credential_bulk_delete": Case(lambda w: {"credential_ids": [w.credential_a.pk]}),
    "access.services.credential_bulk_create": Case(
        lambda w: {
            "community": w.community_a,
            "rows": [
                (
                    2,
                    {
                        "apartment": w.apartment_a.number,
                        "resident": w.member_a.display_name,
                        "kind": "rf_card",
                        "code": "00C0FFEE",
                    },
                )
            ],
        }
    ),
    # billing
    "billing.services.order_create": Case(
        lambda w: {"order_type": "activation", "items": [Item("app", w.resident_a.pk)]}
    ),
    "billing.services.order_apply_coupon": Case(lambda w: {"order": w.order_a, "code": "ALPHA-COUPON"}),
    "billing.services.order_drop_coupon": Case(lambda w: {"order": w.order_a}),
    "billing.services.order_delete": Case(lambda w: {"order": w.order_a}),
    "billing.checkout.start_checkout": Case(lambda w: {"order": w.order_a}),
    "billing.checkout.order_cancel": Case(lambda w: {"order": w.order_a}),
    "residents.services.subscriptions_extend": Case(
        lambda w: {"resident_ids": [w.resident_a.pk], "expires_at": _later(), "activate": True}
    ),
    "accounts.services.pm_app_subscriptions_extend": Case(
        lambda w: {"assignment_ids": [w.assignment_a.pk], "expires_at": _later(), "activate": True}
    ),
    "communities.services.premium_plans_extend": Case(
        lambda w: {"community_ids": [w.community_a.pk], "expires_at": _later()}
    ),
    # pmportal: community A's Premium plan in force, so the refusals are the actors', not the plan's.
    "pmportal.services.premium_control_set": Case(
        lambda w: {
            "community": _premium_in_force(w.community_a),
            "control": "package_notification",
            "enabled": True,
        }
    ),
    # accounts
    "accounts.services.subaccount_update": Case(
        lambda w: {"subaccount": w.sub_a, "username": "helper_sam2", "email": "", "phone": ""}
    ),
    "accounts.services.user_delete": Case(lambda w: {"user": w.sub_a}),
    "accounts.services.user_reset_password": Case(lambda w: {"user": w.pm_a}),
    "accounts.services.property_manager_update": Case(
        lambda w: {
            "property_manager": w.pm_a,
            "first_name": "Alicia",
            "last_name": "Manager",
            "language": w.pm_a.language,
            "monthly_password_reminder": True,
        }
    ),
    "accounts.services.pm_assignments_set": Case(
        lambda w: {
            "community": w.community_a,
            "rows": [{"property_manager": w.pm_a, "delete_account_permission": True}],
        }
    ),
    "accounts.services.pm_app_password_reset": Case(lambda w: {"assignment": w.assignment_a}),
    "accounts.services.installer_update": Case(
        lambda w: {"installer": w.installer_a, "email": "new-a@example.test", "first_name": "Ann"},
        legit="distributor_no_grant",
        allowed=DISTRIBUTOR_INSTALLERS,
    ),
    # communities
    "communities.services.community_update": Case(
        lambda w: {"community": w.community_a, "name": "Alpha Renamed"}
    ),
    "communities.services.community_delete": Case(lambda w: {"community": w.community_a}),
    "communities.services.integration_capacity_raise": Case(
        lambda w: {"community": w.community_a, "number_of_apartments": 60}
    ),
    "communities.services.building_create": Case(lambda w: {"community": w.community_a, "name": "New Block"}),
    "communities.services.building_rename": Case(lambda w: {"building": w.building_a, "name": "Renamed"}),
    "communities.services.building_delete": Case(lambda w: {"building": w.empty_building_a}),
    # residents
    "residents.services.apartment_create": Case(
        lambda w: {"building": w.building_a, "apartment": {"number": "102"}, "resident": None}
    ),
    "residents.services.apartment_update": Case(
        lambda w: {"apartment": w.apartment_a, "fields": {"name": "Renamed"}, "resident": None}
    ),
    "residents.services.apartment_delete": Case(lambda w: {"apartment": w.apartment_a}),
    "residents.services.apartment_reset": Case(lambda w: {"apartment": w.apartment_a}),
    "residents.services.family_member_create": Case(
        lambda w: {"apartment": w.apartment_a, "fields": {"first_name": "Kim", "last_name": "Li"}}
    ),
    "residents.services.family_member_update": Case(
        lambda w: {"member": w.member_a, "fields": {"first_name": "Jimmy"}}
    ),
    "residents.services.resident_delete": Case(lambda w: {"resident": w.member_a}),
    "residents.services.resident_app_password_reset": Case(lambda w: {"apartment_id": w.apartment_a.pk}),
    # the bulk services the template import (and later the Rent Manager sync) writes through
    "communities.services.building_bulk_create": Case(
        lambda w: {"community": w.community_a, "buildings": [Building(name="Bulk Block")]}
    ),
    "residents.services.apartment_bulk_create": Case(
        lambda w: {"community": w.community_a, "apartments": [Apartment(number="105", building=w.building_a)]}
    ),
    "residents.services.apartment_bulk_update": Case(
        lambda w: {"apartments": [Apartment.objects.get(pk=w.apartment_a.pk)], "fields": ["name"]}
    ),
    "residents.services.family_master_bulk_create": Case(
        lambda w: {
            "community": w.community_a,
            "residents": [Resident(apartment=w.bare_apartment_a, first_name="Al", last_name="Bo")],
        }
    ),
    "residents.services.family_member_bulk_create": Case(
        lambda w: {
            "community": w.community_a,
            "members": [Resident(apartment=w.apartment_a, first_name="Kim", last_name="Bulk")],
        }
    ),
    "residents.services.family_master_bulk_update": Case(
        lambda w: {"residents": [Resident.objects.get(pk=w.resident_a.pk)], "fields": ["first_name"]}
    ),
    "devices.services.device_bulk_create": Case(
        lambda w: {
            "community": w.community_a,
            "devices": [
                Device(
                    place=Place.BUILDING,
                    building=w.building_a,
                    mac_address_id=w.free_mac_a.pk,
                    device_type=0,
                    name="Bulk Gate",
                )
            ],
        }
    ),
    "devices.services.device_bulk_rename": Case(
        lambda w: {"devices": [Device.objects.get(pk=w.device_a.pk)]}
    ),
    "devices.services.apartment_create_with_indoor_monitor": Case(
        lambda w: {
            "building": w.building_a,
            "apartment": {"number": "106"},
            "resident": None,
            "indoor_monitor": {"mac": w.free_mac_a.mac, "fields": {"name": "Monitor"}, "relays": []},
        }
    ),
    "devices.template_import.apply_import": Case(
        lambda w: {"community": w.community_a, "rows": [(2, _import_row(Building="Alpha Block", Apt="104"))]}
    ),
    # rentmanager: the super manager links installers; the installer (and staff) press Sync now
    "rentmanager.services.connection_save": Case(
        lambda w: {
            "installer": w.installer_a,
            "base_url": "https://acme.api.rentmanager.com",
            "username": "api",
            "password": "rm-secret",
            "properties": [(1, "Oak Court")],
        },
        legit="superuser",
    ),
    "rentmanager.services.connection_delete": Case(
        lambda w: {"connection": _rm_connection(w)}, legit="superuser"
    ),
    "rentmanager.services.sync_now": Case(lambda w: {"connection": _rm_connection(w)}),
    # maclib
    "maclib.services.mac_add": Case(
        lambda w: {"installer": w.installer_a, "mac": next_mac()}, allowed=DISTRIBUTOR_MACS
    ),
    "maclib.services.mac_import": Case(
        lambda w: {"installer": w.installer_a, "rows": [(2, next_mac())]}, allowed=DISTRIBUTOR_MACS
    ),
    "maclib.services.mac_delete": Case(lambda w: {"mac": w.free_mac_a}, allowed=DISTRIBUTOR_MACS),
    "maclib.services.mac_delete_refusal": Case(lambda w: {"mac": w.mac_a}, allowed=DISTRIBUTOR_MACS),
    # devices
    "devices.services.device_create": Case(
        lambda w: {
            "community": w.community_a,
            "building": w.building_a,
            "mac": w.free_mac_a.mac,
            "fields": {"device_type": 0, "name": "Side Gate"},
            "relays": [],
        }
    ),
    "devices.services.device_update": Case(
        lambda w: {
            "device": w.device_a,
            "mac": w.device_a.mac_address.mac,
            "fields": {"name": "Alpha Gate 2"},
            "relays": [],
        }
    ),
    "devices.services.device_delete": Case(lambda w: {"device": w.device_a}),
    "devices.services.camera_create": Case(
        lambda w: {
            "community": w.community_a,
            "fields": {"name": "Cam 2", "rtsp_address": "rtsp://192.168.1.21:554", "username": "admin"},
            "password": "cam-secret-2",
        }
    ),
    "devices.services.camera_update": Case(
        lambda w: {"camera": w.camera_a, "fields": {"name": "Alpha Cam 2"}, "linked_devices": [w.device_a]}
    ),
    "devices.services.camera_delete": Case(lambda w: {"camera": w.camera_a}),
    "devices.maintenance.device_settings_update": Case(
        lambda w: {"device": w.device_a, "transport": Transport.TCP, "autop_commands": "Config.A.B.C = 1"}
    ),
    "devices.maintenance.device_one_time_autop": Case(
        lambda w: {"device": w.device_a, "commands": "Config.Once.A.B = 1"}
    ),
    "devices.maintenance.device_reboot": Case(lambda w: {"device": w.device_a}),
    "devices.services.registration_adopt": Case(lambda w: {"registration_request": w.registration_a}),
    "devices.services.registration_reject": Case(lambda w: {"registration_request": w.registration_a}),
    "devices.maintenance.device_reset": Case(lambda w: {"device": w.device_a}),
    "devices.maintenance.recent_commands": Case(lambda w: {"device": w.device_a}),
    # The device is offline: A's installer passes authorization and is told why (ValidationError).
    "devices.maintenance.remote_control_token": Case(lambda w: {"user": w.installer_a, "device": w.device_a}),
    # firmware
    "firmware.services.upgrade_create": Case(
        lambda w: {
            "firmware": w.firmware,
            # Not device_a: it waits in upgrade_a, and a device is in one Pending upgrade at most.
            "devices": [w.spare_r29_a],
            "timing": Timing.SCHEDULED,
            "scheduled_at": _later(),
        }
    ),
    "firmware.services.upgrade_update": Case(
        lambda w: {
            "upgrade": w.upgrade_a,
            "firmware": w.firmware,
            "devices": [w.device_a],
            "timing": Timing.SCHEDULED,
            "scheduled_at": _later(),
        }
    ),
    "firmware.services.upgrade_delete": Case(lambda w: {"upgrade": w.upgrade_a}),
}

# Services given no tenant object: they act in the actor's own scope (its own account, or a new
# row of its own tenant). Called as each attacker, they are refused or leave A's rows untouched.
OWN_SCOPE: dict[str, tuple[str, object]] = {
    "accounts.services.subaccount_create": (
        "a sub-account of the actor's own installer",
        lambda w: {"username": "new_helper"},
    ),
    "accounts.services.property_manager_create": (
        "a property manager of the actor's own installer",
        lambda w: {
            "first_name": "Paula",
            "last_name": "Manager",
            "email": "paula@example.test",
            "language": "en",
            "monthly_password_reminder": False,
        },
    ),
    "accounts.services.installer_create": (
        "an installer under the acting distributor",
        lambda w: {"username": "inst_new", "email": "inst-new@example.test"},
    ),
    "accounts.services.account_access_set": (
        "the actor's own Permission Granted switch",
        lambda w: {"granted": True},
    ),
    "accounts.services.user_time_zone_set": (
        "the actor's own time zone",
        lambda w: {"time_zone": "Asia/Tokyo"},
    ),
    "accounts.services.ui_language_set": ("the actor's own UI language", lambda w: {"code": "he"}),
    "accounts.services.user_password_check": ("the actor's own password", lambda w: {"password": "wrong"}),
    "accounts.services.user_password_change": (
        "the actor's own password",
        lambda w: {"new_password": "A-new-Passw0rd!"},
    ),
    "accounts.services.billing_information_save": (
        "the billing information of the actor's own installer",
        lambda w: {
            "company": "B Corp",
            "attn": "Bea",
            "street": "2 Side St",
            "city": "Shelbyville",
            "country": "US",
            "tel": "+12025550123",
            "email": "billing@example.test",
        },
    ),
    "accounts.services.customer_service_save": (
        "the customer service contact of the actor's own installer",
        lambda w: {"phone": "+12025550123", "email": "help@example.test"},
    ),
    "devices.services.provisioning_code": (
        "the provisioning code of the actor's own installer",
        lambda w: {},
    ),
    "devices.services.provisioning_code_regenerate": (
        "a new provisioning code for the actor's own installer",
        lambda w: {},
    ),
    "billing.services.coupon_redeem": (
        "a coupon redeemed for the actor's own installer",
        lambda w: {"code": "FREE-COUPON"},
    ),
    "communities.services.community_create": (
        "a community of the actor's own installer",
        lambda w: {"name": "Own Community", "country": "US", "city": "Springfield", "street": "1 Main"},
    ),
}
# Reads: nothing to refuse, but none of A's rows come back to an attacker.
READS: dict[str, str] = {
    "maclib.services.installers_for": "the installers whose MAC library the actor may add to",
    "devices.services.apartment_panels": "the apartment page's device lists, read through for_actor",
    "billing.services.listed_order_count": "the Payments list's stored count of the actor's own orders",
}


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def _as_actor(fn, actor, kwargs: dict):
    params = inspect.signature(fn).parameters
    if "real_user" in params:
        kwargs = {"real_user": actor, **kwargs}
    return fn(actor=actor, **kwargs)


SERVICES = service_functions()


def test_every_service_is_covered():
    covered = set(CASES) | set(OWN_SCOPE) | set(READS)
    assert set(SERVICES) - covered == set(), "add the new service to CASES (or OWN_SCOPE with the reason)"
    assert covered - set(SERVICES) == set(), "a row names a service that no longer exists"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(CASES))
def test_service_refuses_other_tenants_and_roles(name):
    w = _world()
    case, fn = CASES[name], SERVICES[name]
    before = _counts()
    for who in ATTACKERS:
        if who in case.allowed:
            continue
        with pytest.raises(REFUSALS):
            _as_actor(fn, getattr(w, who), case.kwargs(w))
        assert _counts() == before, f"{name} as {who} changed rows"
    # Positive control: the legitimate actor passes authorization with the same arguments.
    try:
        _as_actor(fn, getattr(w, case.legit), case.kwargs(w))
    except ValidationError:
        assert name in AUTHORIZED_BUT_INVALID, f"{name}: the legitimate call was refused as invalid"
    else:
        assert name not in AUTHORIZED_BUT_INVALID


# The legitimate call of these is authorized and then refused by a business rule.
AUTHORIZED_BUT_INVALID = {
    "devices.maintenance.remote_control_token",  # the device is offline
    "billing.checkout.start_checkout",  # installer A has no Billing Information (and no Stripe here)
    "communities.services.integration_capacity_raise",  # community A is not an integrated one
}


def _tenant_a_state(w, actor) -> dict:
    """Tenant A's rows; the actor's own account's audit entries aside (A's property manager
    changing its own time zone is its own scope, logged in A's audit log)."""
    a = User.objects.get(pk=w.installer_a.pk)
    audit = AuditLog.objects.filter(installer_id=a.pk).exclude(
        object_type__app_label="accounts", object_id=str(actor.pk)
    )
    return {
        "accounts": User.objects.filter(installer_id=a.pk).count(),
        "communities": Community.objects.filter(installer_id=a.pk).count(),
        "billing": list(BillingInformation.objects.filter(installer_id=a.pk).values()),
        "customer_service": list(CustomerService.objects.filter(installer_id=a.pk).values()),
        "audit": audit.count(),
        "installer_a": (a.time_zone, a.permission_granted, a.password, a.email),
        "installers_of_distributor_a": User.objects.filter(distributor_id=w.distributor_a.pk).count(),
        "provisioning_code": list(
            ProvisioningCode.objects.filter(installer_id=a.pk).values_list("code_hash")
        ),
        "device_a": Device.objects.filter(pk=w.device_a.pk)
        .values_list("api_secret_hash", "claim_hash")
        .get(),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(OWN_SCOPE))
def test_own_scope_service_leaves_tenant_a_alone(name):
    w = _world()
    fn, (_reason, kwargs) = SERVICES[name], OWN_SCOPE[name]
    for who in ATTACKERS:
        if who == "distributor_no_grant" and name == "accounts.services.installer_create":
            continue  # creating an installer under distributor A is its own scope, checked below
        actor = getattr(w, who)
        before = _tenant_a_state(w, actor)
        try:
            _as_actor(fn, actor, kwargs(w))
        except (*REFUSALS, ValidationError):
            pass
        assert _tenant_a_state(w, actor) == before, f"{name} as {who} changed tenant A"


@pytest.mark.django_db
def test_own_scope_services_write_into_the_actors_own_scope():
    w = _world()
    community = _as_actor(
        SERVICES["communities.services.community_create"],
        w.sub_b,
        OWN_SCOPE["communities.services.community_create"][1](w),
    )
    assert community.installer_id == w.installer_b.pk
    sub, _password = SERVICES["accounts.services.subaccount_create"](
        actor=w.installer_b, username="b_helper2"
    )
    assert sub.installer_id == w.installer_b.pk
    installer = SERVICES["accounts.services.installer_create"](
        actor=w.distributor_other, username="inst_c", email="inst-c@example.test"
    )
    assert installer.distributor_id == w.distributor_other.pk
    for who in ("pm_unassigned", "distributor_no_grant"):
        with pytest.raises(PermissionDenied):
            SERVICES["communities.services.community_create"](
                actor=getattr(w, who), **OWN_SCOPE["communities.services.community_create"][1](w)
            )


@pytest.mark.django_db
def test_reads_return_none_of_tenant_a_to_attackers():
    w = _world()
    from maclib.services import installers_for

    for who in ATTACKERS:
        if who == "distributor_no_grant":
            continue  # A's distributor registers MACs for A (DISTRIBUTOR_MACS)
        assert w.installer_a not in installers_for(getattr(w, who))
    assert list(installers_for(w.installer_a)) == [w.installer_a]
    from billing.services import listed_order_count

    assert listed_order_count(w.installer_a) == 1  # its order (w.order_a)
    for who in ATTACKERS:
        assert listed_order_count(getattr(w, who)) == 0, who
    assert listed_order_count(w.installer_a, w.community_b) == 0


# --- foreign ids sent along with the actor's own objects -----------------------------------------


@pytest.mark.django_db
def test_foreign_ids_sent_with_own_objects_are_not_found():
    w = _world()
    from accounts.services import pm_assignments_set
    from devices.services import camera_create, device_create
    from firmware.services import upgrade_create
    from residents.services import apartment_update

    b = w.installer_b
    mac_1, mac_2 = make_mac(b).mac, make_mac(b).mac
    before = _counts()
    with pytest.raises(Http404):  # A's property manager on B's community
        pm_assignments_set(actor=b, community=w.community_b, rows=[{"property_manager": w.pm_a}])
    with pytest.raises(Http404):  # B's apartment moved into A's building
        apartment_update(actor=b, apartment=w.apartment_b, building=w.building_a, fields={}, resident=None)
    with pytest.raises(Http404):  # a device of B's community placed in A's building
        device_create(
            actor=b,
            community=w.community_b,
            building=w.building_a,
            mac=mac_1,
            fields={"device_type": 0, "name": "Sneaky"},
            relays=[],
        )
    with pytest.raises(Http404):  # B's public device serving A's building
        device_create(
            actor=b,
            community=w.community_b,
            mac=mac_2,
            fields={"device_type": 0, "name": "Sneaky", "all_buildings": False},
            relays=[],
            buildings=[w.building_a],
        )
    with pytest.raises(Http404):  # B's camera linked to A's door phone
        camera_create(
            actor=b,
            community=w.community_b,
            fields={"name": "Cam", "rtsp_address": "rtsp://192.168.1.22:554", "username": "admin"},
            password="pw",
            linked_devices=[w.device_a],
        )
    with pytest.raises(Http404):  # B's upgrade of A's device
        upgrade_create(
            actor=b, firmware=w.firmware, devices=[w.device_a], timing=Timing.SCHEDULED, scheduled_at=_later()
        )
    assert _counts() == before


# --- predicates: the row-level rules, each registered once by its app ------------------------------


def _predicate(label: str, action: str, name: str):
    from smartplus import authz

    (found,) = [p for p in authz.predicates_for(label, action) if p.name == name]
    return found.test


@pytest.mark.django_db
def test_delete_account_permission_is_asked_through_can():
    from smartplus import authz, roles

    w = build_world()
    assert not authz.can(w.pm_a, roles.DELETE, w.member_a)
    assert not authz.can(w.pm_a, "reset", w.apartment_a)
    assert not authz.can(w.pm_a, roles.DELETE, Resident, parent=w.community_a)
    PropertyManagerAssignment.objects.filter(pk=w.assignment_a.pk).update(delete_account_permission=True)
    assert authz.can(w.pm_a, roles.DELETE, w.member_a)
    assert authz.can(w.pm_a, "reset", w.apartment_a)
    assert authz.can(w.pm_a, roles.DELETE, Resident, parent=w.community_a)
    assert not authz.can(w.pm_a, roles.DELETE, Resident, parent=w.community_a2)  # not assigned there
    assert authz.can(w.sub_a, roles.DELETE, w.member_a)  # installers' staff need no flag
    assert not authz.can(w.installer_b, roles.DELETE, w.member_a)


@pytest.mark.django_db
def test_log_access_control_needs_the_assignments_flag():
    from smartplus import roles

    w = build_world()
    test = _predicate("residents.doorlog", roles.VIEW, "log_access_control")
    assert test(w.pm_a, w.community_a) is False
    PropertyManagerAssignment.objects.filter(pk=w.assignment_a.pk).update(log_access_control=True)
    assert test(w.pm_a, w.community_a) is True
    assert test(w.pm_a, w.community_a2) is False
    assert test(w.installer_a, w.community_a) is True
    assert _predicate("residents.callhistory", roles.VIEW, "log_access_control") is test


@pytest.mark.django_db
def test_access_control_permission_only_public_area_keeps_pms_off_private_credentials():
    from communities.choices import AccessControlPermission
    from smartplus import roles

    w = build_world()
    test = _predicate("residents.accesscredential", roles.ADD, "access_control_permission")
    assert test(w.pm_a, w.apartment_a) is True  # Public Area + Private Area, the default
    Community.objects.filter(pk=w.community_a.pk).update(
        access_control_permission=AccessControlPermission.PUBLIC_ONLY
    )
    assert test(w.pm_a, w.apartment_a) is False
    assert test(w.pm_a, w.community_a) is True  # a public-area credential
    assert test(w.installer_a, w.apartment_a) is True


@pytest.mark.django_db
def test_basic_plan_adds_an_apt_only_with_the_right_to_add_devices():
    from communities.choices import FeaturePlan
    from smartplus import roles

    w = build_world()
    test = _predicate("residents.apartment", roles.ADD, "feature_plan_indoor_monitor")
    assert test(w.pm_a, w.building_a) is True  # Premium: no indoor monitor comes with the APT
    Community.objects.filter(pk=w.community_a.pk).update(feature_plan=FeaturePlan.BASIC)
    w.building_a.community.refresh_from_db()
    assert test(w.pm_a, w.building_a) is False
    assert test(w.sub_a, w.building_a) is True


@pytest.mark.django_db
def test_acting_as_an_installer_needs_its_grant_through_can_and_may_act_as():
    from accounts.impersonation import may_act_as
    from accounts.models import Installer
    from smartplus import authz

    w = build_world()
    assert not authz.can(w.distributor_a, "impersonate", w.installer_a, model=Installer)
    assert not may_act_as(w.distributor_a, w.installer_a)
    User.objects.filter(pk=w.installer_a.pk).update(permission_granted=True)
    w.installer_a.refresh_from_db()
    assert authz.can(w.distributor_a, "impersonate", w.installer_a, model=Installer)
    assert may_act_as(w.distributor_a, w.installer_a)
    assert not authz.can(w.distributor_other, "impersonate", w.installer_a, model=Installer)
    assert not may_act_as(w.distributor_other, w.installer_a)
    assert not may_act_as(w.superuser, w.installer_a)


@pytest.mark.django_db
def test_the_log_in_as_button_asks_the_same_rule(client):
    from django.urls import reverse

    w = build_world()
    client.force_login(w.distributor_a)
    page = client.get(reverse("accounts:installer_list")).content.decode()
    assert 'data-testid="login-as-inst_a"' not in page
    User.objects.filter(pk=w.installer_a.pk).update(permission_granted=True)
    page = client.get(reverse("accounts:installer_list")).content.decode()
    assert 'data-testid="login-as-inst_a"' in page
    User.objects.filter(pk=w.installer_a.pk).update(is_active=False)  # a deactivated account: no button
    page = client.get(reverse("accounts:installer_list")).content.decode()
    assert 'data-testid="login-as-inst_a"' not in page


# --- ScopedModelForm fails closed -----------------------------------------------------------------


@pytest.mark.django_db
def test_scoped_model_form_refuses_a_choice_field_it_cannot_scope():
    from django.core.exceptions import ImproperlyConfigured

    from smartplus.forms import ScopedModelForm

    class Careless(ScopedModelForm):
        class Meta:
            model = AuditLog
            fields = ["installer", "object_type"]

    class Explicit(Careless):
        unscoped_fields = {"object_type": "content types are not tenant data"}

    w = build_world()
    with pytest.raises(ImproperlyConfigured, match="object_type"):
        Careless(actor=w.installer_b)
    form = Explicit(actor=w.installer_b)
    # The scoped field is still narrowed: B's own account only.
    assert list(form.fields["installer"].queryset) == [w.installer_b]

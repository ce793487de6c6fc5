"""The template import writes what the dialogs write, row for row.

The same building, apartment with its family master, and devices with their relays are added once
through the dialogs (Add Building, Add APT, Add Device: their POSTs) into one community, and once
by the template import into a twin community. Every column (but ids, timestamps, generated secrets
and the Family SIP Number), the counters, the audit entries (action, object type, changed fields)
and the account emails must be the same.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from communities.models import Building, Community
from devices.choices import AccessMethod, DeviceType
from devices.models import Device, Relay
from devices.template_import import COLUMNS, apply_import
from residents.models import Apartment, Resident
from smartplus.models import AuditLog
from tests.factories import CommunityFactory, apt_form, make_mac

pytestmark = pytest.mark.django_db

SKIPPED = {"id", "created", "modified", "app_password", "family_sip_number"}
RELAY = {
    "relays": "1",
    "relay1_enabled": "1",
    "relay1_name": "Relay1",
    "relay1_dtmf_code": "",
    "relay1_access_methods": list(AccessMethod.values),
}
DEVICES = (  # name, type, place
    ("Gate2", DeviceType.MULTI_TENANT_DOOR_PHONE, "apartment"),
    ("Lobby", DeviceType.SINGLE_TENANT_DOOR_PHONE, "building"),
    ("Reader", DeviceType.ACCESS_CONTROL, "public"),
)


def _twins(world) -> tuple[Community, Community]:
    settings = {"installer": world.installer_a, "number_of_apartments": 10}
    return CommunityFactory(name="Twin One", **settings), CommunityFactory(name="Twin Two", **settings)


def _email(tag: str) -> str:
    return f"ann.{tag}@example.test"


def _by_dialogs(client, world, community: Community, macs: list[str]) -> None:
    client.force_login(world.installer_a)
    response = client.post(reverse("communities:building_add", args=[community.pk]), {"name": "Tower"})
    assert response.status_code == 302, response.content
    tower = Building.objects.get(community=community, name="Tower")
    apt_post = apt_form(
        number="12",
        name="Lee",
        call_type="2",
        web_relay_id="9",
        email=_email("one"),
        country="US",
        mobile_number="2012301000",
    )
    response = client.post(reverse("residents:apartment_add", args=[tower.pk]), apt_post)
    assert response.status_code == 302, response.context["form"].errors
    apt = Apartment.objects.get(community=community, number="12")
    urls = {
        "apartment": reverse("devices:apartment_device_add", args=[apt.pk]),
        "building": reverse("devices:building_device_add", args=[tower.pk]),
        "public": reverse("devices:public_device_add", args=[community.pk]),
    }
    for (name, device_type, place), mac in zip(DEVICES, macs, strict=True):
        post = {
            "device_type": str(device_type.value),
            "mac": mac,
            "network_group": "1",
            "name": name,
            "all_buildings": "on",
            "contact_display": "all",
            **RELAY,
        }
        response = client.post(urls[place], post)
        assert response.status_code == 302, response.context["form"].errors


def _by_import(world, community: Community, macs: list[str]) -> None:
    cells = [
        {
            "Building": "Tower",
            "Apt": "12",
            "AptName": "Lee",
            "Device": f"Gate2,0,{macs[0]}",
            "FirstName": "Ann",
            "LastName": "Lee",
            "Email": _email("two"),
            "MobileNumber": "2012301000",
            "TelephoneCallingCode": "1",
            "CallType": 2,
            "WebRelayID": 9,
        },
        {"Building": "Tower", "Device": f"Lobby,1,{macs[1]}"},
        {"Device": f"Reader,50,{macs[2]}"},
    ]
    rows = [(n, {c: r.get(c) for c in COLUMNS}) for n, r in enumerate(cells, start=2)]
    apply_import(actor=world.installer_a, community=community, rows=rows)


def _rows(community: Community) -> dict:
    """Every column of what was written, foreign keys by what they point to."""

    def values(queryset, **natural):
        out = []
        for obj in queryset:
            row = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
            row = {k: v for k, v in row.items() if k not in SKIPPED and not k.endswith("_id")}
            row.update({name: key(obj) for name, key in natural.items()})
            out.append(row)
        return sorted(out, key=repr)

    devices = Device.objects.filter(community=community).select_related("building", "apartment")
    where = {
        "building": lambda o: o.building.name if o.building_id else None,
        "apartment": lambda o: o.apartment.number if o.apartment_id else None,
    }
    return {
        "buildings": values(Building.objects.filter(community=community)),
        "apartments": values(Apartment.objects.filter(community=community), building=where["building"]),
        "residents": values(
            Resident.objects.filter(community=community).select_related("apartment"),
            apartment=lambda o: o.apartment.number,
            email=lambda o: o.email.replace(".one@", "@").replace(".two@", "@"),
            account_email_sent_to=lambda o: o.account_email_sent_to.replace(".one@", "@").replace(
                ".two@", "@"
            ),
            family_master=lambda o: o.family_master_id,
        ),
        "devices": values(devices, **where, mac=lambda o: o.mac_address_id is not None),
        "relays": values(Relay.objects.filter(device__community=community), device=lambda o: o.device.name),
    }


def _audit(after_pk: int) -> list[tuple]:
    return sorted(
        (e.action, e.object_type.model, sorted(e.changes))
        for e in AuditLog.objects.filter(pk__gt=after_pk).select_related("object_type")
    )


def _counters(community: Community) -> tuple[int, int, int]:
    community.refresh_from_db()
    return community.apartment_count, community.end_user_count, community.device_count


def test_the_import_writes_what_the_dialogs_write(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    one, two = _twins(world)
    macs = [make_mac(world.installer_a).mac for _ in range(6)]

    mark = AuditLog.objects.latest("pk").pk
    with django_capture_on_commit_callbacks(execute=True):
        _by_dialogs(client, world, one, macs[:3])
    dialog_audit, dialog_mail = _audit(mark), list(mailoutbox)
    mailoutbox.clear()

    mark = AuditLog.objects.latest("pk").pk
    with django_capture_on_commit_callbacks(execute=True):
        _by_import(world, two, macs[3:])
    import_audit, import_mail = _audit(mark), list(mailoutbox)

    assert _rows(two) == _rows(one)
    assert len(_rows(one)["relays"]) == 3  # Relay1 of each door phone and the access control
    assert _counters(two) == _counters(one) == (1, 1, 3)
    assert import_audit == dialog_audit
    # The same email (its language is the end user's, compared above), to the same account.
    assert [(m.to, m.subject) for m in import_mail] == [
        ([_email("two")], m.subject.replace(one.name, two.name)) for m in dialog_mail
    ]
    assert len(import_mail) == 1

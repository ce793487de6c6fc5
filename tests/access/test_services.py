"""Credentials: the rules of access.services and what each change asks of the door devices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from access import services
from access.choices import CredentialKind, CredentialScope
from access.models import Credential, DeviceUsers
from communities.choices import AccessControlPermission, PinMode
from communities.models import Community
from devices.choices import CommandKind, CommandStatus, Place
from devices.models import DeviceCommand
from residents import services as resident_services
from smartplus.authz import NotFound
from tests.factories import build_world, make_apartment, make_device, make_family_member

pytestmark = pytest.mark.django_db


def pin(code="1234", **more):
    return {"kind": CredentialKind.PIN, "code": code, **more}


def card(code="0A1B2C3D", **more):
    return {"kind": CredentialKind.RF_CARD, "code": code, **more}


def users_commands(device):
    return DeviceCommand.objects.filter(device=device, kind=CommandKind.USERS, status=CommandStatus.QUEUED)


@pytest.fixture
def w():
    return build_world()


def test_create_pin_raises_the_public_door_version_and_queues_one_users_command(w):
    credential = services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    assert (credential.apartment, credential.community_id, credential.scope) == (
        w.apartment_a,
        w.community_a.pk,
        CredentialScope.PUBLIC,
    )
    state = DeviceUsers.objects.get(device=w.device_a)
    assert (state.version_wanted, state.version_acknowledged) == (1, 0)
    services.credential_create(actor=w.installer_a, resident_id=w.member_a.pk, fields=card())
    state.refresh_from_db()
    assert state.version_wanted == 2
    # Coalesced: one waiting command carries the link, whatever the number of changes.
    assert users_commands(w.device_a).count() == 1
    assert users_commands(w.device_a).get().payload["url"].endswith("/device-api/v1/users")
    # B's device is not concerned.
    assert not DeviceUsers.objects.filter(device=w.device_b).exists()


def test_device_list_is_in_the_akuvox_user_shape_and_acknowledged_on_done(w):
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin("5678"))
    payload = services.device_users_payload(device_id=w.device_a.pk)
    assert payload["version"] == 1
    (user,) = payload["users"]
    assert {"ID", "Name", "UserID", "PrivatePIN", "CardCode", "ScheduleRelay", "LiftFloorNum"} <= set(user)
    assert (user["Name"], user["PrivatePIN"], user["CardCode"], user["ScheduleRelay"]) == (
        "Lily Zheng",
        "5678",
        "",
        "1001-1;",
    )
    command = users_commands(w.device_a).get()
    command.status = CommandStatus.DONE
    command.save()
    services.command_reported(None, command=command)
    state = DeviceUsers.objects.get(device=w.device_a)
    assert (state.version_acknowledged, state.in_sync) == (1, True)
    assert state.acknowledged_at is not None


def test_pin_mode_pin_refuses_the_same_pin_in_another_apartment(w):
    other = make_apartment(w.building_a, "102", resident={"first_name": "Ann", "last_name": "Other"})
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    with pytest.raises(ValidationError) as exc:
        services.credential_create(actor=w.installer_a, resident_id=other.residents.get().pk, fields=pin())
    assert "already used in this community" in exc.value.message_dict["code"][0]


def test_apt_plus_pin_allows_the_same_pin_in_another_apartment_not_in_the_same(w):
    Community.objects.filter(pk=w.community_a.pk).update(pin_mode=PinMode.APT_PIN)
    other = make_apartment(w.building_a, "102", resident={"first_name": "Ann", "last_name": "Other"})
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    services.credential_create(actor=w.installer_a, resident_id=other.residents.get().pk, fields=pin())
    with pytest.raises(ValidationError) as exc:
        services.credential_create(actor=w.installer_a, resident_id=w.member_a.pk, fields=pin())
    assert "code" in exc.value.message_dict
    users = services.device_users_payload(device_id=w.device_a.pk)["users"]
    assert sorted(u["APT"] for u in users) == ["101", "102"]


def test_rf_card_is_once_per_community_even_under_apt_plus_pin(w):
    Community.objects.filter(pk=w.community_a.pk).update(pin_mode=PinMode.APT_PIN)
    other = make_apartment(w.building_a, "102", resident={"first_name": "Ann", "last_name": "Other"})
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=card("abcd1234"))
    with pytest.raises(ValidationError) as exc:
        services.credential_create(
            actor=w.installer_a, resident_id=other.residents.get().pk, fields=card("ABCD1234")
        )
    assert "already registered" in exc.value.message_dict["code"][0]


def test_personal_pin_is_once_per_apartment_and_goes_to_the_apartments_own_door(w):
    own = make_device(
        w.community_a, "Villa Door", building=w.building_a, apartment=w.apartment_a, device_type=1
    )
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin(scope="private"))
    assert DeviceUsers.objects.get(device=own).version_wanted == 1
    assert not DeviceUsers.objects.filter(device=w.device_a).exists()  # the public door is not concerned
    with pytest.raises(ValidationError) as exc:
        services.credential_create(
            actor=w.installer_a, resident_id=w.member_a.pk, fields=pin(scope="private")
        )
    assert "code" in exc.value.message_dict
    # The same PIN for the public doors is another door: allowed.
    services.credential_create(actor=w.installer_a, resident_id=w.member_a.pk, fields=pin())
    assert [u["PrivatePIN"] for u in services.device_users_payload(device_id=own.pk)["users"]] == ["1234"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (pin("12"), "code"),
        (pin("12ab"), "code"),
        (card("xyz!"), "code"),
        ({"kind": "face", "code": "1"}, "kind"),
    ],
)
def test_bad_codes_are_field_errors(w, fields, field):
    with pytest.raises(ValidationError) as exc:
        services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=fields)
    assert field in exc.value.message_dict
    assert not Credential.objects.exists()


def test_window_must_end_after_it_starts(w):
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        services.credential_create(
            actor=w.installer_a,
            resident_id=w.resident_a.pk,
            fields=card(valid_from=now, valid_until=now - timedelta(hours=1)),
        )
    assert "valid_until" in exc.value.message_dict
    credential = services.credential_create(
        actor=w.installer_a,
        resident_id=w.resident_a.pk,
        fields=card(valid_from=now - timedelta(days=2), valid_until=now - timedelta(days=1)),
    )
    assert not credential.valid_at()
    (user,) = services.device_users_payload(device_id=w.device_a.pk)["users"]
    assert user["ValidUntil"].endswith("Z") and user["ValidFrom"]


def test_only_public_area_refuses_a_pms_personal_credential_at_the_service(w):
    Community.objects.filter(pk=w.community_a.pk).update(
        access_control_permission=AccessControlPermission.PUBLIC_ONLY
    )
    with pytest.raises(PermissionDenied):
        services.credential_create(actor=w.pm_a, resident_id=w.resident_a.pk, fields=pin(scope="private"))
    # Public ones are the PM's work; installers' staff may set personal ones.
    services.credential_create(actor=w.pm_a, resident_id=w.resident_a.pk, fields=pin())
    personal = services.credential_create(
        actor=w.sub_a, resident_id=w.member_a.pk, fields=pin("4321", scope="private")
    )
    with pytest.raises(PermissionDenied):
        services.credential_update(actor=w.pm_a, credential_id=personal.pk, fields={"name": "x"})
    with pytest.raises(PermissionDenied):
        services.credential_delete(actor=w.pm_a, credential_id=personal.pk)


def test_pm_under_public_and_private_sets_personal_ones(w):
    credential = services.credential_create(
        actor=w.pm_a, resident_id=w.member_a.pk, fields=card(scope="private")
    )
    assert credential.created_by == w.pm_a


def test_foreign_residents_and_credentials_are_not_found(w):
    with pytest.raises(NotFound):
        services.credential_create(actor=w.installer_b, resident_id=w.resident_a.pk, fields=pin())
    with pytest.raises(NotFound):
        services.credential_create(actor=w.pm_b, resident_id=w.resident_a.pk, fields=pin())
    credential = services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    for call in (
        lambda: services.credential_update(
            actor=w.installer_b, credential_id=credential.pk, fields={"name": "x"}
        ),
        lambda: services.credential_delete(actor=w.installer_b, credential_id=credential.pk),
        lambda: services.credential_bulk_delete(actor=w.installer_b, credential_ids=[credential.pk]),
    ):
        with pytest.raises(NotFound):
            call()
    assert Credential.objects.filter(pk=credential.pk).exists()


def test_update_moving_to_personal_bumps_both_doors(w):
    own = make_device(
        w.community_a, "Villa Door", building=w.building_a, apartment=w.apartment_a, device_type=1
    )
    credential = services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    services.credential_update(actor=w.installer_a, credential_id=credential.pk, fields={"scope": "private"})
    assert DeviceUsers.objects.get(device=w.device_a).version_wanted == 2
    assert DeviceUsers.objects.get(device=own).version_wanted == 1
    assert services.device_users_payload(device_id=w.device_a.pk)["users"] == []


def test_delete_and_bulk_delete_bump_the_doors(w):
    a = services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    b = services.credential_create(actor=w.installer_a, resident_id=w.member_a.pk, fields=card())
    c = services.credential_create(actor=w.installer_a, resident_id=w.member_a.pk, fields=pin("9999"))
    services.credential_delete(actor=w.installer_a, credential_id=a.pk)
    assert services.credential_bulk_delete(actor=w.installer_a, credential_ids=[b.pk, c.pk]) == 2
    assert not Credential.objects.exists()
    assert DeviceUsers.objects.get(device=w.device_a).version_wanted == 5


def test_building_door_gets_its_buildings_public_credentials_only(w):
    from tests.factories import make_building

    other_building = make_building(w.community_a, "Beta Block")
    other_apt = make_apartment(other_building, "201", resident={"first_name": "Bo", "last_name": "Beta"})
    beta_door = make_device(w.community_a, "Beta Door", building=other_building)
    assert beta_door.place == Place.BUILDING
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    assert not DeviceUsers.objects.filter(device=beta_door).exists()
    services.credential_create(
        actor=w.installer_a, resident_id=other_apt.residents.get().pk, fields=pin("7777")
    )
    assert [u["PrivatePIN"] for u in services.device_users_payload(device_id=beta_door.pk)["users"]] == [
        "7777"
    ]
    assert len(services.device_users_payload(device_id=w.device_a.pk)["users"]) == 2


def test_relay_without_the_method_gets_no_user(w):
    door = make_device(
        w.community_a,
        "Faces Only",
        relays=[{"enabled": True, "name": "Door", "access_methods": ["face", "rf_card"]}],
    )
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=card())
    users = services.device_users_payload(device_id=door.pk)["users"]
    assert [(u["PrivatePIN"], u["CardCode"]) for u in users] == [("", "0A1B2C3D")]


def test_reset_removes_pins_keeps_cards_and_the_doors_fetch_again(w):
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    member_card = services.credential_create(actor=w.installer_a, resident_id=w.member_a.pk, fields=card())
    services.credential_create(actor=w.installer_a, resident_id=w.member_a.pk, fields=pin("2222"))
    removed = resident_services.apartment_reset(actor=w.installer_a, apartment=w.apartment_a)
    assert removed["access credentials"] == 2
    assert list(Credential.objects.values_list("pk", "resident_id")) == [(member_card.pk, None)]
    assert DeviceUsers.objects.get(device=w.device_a).version_wanted == 4
    (user,) = services.device_users_payload(device_id=w.device_a.pk)["users"]
    assert user["CardCode"] == "0A1B2C3D"


def test_deleting_an_end_user_removes_their_credentials_and_bumps(w):
    services.credential_create(actor=w.installer_a, resident_id=w.member_a.pk, fields=card())
    kept = services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    resident_services.resident_delete(actor=w.installer_a, resident=w.member_a)
    assert list(Credential.objects.values_list("pk", flat=True)) == [kept.pk]
    assert DeviceUsers.objects.get(device=w.device_a).version_wanted == 3
    other = make_family_member(w.apartment_a, first_name="Kim")
    services.credential_create(actor=w.installer_a, resident_id=other.pk, fields=card())
    resident_services.resident_delete(actor=w.installer_a, resident=w.resident_a)  # takes its family along
    assert not Credential.objects.exists()


def test_deleting_an_apartment_bumps_its_public_doors(w):
    services.credential_create(actor=w.installer_a, resident_id=w.resident_a.pk, fields=pin())
    resident_services.apartment_delete(actor=w.installer_a, apartment=w.apartment_a)
    assert not Credential.objects.exists()
    assert DeviceUsers.objects.get(device=w.device_a).version_wanted == 2
    assert services.device_users_payload(device_id=w.device_a.pk)["users"] == []

"""Every rule of the residents module, tested where it lives (residents.services).

The spec's Add APT / Edit APT / Reset / Delete rules, the end-user counters, the roles and the
atomicity of multi-row writes. Each test is written so that removing its rule makes it fail.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.choices import Language
from communities.models import Community
from residents import services
from residents.choices import CallMode, CallType, CredentialKind
from residents.models import AccessCredential, Alarm, Apartment, CallHistory, DoorLog, Message, Resident
from smartplus import authz, roles
from smartplus.models import AuditAction, AuditLog
from tests.factories import CommunityFactory, make_apartment, make_building, make_family_member

pytestmark = pytest.mark.django_db

US_MOBILE = "2015550123"
US_LANDLINES = ("2125550100", "2125550101", "2125550102")


def _errors(exc: pytest.ExceptionInfo) -> dict:
    return exc.value.message_dict


def _counters(community: Community) -> tuple[int, int]:
    community.refresh_from_db()
    return community.apartment_count, community.end_user_count


def _real_counts(community: Community) -> tuple[int, int]:
    return (
        Apartment.objects.filter(community=community).count(),
        Resident.objects.filter(community=community).count(),
    )


def _assert_counters_match(community: Community) -> tuple[int, int]:
    real = _real_counts(community)
    assert _counters(community) == real
    return real


def _create(world, *, apartment: dict | None = None, resident: dict | None = None, actor=None):
    """Add APT in Alpha Block of community A (installer A unless told)."""
    return services.apartment_create(
        actor=actor or world.installer_a,
        building=world.building_a,
        apartment={"number": "202", **(apartment or {})},
        resident=resident,
    )


def may_delete(actor, community: Community) -> bool:
    """The page's question: may the actor delete end users of the community (authz predicate)."""
    return authz.can(actor, roles.DELETE, Resident, parent=community)


def _master(apartment: Apartment) -> Resident | None:
    return Resident.objects.filter(apartment=apartment, family_master__isnull=True).first()


def _password_in(message) -> str:
    match = re.search(r"^Password: (\S+)$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)


LILY = {"first_name": "Lily", "last_name": "Zheng"}


# --- apartments: defaults, APT rules, capacity -------------------------------------------------


def test_apartment_defaults(world):
    apt = _create(world)
    apt.refresh_from_db()
    assert apt.web_relay_id == 0
    assert apt.call_type == CallType.SMARTPLUS_AND_INDOOR == 0
    assert apt.get_call_type_display() == "SmartPlus and indoor monitors"
    assert apt.call_mode == CallMode.IP
    assert (apt.community, apt.building) == (world.community_a, world.building_a)


def test_apartment_fields_are_saved(world):
    apt = _create(
        world,
        apartment={"floor": 3, "name": "Corner flat", "web_relay_id": 7, "call_type": 4, "call_mode": "sip"},
    )
    apt.refresh_from_db()
    assert (apt.floor, apt.name, apt.web_relay_id, apt.call_type, apt.call_mode) == (
        3,
        "Corner flat",
        7,
        4,
        "sip",
    )


@pytest.mark.parametrize("number", ["1", "123456", "2#123", "12#3456", "1#2#3", "9#"])
def test_valid_apt_numbers(world, number):
    apt = _create(world, apartment={"number": number})
    assert Apartment.objects.get(pk=apt.pk).number == number


@pytest.mark.parametrize(
    "number",
    [
        "",  # required
        "#123",  # never starting with "#"
        "#",
        "1234567",  # at most 6 digits
        "12#34567",
        "12a",  # digits and "#" only
        "1-2",
        "1 2",
    ],
)
def test_invalid_apt_numbers_are_refused_at_number(world, number):
    before = _counters(world.community_a)
    with pytest.raises(ValidationError) as exc:
        _create(world, apartment={"number": number})
    assert list(_errors(exc)) == ["number"]
    assert not Apartment.objects.filter(community=world.community_a, number=number).exists()
    assert _counters(world.community_a) == before


def test_apt_is_unique_within_the_community_even_across_buildings(world):
    other_building = make_building(world.community_a, "Second Block")
    with pytest.raises(ValidationError) as exc:
        services.apartment_create(
            actor=world.installer_a, building=other_building, apartment={"number": "101"}, resident=None
        )
    assert "number" in _errors(exc)
    assert "Alpha Block" in _errors(exc)["number"][0]  # says where the clash is
    assert Apartment.objects.filter(community=world.community_a, number="101").count() == 1


def test_same_apt_in_another_community_is_fine(world):
    # "101" exists in community A; community A2 (same installer) and B may have their own 101.
    building_a2 = make_building(world.community_a2)
    apt = make_apartment(building_a2, "101")
    assert apt.community == world.community_a2
    apt_b = make_apartment(world.building_b, "101")
    assert apt_b.community == world.community_b


def test_apt_uniqueness_on_update(world):
    apt = _create(world, apartment={"number": "202"})
    with pytest.raises(ValidationError) as exc:
        services.apartment_update(
            actor=world.installer_a, apartment=apt, fields={"number": "101"}, resident=None
        )
    assert "number" in _errors(exc)
    apt.refresh_from_db()
    assert apt.number == "202"
    # Keeping its own number is not a clash.
    services.apartment_update(
        actor=world.installer_a, apartment=apt, fields={"number": "202", "name": "Same"}, resident=None
    )
    apt.refresh_from_db()
    assert apt.name == "Same"


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"name": "x" * 65}, "name"),
        ({"call_type": 6}, "call_type"),
        ({"call_mode": "pstn"}, "call_mode"),
        ({"web_relay_id": 51}, "web_relay_id"),
        ({"floor": 0}, "floor"),
        ({"floor": 129}, "floor"),
    ],
)
def test_apartment_field_errors_land_on_their_key(world, fields, key):
    with pytest.raises(ValidationError) as exc:
        _create(world, apartment=fields)
    assert list(_errors(exc)) == [key]
    assert not Apartment.objects.filter(community=world.community_a, number="202").exists()


def test_apt_name_of_64_characters_is_fine(world):
    apt = _create(world, apartment={"name": "x" * 64})
    assert len(Apartment.objects.get(pk=apt.pk).name) == 64


@pytest.mark.parametrize("call_type", [0, 1, 2, 3, 4, 5])
def test_call_type_codes_0_to_5(world, call_type):
    apt = _create(world, apartment={"call_type": call_type})
    assert Apartment.objects.get(pk=apt.pk).call_type == call_type


def test_capacity_never_exceeded_and_message_says_why(world):
    community = world.community_a
    Community.objects.filter(pk=community.pk).update(number_of_apartments=2)
    _create(world, apartment={"number": "202"})  # 2 of 2
    with pytest.raises(ValidationError) as exc:
        _create(world, apartment={"number": "303"}, resident=LILY | {"email": "x@example.test"})
    errors = _errors(exc)
    assert list(errors) == ["__all__"]
    assert "Number of apartments" in errors["__all__"][0]
    assert Apartment.objects.filter(community=community).count() == 2
    assert _counters(community) == (2, 2)
    assert not Resident.objects.filter(email="x@example.test").exists()


def test_capacity_frees_up_when_an_apartment_is_deleted(world):
    Community.objects.filter(pk=world.community_a.pk).update(number_of_apartments=1)
    with pytest.raises(ValidationError):
        _create(world, apartment={"number": "202"})
    services.apartment_delete(actor=world.installer_a, apartment=world.apartment_a)
    apt = _create(world, apartment={"number": "202"})
    assert Apartment.objects.filter(community=world.community_a).get() == apt


def test_capacity_is_per_community(world):
    # Community A full; community B is not affected.
    Community.objects.filter(pk=world.community_a.pk).update(number_of_apartments=1)
    Community.objects.filter(pk=world.community_b.pk).update(number_of_apartments=2)
    apt = make_apartment(world.building_b, "910")
    assert apt.community == world.community_b


def test_family_sip_numbers_are_10_digits_and_unique(world):
    apartments = [_create(world, apartment={"number": str(n)}) for n in (201, 202, 203)]
    numbers = [a.family_sip_number for a in [world.apartment_a, world.apartment_b, *apartments]]
    assert all(re.fullmatch(r"\d{10}", n) for n in numbers), numbers
    assert len(set(numbers)) == len(numbers)
    stored = list(Apartment.objects.values_list("family_sip_number", flat=True))
    assert len(set(stored)) == len(stored) == 5


def test_family_sip_number_does_not_change_on_edit(world):
    before = world.apartment_a.family_sip_number
    services.apartment_update(
        actor=world.installer_a, apartment=world.apartment_a, fields={"number": "111"}, resident=None
    )
    world.apartment_a.refresh_from_db()
    assert world.apartment_a.family_sip_number == before


def test_add_resident_later_creates_the_apartment_alone(world):
    before = _counters(world.community_a)
    apt = _create(world, resident=None)
    assert not apt.residents.exists()
    assert _counters(world.community_a) == (before[0] + 1, before[1])


def test_apartment_with_resident_creates_the_family_master(world):
    apt = _create(world, resident=LILY | {"language": "fr", "accessible_floors": "1,3"})
    master = _master(apt)
    assert master is not None and master.is_family_master
    assert (master.first_name, master.last_name, master.language) == ("Lily", "Zheng", "fr")
    assert master.community == world.community_a
    assert master.floor_list == [1, 3]


def test_resident_can_be_added_later_by_editing(world, mailoutbox, django_capture_on_commit_callbacks):
    apt = _create(world, resident=None)
    before = _counters(world.community_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.apartment_update(
            actor=world.installer_a,
            apartment=apt,
            fields={},
            resident=LILY | {"email": "later@example.test"},
        )
    assert _master(apt).email == "later@example.test"
    assert _counters(world.community_a) == (before[0], before[1] + 1)
    assert [m.to for m in mailoutbox] == [["later@example.test"]]


def test_apartment_can_move_to_another_building_of_its_community_only(world):
    second = make_building(world.community_a, "Second Block")
    services.apartment_update(
        actor=world.installer_a, apartment=world.apartment_a, building=second, fields={}, resident=None
    )
    world.apartment_a.refresh_from_db()
    assert world.apartment_a.building == second
    building_a2 = make_building(world.community_a2)
    with pytest.raises(ValidationError) as exc:
        services.apartment_update(
            actor=world.installer_a,
            apartment=world.apartment_a,
            building=building_a2,
            fields={},
            resident=None,
        )
    assert "building" in _errors(exc)
    world.apartment_a.refresh_from_db()
    assert world.apartment_a.building == second


def test_apartment_delete_removes_its_end_users_and_keeps_audit_logs(world):
    apt = world.apartment_a
    audit_ids = set(AuditLog.objects.values_list("pk", flat=True))
    AccessCredential.objects.create(community=world.community_a, apartment=apt, kind="pin", code="1234")
    services.apartment_delete(actor=world.installer_a, apartment=apt)
    assert not Apartment.objects.filter(pk=apt.pk).exists()
    assert not Resident.objects.filter(pk__in=[world.resident_a.pk, world.member_a.pk]).exists()
    assert not AccessCredential.objects.filter(apartment_id=apt.pk).exists()
    assert audit_ids <= set(AuditLog.objects.values_list("pk", flat=True))
    assert _counters(world.community_a) == (0, 0)


def test_apartment_delete_is_one_change_set_with_the_apt_on_top(world):
    from tests.factories import make_device

    apt = world.apartment_a
    make_device(world.community_a, "Monitor", building=apt.building, apartment=apt, device_type=2)
    last = AuditLog.objects.latest("pk").pk
    services.apartment_delete(actor=world.installer_a, apartment=apt)
    entries = list(AuditLog.objects.filter(pk__gt=last).order_by("-pk"))
    assert len({e.change_set for e in entries}) == 1
    top = entries[0]
    assert (top.action, top.object_repr, top.installer_id) == ("delete", "APT 101", world.installer_a.pk)
    assert top.changes == {"residents": [2, 0], "devices": [1, 0], "relays": [1, 0]}
    assert sorted(e.object_repr for e in entries[1:]) == ["Jim Wang", "Lily Zheng", "Monitor"]
    assert _counters(world.community_a) == (0, 0)


def test_deleting_a_family_master_lists_its_family_members_under_it(world):
    last = AuditLog.objects.latest("pk").pk
    assert services.resident_delete(actor=world.installer_a, resident=world.resident_a) == 2
    entries = list(AuditLog.objects.filter(pk__gt=last).order_by("-pk"))
    assert [(e.object_id, e.changes) for e in entries] == [
        (str(world.resident_a.pk), {"residents": [1, 0]}),
        (str(world.member_a.pk), {}),
    ]
    assert len({e.change_set for e in entries}) == 1


# --- residents: names, email, language, phones, floors -----------------------------------------


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"first_name": ""}, "first_name"),
        ({"first_name": "   "}, "first_name"),
        ({"first_name": "x" * 65}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"last_name": "y" * 65}, "last_name"),
        ({"email": "not-an-email"}, "email"),
        ({"language": "de"}, "language"),
        ({"country": "ZZ"}, "country"),
        ({"mobile_number": US_MOBILE}, "mobile_number"),  # no country chosen
        ({"country": "US", "mobile_number": "5551234"}, "mobile_number"),  # not a valid mobile
        ({"country": "US", "mobile_number": "+86 13800138000"}, "mobile_number"),  # other country
        ({"country": "US", "mobile_number": "abc"}, "mobile_number"),
        ({"country": "US", "landline1": "12"}, "landline1"),
        ({"country": "US", "landline2": "12"}, "landline2"),
        ({"country": "US", "landline3": "12"}, "landline3"),
        ({"landline1": US_LANDLINES[0]}, "landline1"),  # no country chosen
        ({"accessible_floors": "1;2"}, "accessible_floors"),
    ],
)
def test_resident_errors_land_on_their_key_and_save_nothing(world, fields, key):
    before = _counters(world.community_a)
    with pytest.raises(ValidationError) as exc:
        _create(world, resident=LILY | fields)
    assert key in _errors(exc)
    assert set(_errors(exc)) <= {key, "country"}  # an unknown country also fails the phone check
    assert not Apartment.objects.filter(community=world.community_a, number="202").exists()
    assert _counters(world.community_a) == before


def test_names_of_64_characters_are_fine(world):
    apt = _create(world, resident={"first_name": "f" * 64, "last_name": "l" * 64})
    master = _master(apt)
    assert (len(master.first_name), len(master.last_name)) == (64, 64)


def test_empty_optional_fields_may_be_none(world):
    apt = _create(
        world,
        apartment={"name": None},
        resident=LILY | {"email": None, "mobile_number": None, "landline1": None, "accessible_floors": None},
    )
    master = _master(apt)
    assert (apt.name, master.email, master.mobile_number, master.landline1, master.accessible_floors) == (
        "",
        "",
        "",
        "",
        "",
    )


def test_names_are_stripped(world):
    apt = _create(world, resident={"first_name": "  Lily ", "last_name": " Zheng  "})
    assert _master(apt).display_name == "Lily Zheng"


def test_twelve_languages(world):
    assert len(Language.values) == 12
    for n, language in enumerate(Language.values):
        apt = _create(world, apartment={"number": str(300 + n)}, resident=LILY | {"language": language})
        assert _master(apt).language == language


def test_phones_are_validated_against_the_country_and_stored_as_national_numbers(world):
    apt = _create(
        world,
        resident=LILY
        | {
            "country": "US",
            "mobile_number": "(201) 555-0123",
            "landline1": "+1 212 555 0100",
            "landline2": "5551234",  # a possible landline, though not a valid mobile
            "landline3": "",
        },
    )
    master = _master(apt)
    assert (master.mobile_number, master.landline1, master.landline2, master.landline3) == (
        US_MOBILE,
        "2125550100",
        "5551234",
        "",
    )
    apt2 = _create(
        world,
        apartment={"number": "203"},
        resident={"first_name": "Wei", "last_name": "Li", "country": "CN", "mobile_number": "13800138000"},
    )
    assert _master(apt2).mobile_number == "13800138000"


def test_email_is_unique_among_end_users_case_insensitively_across_tenants(world):
    Resident.objects.filter(pk=world.apartment_b.residents.get().pk).update(email="Brenda@Example.test")
    with pytest.raises(ValidationError) as exc:
        _create(world, resident=LILY | {"email": "brenda@example.TEST"})
    assert list(_errors(exc)) == ["email"]
    assert not Apartment.objects.filter(community=world.community_a, number="202").exists()


def test_email_clash_is_reported_with_the_other_field_errors(world):
    """Checked before saving, so the form shows it next to the other mistakes at once."""
    Resident.objects.filter(pk=world.resident_a.pk).update(email="lily@example.test")
    with pytest.raises(ValidationError) as exc:
        _create(world, resident={"first_name": "Tom", "last_name": "x" * 65, "email": "LILY@example.test"})
    assert set(_errors(exc)) == {"email", "last_name"}


def test_email_unique_for_family_members_too(world):
    services.apartment_update(
        actor=world.installer_a,
        apartment=world.apartment_a,
        fields={},
        resident={"email": "lily@example.test"},
    )
    with pytest.raises(ValidationError) as exc:
        make_family_member(world.apartment_a, first_name="Tom", email="LILY@example.test")
    assert list(_errors(exc)) == ["email"]
    with pytest.raises(ValidationError) as exc:
        services.family_member_update(
            actor=world.installer_a, member=world.member_a, fields={"email": "Lily@Example.Test"}
        )
    assert list(_errors(exc)) == ["email"]


def test_resident_keeping_its_own_email_is_not_a_clash(world):
    fields = {"email": "lily@example.test"}
    services.apartment_update(
        actor=world.installer_a, apartment=world.apartment_a, fields={}, resident=fields
    )
    services.apartment_update(
        actor=world.installer_a,
        apartment=world.apartment_a,
        fields={},
        resident=fields | {"first_name": "Lilian"},
    )
    world.resident_a.refresh_from_db()
    assert (world.resident_a.first_name, world.resident_a.email) == ("Lilian", "lily@example.test")


def test_email_is_not_a_clash_with_staff_accounts(world):
    # Unique among end users only: a property manager's address is another account kind.
    apt = _create(world, resident=LILY | {"email": world.pm_a.email})
    assert _master(apt).email == world.pm_a.email


def test_family_member_email_can_be_set_when_blank(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.family_member_update(
            actor=world.installer_a, member=world.member_a, fields={"email": "jim@example.test"}
        )
    world.member_a.refresh_from_db()
    assert world.member_a.email == "jim@example.test"
    assert [m.to for m in mailoutbox] == [["jim@example.test"]]


@pytest.mark.parametrize("new_email", ["other@example.test", ""])
def test_family_member_email_cannot_be_edited_once_set(world, new_email):
    member = make_family_member(world.apartment_a, first_name="Tom", email="jim2@example.test")
    with pytest.raises(ValidationError) as exc:
        services.family_member_update(actor=world.installer_a, member=member, fields={"email": new_email})
    assert list(_errors(exc)) == ["email"]
    member.refresh_from_db()
    assert member.email == "jim2@example.test"


def test_family_member_email_in_other_letter_case_is_the_same_email_and_kept(world):
    member = make_family_member(world.apartment_a, first_name="Tom", email="jim2@example.test")
    services.family_member_update(
        actor=world.installer_a, member=member, fields={"email": "JIM2@example.test"}
    )
    member.refresh_from_db()
    assert member.email == "jim2@example.test"


def test_family_member_other_fields_stay_editable_with_an_email_set(world):
    member = make_family_member(world.apartment_a, first_name="Tom", email="tom@example.test")
    services.family_member_update(
        actor=world.installer_a,
        member=member,
        fields={"first_name": "Thomas", "email": "tom@example.test", "language": "ja"},
    )
    member.refresh_from_db()
    assert (member.first_name, member.email, member.language) == ("Thomas", "tom@example.test", "ja")


def test_family_master_email_can_be_edited(world):
    for email in ("lily@example.test", "lily.zheng@example.test"):
        services.apartment_update(
            actor=world.installer_a, apartment=world.apartment_a, fields={}, resident={"email": email}
        )
        world.resident_a.refresh_from_db()
        assert world.resident_a.email == email


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"first_name": "x" * 65}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"email": "nope"}, "email"),
        ({"mobile_number": US_MOBILE}, "mobile_number"),  # no country chosen
        ({"language": "de"}, "language"),
    ],
)
def test_family_member_fields_are_validated(world, fields, key):
    before = _counters(world.community_a)
    with pytest.raises(ValidationError) as exc:
        make_family_member(world.apartment_a, **fields)
    assert list(_errors(exc)) == [key]
    assert world.apartment_a.residents.count() == 2
    assert _counters(world.community_a) == before


def test_family_member_needs_a_family_master(world):
    apt = _create(world, resident=None)
    with pytest.raises(ValidationError):
        make_family_member(apt)
    assert not apt.residents.exists()


def test_family_member_belongs_to_the_master_and_shares_its_subscription(world):
    expires = timezone.now() + timedelta(days=90)
    Resident.objects.filter(pk=world.resident_a.pk).update(activated=True, expires_at=expires)
    member = make_family_member(world.apartment_a, first_name="Tom")
    assert member.family_master == world.resident_a
    assert not member.is_family_master
    assert (member.activated, member.expires_at) == (True, expires)


def test_family_member_update_refuses_the_family_master(world):
    with pytest.raises(ValueError):
        services.family_member_update(
            actor=world.installer_a, member=world.resident_a, fields={"first_name": "X"}
        )


def test_unknown_fields_are_refused(world):
    with pytest.raises(ValueError):
        _create(world, apartment={"family_sip_number": "1234567890"})
    with pytest.raises(ValueError):
        _create(world, resident=LILY | {"activated": True})


# --- account emails ---------------------------------------------------------------------------


def test_resident_with_email_gets_account_email_with_initial_password(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        apt = _create(world, resident=LILY | {"email": "lily@example.test"})
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["lily@example.test"]
    assert "Alpha Gardens" in message.subject
    password = _password_in(message)
    master = _master(apt)
    assert check_password(password, master.app_password)
    assert master.app_registered_at is None


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("fr", "Votre compte de l'application SmartPlus pour Alpha Gardens"),
        ("zh-hans", "您在 Alpha Gardens 的 SmartPlus App 账号"),
        ("en", "Your SmartPlus app account for Alpha Gardens"),
    ],
)
def test_account_email_is_in_the_residents_language(
    world, mailoutbox, django_capture_on_commit_callbacks, language, subject
):
    with django_capture_on_commit_callbacks(execute=True):
        _create(world, resident=LILY | {"email": "lily@example.test", "language": language})
    assert [m.subject for m in mailoutbox] == [subject]


def test_no_email_without_an_address(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        apt = _create(world, resident=LILY)
        make_family_member(apt, first_name="Tom")
    assert callbacks == []
    assert mailoutbox == []
    # No usable app password exists before an account email delivers one.
    assert _master(apt).app_password.startswith("!")


def test_family_member_with_email_gets_account_email(world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        member = make_family_member(world.apartment_a, first_name="Tom", email="tom@example.test")
    assert [m.to for m in mailoutbox] == [["tom@example.test"]]
    member.refresh_from_db()
    assert check_password(_password_in(mailoutbox[0]), member.app_password)


def test_editing_a_resident_without_changing_the_email_sends_nothing(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    Resident.objects.filter(pk=world.resident_a.pk).update(email="lily@example.test")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.apartment_update(
            actor=world.installer_a,
            apartment=world.apartment_a,
            fields={"name": "Renamed"},
            resident={"first_name": "Lilian", "email": "lily@example.test"},
        )
    assert callbacks == []
    assert mailoutbox == []


def test_account_email_job_delivered_twice_sends_one_email_and_keeps_the_password(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    from residents.tasks import send_resident_account_email

    with django_capture_on_commit_callbacks(execute=True):
        apt = _create(world, resident=LILY | {"email": "lily@example.test"})
    master = _master(apt)
    password = _password_in(mailoutbox[0])
    stored = master.app_password

    send_resident_account_email.delay(master.pk)  # the broker redelivers the same job
    send_resident_account_email.delay(master.pk)

    assert len(mailoutbox) == 1
    master.refresh_from_db()
    assert master.app_password == stored and check_password(password, master.app_password)


def test_a_changed_email_gets_its_own_account_email_once(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    from residents.tasks import send_resident_account_email

    with django_capture_on_commit_callbacks(execute=True):
        member = make_family_member(world.apartment_a, first_name="Tom", email="")
        services.family_member_update(
            actor=world.installer_a, member=member, fields={"email": "tom@example.test"}
        )
    send_resident_account_email.delay(member.pk)
    assert [m.to for m in mailoutbox] == [["tom@example.test"]]


def test_account_email_smtp_failure_leaves_the_email_due_for_the_retry(world, mailoutbox, monkeypatch):
    from residents import app_accounts

    Resident.objects.filter(pk=world.resident_a.pk).update(email="lily@example.test")
    stored = Resident.objects.get(pk=world.resident_a.pk).app_password

    def refuse(**kwargs):
        raise OSError("SMTP server unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(app_accounts, "resident_account_email_send", refuse)
        with pytest.raises(OSError):
            app_accounts.app_account_email(resident_id=world.resident_a.pk)
    resident = Resident.objects.get(pk=world.resident_a.pk)
    assert resident.app_password == stored and resident.account_email_sent_to == ""

    assert app_accounts.app_account_email(resident_id=world.resident_a.pk) is True
    assert len(mailoutbox) == 1
    assert check_password(_password_in(mailoutbox[0]), Resident.objects.get(pk=resident.pk).app_password)


def test_reset_then_the_same_address_again_gets_a_new_account_email(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    resident = {"first_name": "Lily", "last_name": "Zheng", "email": "lily@example.test"}
    with django_capture_on_commit_callbacks(execute=True):
        services.apartment_update(
            actor=world.installer_a, apartment=world.apartment_a, fields={}, resident=resident
        )
    services.apartment_reset(actor=world.installer_a, apartment=world.apartment_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.apartment_update(
            actor=world.installer_a, apartment=world.apartment_a, fields={}, resident=resident
        )
    assert [m.to for m in mailoutbox] == [["lily@example.test"], ["lily@example.test"]]
    master = _master(world.apartment_a)
    assert check_password(_password_in(mailoutbox[1]), master.app_password)


# --- counters -----------------------------------------------------------------------------------


def test_counters_follow_a_sequence_of_operations(world, django_capture_on_commit_callbacks):
    community = CommunityFactory(number_of_apartments=10)
    actor = community.installer
    building = make_building(community)
    assert _assert_counters_match(community) == (0, 0)

    apt1 = make_apartment(building, "1", resident=LILY)
    assert _assert_counters_match(community) == (1, 1)
    apt2 = make_apartment(building, "2")
    assert _assert_counters_match(community) == (2, 1)
    services.apartment_update(
        actor=actor, apartment=apt2, fields={}, resident={"first_name": "A", "last_name": "B"}
    )
    assert _assert_counters_match(community) == (2, 2)
    # Editing an existing resident does not count again.
    services.apartment_update(actor=actor, apartment=apt2, fields={}, resident={"first_name": "C"})
    assert _assert_counters_match(community) == (2, 2)
    m1 = make_family_member(apt1, first_name="M1")
    make_family_member(apt1, first_name="M2")
    assert _assert_counters_match(community) == (2, 4)
    services.resident_delete(actor=actor, resident=m1)
    assert _assert_counters_match(community) == (2, 3)
    services.apartment_reset(actor=actor, apartment=apt1)  # removes M2
    assert _assert_counters_match(community) == (2, 2)
    make_family_member(apt2, first_name="M3")
    assert _assert_counters_match(community) == (2, 3)
    services.resident_delete(actor=actor, resident=_master(apt2))  # takes M3 along
    assert _assert_counters_match(community) == (2, 1)
    apt3 = make_apartment(building, "3", resident={"first_name": "D", "last_name": "E"})
    make_family_member(apt3, first_name="M4")
    assert _assert_counters_match(community) == (3, 3)
    services.apartment_delete(actor=actor, apartment=apt3)  # with its master and member
    assert _assert_counters_match(community) == (2, 1)
    with pytest.raises(ValidationError):
        make_apartment(building, "4", resident={"first_name": "x" * 65, "last_name": "E"})
    assert _assert_counters_match(community) == (2, 1)
    services.apartment_delete(actor=actor, apartment=apt1)
    services.apartment_delete(actor=actor, apartment=apt2)
    assert _assert_counters_match(community) == (0, 0)
    # Community A was not touched by any of it.
    assert _assert_counters_match(world.community_a) == (1, 2)


def test_world_counters_match(world):
    for community in (world.community_a, world.community_a2, world.community_b):
        _assert_counters_match(community)
    assert _counters(world.community_a) == (1, 2)


def test_community_recount_repairs_the_counters(world):
    Community.objects.filter(pk=world.community_a.pk).update(apartment_count=40, end_user_count=0)
    services.community_recount(community_id=world.community_a.pk)
    assert _counters(world.community_a) == (1, 2)


def _with_apartments(**filters):
    """A precondition: the machine's community holds apartments matching `filters`."""
    return precondition(lambda self: self._apartments(**filters).exists())


class CounterMachine(RuleBasedStateMachine):
    """Random sequences of every counted write; the counters always equal the rows."""

    def __init__(self):
        super().__init__()
        self.community = CommunityFactory(number_of_apartments=6)
        self.building = make_building(self.community)
        self.actor = self.community.installer
        self.numbers = itertools.count(1)

    def _apartments(self, **filters):
        return Apartment.objects.filter(community=self.community, **filters).distinct().order_by("pk")

    def _pick(self, queryset, i: int):
        items = list(queryset)
        return items[i % len(items)]

    @initialize()
    def furnished_apartment(self):
        apt = make_apartment(self.building, str(next(self.numbers)), resident=LILY)
        make_family_member(apt)

    @rule(with_resident=st.booleans(), valid=st.booleans())
    def create(self, with_resident, valid):
        resident = {"first_name": "F" if valid else "x" * 65, "last_name": "L"} if with_resident else None
        number = str(next(self.numbers)) if valid or with_resident else "#1"
        full = self._apartments().count() >= self.community.number_of_apartments
        try:
            services.apartment_create(
                actor=self.actor, building=self.building, apartment={"number": number}, resident=resident
            )
        except ValidationError:
            assert full or not valid
        else:
            assert valid and not full

    @_with_apartments()
    @rule(i=st.integers(0, 20))
    def create_duplicate(self, i):
        apt = self._pick(self._apartments(), i)
        with pytest.raises(ValidationError):
            services.apartment_create(
                actor=self.actor, building=self.building, apartment={"number": apt.number}, resident=None
            )

    @_with_apartments(residents__isnull=True)
    @rule(i=st.integers(0, 20))
    def add_resident_later(self, i):
        apt = self._pick(self._apartments(residents__isnull=True), i)
        services.apartment_update(
            actor=self.actor, apartment=apt, fields={}, resident={"first_name": "G", "last_name": "H"}
        )

    @_with_apartments(residents__isnull=False)
    @rule(i=st.integers(0, 20))
    def edit_resident(self, i):
        apt = self._pick(self._apartments(residents__isnull=False), i)
        services.apartment_update(actor=self.actor, apartment=apt, fields={}, resident={"first_name": "E"})

    @_with_apartments(residents__isnull=False)
    @rule(i=st.integers(0, 20))
    def add_family_member(self, i):
        apt = self._pick(self._apartments(residents__isnull=False), i)
        make_family_member(apt, first_name="M")

    @_with_apartments(residents__family_master__isnull=False)
    @rule(i=st.integers(0, 20))
    def delete_family_member(self, i):
        members = Resident.objects.filter(community=self.community, family_master__isnull=False)
        services.resident_delete(actor=self.actor, resident=self._pick(members.order_by("pk"), i))

    @_with_apartments(residents__isnull=False)
    @rule(i=st.integers(0, 20))
    def delete_family_master(self, i):
        masters = Resident.objects.filter(community=self.community, family_master__isnull=True)
        services.resident_delete(actor=self.actor, resident=self._pick(masters.order_by("pk"), i))

    @_with_apartments()
    @rule(i=st.integers(0, 20))
    def reset(self, i):
        services.apartment_reset(actor=self.actor, apartment=self._pick(self._apartments(), i))

    @_with_apartments()
    @rule(i=st.integers(0, 20))
    def delete_apartment(self, i):
        services.apartment_delete(actor=self.actor, apartment=self._pick(self._apartments(), i))

    @invariant()
    def counters_equal_rows(self):
        apartments, end_users = _assert_counters_match(self.community)
        assert apartments <= self.community.number_of_apartments
        assert end_users == Resident.objects.filter(apartment__community=self.community).count()


def test_counters_under_random_sequences(db):
    run_state_machine_as_test(
        CounterMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


# --- reset --------------------------------------------------------------------------------------


@pytest.fixture
def reset_case(world, mailoutbox, django_capture_on_commit_callbacks):
    """Apartment A fully used (every field, credential and log), then reset by installer A."""
    apt, community = world.apartment_a, world.community_a
    services.apartment_update(
        actor=world.installer_a,
        apartment=apt,
        fields={"floor": 5, "name": "Corner flat", "web_relay_id": 7, "call_type": 3, "call_mode": "sip"},
        resident={
            "email": "lily@example.test",
            "language": "fr",
            "country": "US",
            "mobile_number": US_MOBILE,
            "landline1": US_LANDLINES[0],
            "landline2": US_LANDLINES[1],
            "landline3": US_LANDLINES[2],
            "accessible_floors": "1,5",
        },
    )
    Resident.objects.filter(pk=world.resident_a.pk).update(
        activated=True,
        expires_at=timezone.now() + timedelta(days=200),
        free_family_members=3,
        time_zone="Asia/Shanghai",
        app_registered_at=timezone.now() - timedelta(days=10),
        app_password=make_password("chosen-in-the-app"),
    )
    Resident.objects.filter(pk=world.member_a.pk).update(email="jim@example.test")
    Community.objects.filter(pk=community.pk).update(home_automation=True, feature_plan="basic")
    other = make_apartment(world.building_a, "102", resident={"first_name": "Ann", "last_name": "Other"})
    other_member = make_family_member(other, first_name="Ben", email="ben@example.test")
    now = timezone.now()
    for target in (apt, other):
        for kind in CredentialKind.values:
            AccessCredential.objects.create(
                community=community, apartment=target, resident=_master(target), kind=kind, code=f"{kind}-1"
            )
        DoorLog.objects.create(apartment=target, time=now, method="PIN")
        CallHistory.objects.create(apartment=target, time=now, caller="door", callee="101")
        Message.objects.create(apartment=target, time=now, title="Hello")
        Alarm.objects.create(apartment=target, time=now, alarm_type="Smoke")
    # Apartment-level RF card without an owner.
    AccessCredential.objects.create(
        community=community, apartment=apt, kind=CredentialKind.RF_CARD, code="rf"
    )

    before_master = Resident.objects.get(pk=world.resident_a.pk)
    before_apartment = Apartment.objects.get(pk=apt.pk)
    before_community = Community.objects.get(pk=community.pk)
    audit_ids = set(AuditLog.objects.values_list("pk", flat=True))
    other_before = {
        "logs": {
            m.__name__: m.objects.filter(apartment=other).count()
            for m in (DoorLog, CallHistory, Message, Alarm)
        },
        "credentials": AccessCredential.objects.filter(apartment=other).count(),
        "end_users": set(other.residents.values_list("pk", flat=True)),
    }
    assert other_member.pk in other_before["end_users"]
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        removed = services.apartment_reset(actor=world.installer_a, apartment=apt)

    return SimpleNamespace(
        world=world,
        apartment=apt,
        other=other,
        removed=removed,
        callbacks=callbacks,
        mailoutbox=mailoutbox,
        before_master=before_master,
        master=Resident.objects.filter(pk=world.resident_a.pk).first(),
        before_apartment=before_apartment,
        after_apartment=Apartment.objects.get(pk=apt.pk),
        before_community=before_community,
        after_community=Community.objects.get(pk=community.pk),
        audit_ids=audit_ids,
        other_before=other_before,
    )


@pytest.mark.parametrize(
    "field", ["email", "mobile_number", "country", "landline1", "landline2", "landline3"]
)
def test_reset_clears_the_family_masters(reset_case, field):
    assert getattr(reset_case.before_master, field)  # the case really had a value
    assert getattr(reset_case.master, field) == ""


def test_reset_removes_family_member_accounts(reset_case):
    assert not Resident.objects.filter(pk=reset_case.world.member_a.pk).exists()
    assert reset_case.removed["family members"] == 1


@pytest.mark.parametrize("log", [DoorLog, CallHistory, Message, Alarm], ids=lambda m: m.__name__)
def test_reset_removes_the_apartments_logs(reset_case, log):
    assert not log.objects.filter(apartment=reset_case.apartment).exists()


@pytest.mark.parametrize("log", [DoorLog, CallHistory, Message, Alarm], ids=lambda m: m.__name__)
def test_reset_keeps_other_apartments_logs(reset_case, log):
    assert reset_case.other_before["logs"][log.__name__] == 1
    assert log.objects.filter(apartment=reset_case.other).count() == 1


@pytest.mark.parametrize(
    "kind",
    [
        CredentialKind.PIN,
        CredentialKind.FACE,
        CredentialKind.NFC,
        CredentialKind.BLUETOOTH,
        CredentialKind.QR_CODE,
    ],
)
def test_reset_removes_credentials(reset_case, kind):
    assert not AccessCredential.objects.filter(apartment=reset_case.apartment, kind=kind).exists()


def test_reset_keeps_rf_cards(reset_case):
    assert (
        AccessCredential.objects.filter(apartment=reset_case.apartment, kind=CredentialKind.RF_CARD).count()
        == 2
    )


def test_reset_keeps_other_apartments_end_users(reset_case):
    assert len(reset_case.other_before["end_users"]) == 2  # a family master and a family member
    assert (
        set(reset_case.other.residents.values_list("pk", flat=True)) == reset_case.other_before["end_users"]
    )
    assert Resident.objects.get(email="ben@example.test").family_master.apartment == reset_case.other


def test_reset_keeps_other_apartments_credentials(reset_case):
    assert reset_case.other_before["credentials"] == len(CredentialKind.values)
    assert AccessCredential.objects.filter(apartment=reset_case.other).count() == len(CredentialKind.values)


@pytest.mark.parametrize(
    "field",
    [
        "activated",
        "expires_at",
        "free_family_members",
        "time_zone",
        "language",
        "first_name",
        "last_name",
        "accessible_floors",
        "community_id",
        "apartment_id",
    ],
)
def test_reset_keeps_the_family_masters(reset_case, field):
    before = getattr(reset_case.before_master, field)
    default = (
        Resident._meta.get_field(field).get_default()
        if field not in ("community_id", "apartment_id")
        else None
    )
    assert before not in (None, "", default)  # the case really had a non-default value
    assert reset_case.master is not None
    assert getattr(reset_case.master, field) == before


@pytest.mark.parametrize(
    "field",
    ["call_type", "call_mode", "web_relay_id", "number", "name", "floor", "family_sip_number", "building_id"],
)
def test_reset_keeps_the_apartments(reset_case, field):
    before = getattr(reset_case.before_apartment, field)
    assert before not in (None, "", Apartment._meta.get_field(field).get_default())
    assert getattr(reset_case.after_apartment, field) == before


@pytest.mark.parametrize(
    "field", ["home_automation", "feature_plan", "number_of_apartments", "apartment_count"]
)
def test_reset_keeps_community_settings(reset_case, field):
    assert getattr(reset_case.after_community, field) == getattr(reset_case.before_community, field)


def test_reset_keeps_community_settings_that_differ_from_defaults(reset_case):
    assert (reset_case.after_community.home_automation, reset_case.after_community.feature_plan) == (
        True,
        "basic",
    )


def test_reset_counts_the_removed_family_members(reset_case):
    assert reset_case.after_community.end_user_count == reset_case.before_community.end_user_count - 1
    _assert_counters_match(reset_case.after_community)


def test_reset_makes_the_app_unregistered(reset_case):
    assert reset_case.before_master.app_registered_at is not None
    assert reset_case.master.app_registered_at is None
    assert reset_case.master.get_app_status_display() == "Unregistered"


def test_reset_resets_the_app_credentials(reset_case):
    assert check_password("chosen-in-the-app", reset_case.before_master.app_password)
    assert reset_case.master.app_password != reset_case.before_master.app_password
    assert not check_password("chosen-in-the-app", reset_case.master.app_password)
    assert reset_case.before_master.credentials_reset_at is None
    assert reset_case.master.credentials_reset_at is not None


def test_reset_sends_no_email(reset_case):
    assert reset_case.callbacks == []
    assert reset_case.mailoutbox == []


def test_reset_keeps_audit_logs_and_records_itself(reset_case):
    assert reset_case.audit_ids  # there was history to keep
    assert reset_case.audit_ids <= set(AuditLog.objects.values_list("pk", flat=True))
    entry = AuditLog.objects.get(action=AuditAction.RESET, object_id=str(reset_case.apartment.pk))
    assert entry.installer_id == reset_case.world.installer_a.pk
    assert "family members" in json.dumps(entry.changes)  # says what went


def test_reset_of_an_apartment_without_resident(world):
    apt = _create(world, resident=None)
    DoorLog.objects.create(apartment=apt, time=timezone.now())
    services.apartment_reset(actor=world.installer_a, apartment=apt)
    assert not DoorLog.objects.filter(apartment=apt).exists()
    assert Apartment.objects.filter(pk=apt.pk).exists()


# --- roles --------------------------------------------------------------------------------------


def test_property_manager_may_edit_apartments_and_residents(world):
    services.apartment_update(
        actor=world.pm_a,
        apartment=world.apartment_a,
        fields={"name": "PM named", "call_type": 2},
        resident={"first_name": "Lilian", "language": "ko"},
    )
    world.apartment_a.refresh_from_db()
    world.resident_a.refresh_from_db()
    assert (world.apartment_a.name, world.apartment_a.call_type) == ("PM named", 2)
    assert (world.resident_a.first_name, world.resident_a.language) == ("Lilian", "ko")


def test_property_manager_may_add_and_edit_family_members(world):
    member = services.family_member_create(
        actor=world.pm_a, apartment=world.apartment_a, fields={"first_name": "Tom", "last_name": "Wang"}
    )
    assert member.family_master == world.resident_a
    services.family_member_update(actor=world.pm_a, member=member, fields={"first_name": "Thomas"})
    member.refresh_from_db()
    assert member.first_name == "Thomas"


def test_property_manager_may_add_a_resident_later(world):
    apt = _create(world, resident=None)
    services.apartment_update(actor=world.pm_a, apartment=apt, fields={}, resident=LILY)
    assert _master(apt) is not None


def test_property_manager_may_not_create_apartments(world):
    before = _counters(world.community_a)
    with pytest.raises(PermissionDenied):
        _create(world, actor=world.pm_a, resident=LILY)
    assert _counters(world.community_a) == before
    assert not Apartment.objects.filter(number="202").exists()


def test_property_manager_may_not_delete_apartments(world):
    world.assignment_a.delete_account_permission = True
    world.assignment_a.save()
    with pytest.raises(PermissionDenied):
        services.apartment_delete(actor=world.pm_a, apartment=world.apartment_a)
    assert Apartment.objects.filter(pk=world.apartment_a.pk).exists()


@pytest.mark.parametrize("who", ["member_a", "resident_a"])
def test_property_manager_deletes_end_users_only_with_the_permission(world, who):
    resident = getattr(world, who)
    assert world.assignment_a.delete_account_permission is False
    assert not may_delete(world.pm_a, world.community_a)
    with pytest.raises(PermissionDenied):
        services.resident_delete(actor=world.pm_a, resident=resident)
    assert Resident.objects.filter(pk=resident.pk).exists()
    assert _counters(world.community_a) == (1, 2)

    world.assignment_a.delete_account_permission = True
    world.assignment_a.save()
    assert may_delete(world.pm_a, world.community_a)
    services.resident_delete(actor=world.pm_a, resident=resident)
    assert not Resident.objects.filter(pk=resident.pk).exists()
    _assert_counters_match(world.community_a)


def test_delete_permission_is_per_assignment(world):
    world.assignment_a.delete_account_permission = True
    world.assignment_a.save()
    assert may_delete(world.pm_a, world.community_a)
    assert not may_delete(world.pm_a, world.community_a2)
    assert not may_delete(world.pm_nothing, world.community_a)


@pytest.mark.parametrize("who", ["installer_a", "sub_a"])
def test_installers_may_delete_end_users(world, who):
    actor = getattr(world, who)
    assert may_delete(actor, world.community_a)
    assert services.resident_delete(actor=actor, resident=world.resident_a) == 2  # with Jim
    assert _counters(world.community_a) == (1, 0)


def test_unassigned_property_manager_cannot_touch_the_apartment(world):
    # The role may change apartments, but this one is not in its communities: not found.
    with pytest.raises(Http404):
        services.apartment_update(
            actor=world.pm_nothing, apartment=world.apartment_a, fields={"name": "x"}, resident=None
        )
    with pytest.raises(Http404):
        services.family_member_create(
            actor=world.pm_nothing, apartment=world.apartment_a, fields={"first_name": "T", "last_name": "W"}
        )


# Every write on tenant A's rows; installer B (and B's property manager) are refused: A's rows are
# not found (Http404), or the role lacks the action (PermissionDenied).
OPS_ON_A = {
    "apartment_create": lambda w, actor: services.apartment_create(
        actor=actor, building=w.building_a, apartment={"number": "555"}, resident=LILY
    ),
    "apartment_update": lambda w, actor: services.apartment_update(
        actor=actor, apartment=w.apartment_a, fields={"name": "taken"}, resident=None
    ),
    "resident_update": lambda w, actor: services.apartment_update(
        actor=actor, apartment=w.apartment_a, fields={}, resident={"first_name": "taken"}
    ),
    "apartment_delete": lambda w, actor: services.apartment_delete(actor=actor, apartment=w.apartment_a),
    "apartment_reset": lambda w, actor: services.apartment_reset(actor=actor, apartment=w.apartment_a),
    "family_member_create": lambda w, actor: services.family_member_create(
        actor=actor, apartment=w.apartment_a, fields={"first_name": "T", "last_name": "W"}
    ),
    "family_member_update": lambda w, actor: services.family_member_update(
        actor=actor, member=w.member_a, fields={"first_name": "taken"}
    ),
    "member_delete": lambda w, actor: services.resident_delete(actor=actor, resident=w.member_a),
    "master_delete": lambda w, actor: services.resident_delete(actor=actor, resident=w.resident_a),
}


def _snapshot_a(w) -> tuple:
    return (
        list(Apartment.objects.filter(community=w.community_a).values_list("pk", "number", "name")),
        list(Resident.objects.filter(community=w.community_a).values_list("pk", "first_name")),
        _counters(w.community_a),
    )


@pytest.mark.parametrize("op", OPS_ON_A)
@pytest.mark.parametrize("who", ["installer_b", "pm_b"])
def test_other_tenant_cannot_touch_a(world, op, who):
    before = _snapshot_a(world)
    with pytest.raises(Http404 if who == "installer_b" else (PermissionDenied, Http404)):
        OPS_ON_A[op](world, getattr(world, who))
    assert _snapshot_a(world) == before


@pytest.mark.parametrize("op", OPS_ON_A)
def test_super_manager_only_views_residents(world, op):
    before = _snapshot_a(world)
    with pytest.raises(PermissionDenied):
        OPS_ON_A[op](world, world.superuser)
    assert _snapshot_a(world) == before


@pytest.mark.parametrize("op", OPS_ON_A)
def test_sub_installer_can_do_what_the_installer_can(world, op):
    before = _snapshot_a(world)
    OPS_ON_A[op](world, world.sub_a)
    assert _snapshot_a(world) != before
    _assert_counters_match(world.community_a)


def test_sub_installer_reset_removes_family_members(world):
    services.apartment_reset(actor=world.sub_a, apartment=world.apartment_a)
    assert not Resident.objects.filter(pk=world.member_a.pk).exists()


# --- atomicity ----------------------------------------------------------------------------------


def test_valid_apartment_with_invalid_resident_saves_nothing(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    before = _counters(world.community_a)
    apartments_before = Apartment.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as exc:
        _create(world, resident={"first_name": "x" * 65, "last_name": "Zheng", "email": "x@example.test"})
    assert list(_errors(exc)) == ["first_name"]
    assert Apartment.objects.count() == apartments_before
    assert not Resident.objects.filter(email="x@example.test").exists()
    assert _counters(world.community_a) == before
    assert mailoutbox == []


def test_apartment_and_resident_errors_are_reported_together(world):
    with pytest.raises(ValidationError) as exc:
        _create(world, apartment={"number": "#1"}, resident={"first_name": "", "last_name": "Zheng"})
    assert {"number", "first_name"} <= set(_errors(exc))


def test_a_resident_failing_in_the_database_rolls_the_apartment_back(world, monkeypatch):
    """A concurrent insert of the same email (the check passes, the unique index refuses)."""
    Resident.objects.filter(pk=world.resident_a.pk).update(email="race@example.test")
    real = services._resident_errors

    def errors_without_email_check(resident, **kwargs):
        errors = real(resident, **kwargs)
        errors.pop("email", None)
        return errors

    monkeypatch.setattr(services, "_resident_errors", errors_without_email_check)
    before = _counters(world.community_a)
    with pytest.raises(ValidationError) as exc:
        _create(world, resident=LILY | {"email": "RACE@example.test"})
    assert list(_errors(exc)) == ["email"]
    assert not Apartment.objects.filter(community=world.community_a, number="202").exists()
    assert _counters(world.community_a) == before


def test_a_resident_failing_in_the_database_rolls_the_apartment_edit_back(world, monkeypatch):
    Resident.objects.filter(pk=world.resident_a.pk).update(email="race@example.test")
    apt = _create(world, apartment={"name": "Before"}, resident=None)
    real = services._resident_errors

    def errors_without_email_check(resident, **kwargs):
        errors = real(resident, **kwargs)
        errors.pop("email", None)
        return errors

    monkeypatch.setattr(services, "_resident_errors", errors_without_email_check)
    before = _counters(world.community_a)
    with pytest.raises(ValidationError) as exc:
        services.apartment_update(
            actor=world.installer_a,
            apartment=apt,
            fields={"name": "After"},
            resident=LILY | {"email": "Race@Example.test"},
        )
    assert list(_errors(exc)) == ["email"]
    apt.refresh_from_db()
    assert apt.name == "Before"
    assert not apt.residents.exists()
    assert _counters(world.community_a) == before


def test_a_failed_add_resident_later_keeps_the_apartment_edit_out(world):
    apt = _create(world, apartment={"name": "Before"}, resident=None)
    with pytest.raises(ValidationError):
        services.apartment_update(
            actor=world.installer_a,
            apartment=apt,
            fields={"name": "After"},
            resident={"first_name": "Lily", "last_name": "z" * 65},
        )
    apt.refresh_from_db()
    assert apt.name == "Before"
    assert not apt.residents.exists()


# --- rules tightened after review ---------------------------------------------------------------


def test_property_manager_resets_only_with_delete_account_permission(world):
    with pytest.raises(PermissionDenied):
        services.apartment_reset(actor=world.pm_a, apartment=world.apartment_a)
    assert Resident.objects.filter(pk=world.member_a.pk).exists()
    world.assignment_a.delete_account_permission = True
    world.assignment_a.save()
    services.apartment_reset(actor=world.pm_a, apartment=world.apartment_a)
    assert not Resident.objects.filter(pk=world.member_a.pk).exists()


def test_a_landline_is_refused_as_mobile_number_and_accepted_as_landline(world):
    fields = {"first_name": "Ann", "last_name": "Lee", "country": "GB"}
    with pytest.raises(ValidationError) as exc:
        services.family_member_create(
            actor=world.installer_a,
            apartment=world.apartment_a,
            fields={**fields, "mobile_number": "02012345678"},
        )
    assert "landline" in _errors(exc)["mobile_number"][0].lower()
    member = services.family_member_create(
        actor=world.installer_a, apartment=world.apartment_a, fields={**fields, "landline1": "02012345678"}
    )
    assert member.landline1 == "2012345678"


def test_may_delete_is_false_in_another_tenants_community(world):
    assert may_delete(world.installer_a, world.community_a)
    assert not may_delete(world.installer_b, world.community_a)
    assert not may_delete(world.sub_a, world.community_b)


def test_recount_command_repairs_drifted_counters(world):
    from io import StringIO

    from django.core.management import call_command

    Community.objects.filter(pk=world.community_a.pk).update(apartment_count=7, end_user_count=0)
    out = StringIO()
    call_command("recount_communities", stdout=out)
    world.community_a.refresh_from_db()
    assert _counters(world.community_a) == (1, 2)
    assert "1 community(ies) corrected" in out.getvalue()


def test_reset_keeps_a_departing_family_members_rf_card_on_the_apartment(world):
    card = AccessCredential.objects.create(
        community=world.community_a,
        apartment=world.apartment_a,
        resident=world.member_a,
        kind=CredentialKind.RF_CARD,
        code="0012345678",
    )
    pin = AccessCredential.objects.create(
        community=world.community_a,
        apartment=world.apartment_a,
        resident=world.member_a,
        kind=CredentialKind.PIN,
        code="1234",
    )
    services.apartment_reset(actor=world.installer_a, apartment=world.apartment_a)
    card.refresh_from_db()
    assert (card.apartment_id, card.resident_id) == (world.apartment_a.pk, None)
    assert not AccessCredential.objects.filter(pk=pin.pk).exists()


def test_number_of_apartments_cannot_drop_below_the_apartments_held(world):
    from communities.services import community_update

    make_apartment(world.building_a, "102")
    with pytest.raises(ValidationError) as exc:
        community_update(actor=world.installer_a, community=world.community_a, number_of_apartments=1)
    assert "already has 2 apartments" in _errors(exc)["number_of_apartments"][0]
    community_update(actor=world.installer_a, community=world.community_a, number_of_apartments=2)

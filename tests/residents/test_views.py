"""Resident and Device pages through the test client: field errors, scoping, search, counters.

Rules themselves are tested on the services (tests/residents/test_services.py); here each rule is
driven through its form and view, and the answer must put the message at the right field and
leave the database as it was.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.models import Building, Community
from residents.models import Apartment, Resident
from tests.factories import apt_form as apt_post
from tests.factories import make_apartment, make_building, make_family_member

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def edit_apt_post(w, **overrides) -> dict:
    """A valid POST of Edit APT for the world's apartment_a, as it is."""
    base = {"building": str(w.building_a.pk), "number": "101", "floor": "1"}
    return apt_post(**{**base, "first_name": "Lily", "last_name": "Zheng", **overrides})


def member_post(**overrides) -> dict:
    data = {
        "first_name": "Kim",
        "last_name": "Wang",
        "email": "",
        "language": "en",
        "country": "",
        "mobile_number": "",
        "landline1": "",
        "landline2": "",
        "landline3": "",
    }
    data.update(overrides)
    return data


def add_url(w) -> str:
    return reverse("residents:apartment_add", args=[w.building_a.pk])


def counts(community: Community) -> tuple[int, int, int, int]:
    """(apartments, end users) as rows and as the community's stored counters."""
    community.refresh_from_db()
    return (
        Apartment.objects.filter(community=community).count(),
        Resident.objects.filter(community=community).count(),
        community.apartment_count,
        community.end_user_count,
    )


def field_errors(response, field: str) -> str:
    return " ".join(response.context["form"].errors.get(field, []))


def row_pks(response) -> list[int]:
    return [row.record.pk for row in response.context["table"].page.object_list]


def dashboard_end_users(client, community: Community) -> str:
    table = client.get(reverse("communities:dashboard")).context["table"]
    cells = {row.record.pk: row.get_cell("end_user_count") for row in table.page.object_list}
    return str(cells[community.pk])


# --- 1. bad input: a message at the field, nothing half-saved ----------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("number", "#12", 'cannot start with "#"'),
        ("number", "1234567", "at most 6 digits"),
        ("number", "12a", 'digits and "#" only'),
        ("number", "", "required"),
        ("first_name", "x" * 65, "at most 64 characters"),
        ("last_name", "y" * 65, "at most 64 characters"),
        ("first_name", "", "required"),
        ("mobile_number", "5551234567", "Select the Country / Region"),
        ("email", "not-an-email", "valid email"),
    ],
)
def test_add_apt_bad_input_gets_a_message_at_the_field_and_saves_nothing(
    client, world, field, value, message
):
    before = counts(world.community_a)
    client.force_login(world.installer_a)
    response = client.post(add_url(world), apt_post(**{field: value}))
    assert response.status_code == 422
    assert message in field_errors(response, field)
    assert f'data-field-error="{field}"' in response.content.decode()
    assert counts(world.community_a) == before
    assert not Apartment.objects.filter(number=value or "102").exclude(pk=world.apartment_a.pk).exists()


def test_invalid_mobile_for_the_country_is_refused_at_the_field(client, world):
    before = counts(world.community_a)
    client.force_login(world.installer_a)
    response = client.post(add_url(world), apt_post(country="US", mobile_number="123"))
    assert response.status_code == 422
    assert "Enter a valid mobile number for +1" in field_errors(response, "mobile_number")
    assert 'data-field-error="mobile_number"' in response.content.decode()
    assert counts(world.community_a) == before


def test_valid_mobile_is_stored_as_national_number(client, world):
    client.force_login(world.installer_a)
    response = client.post(add_url(world), apt_post(country="US", mobile_number="+1 (201) 555-0123"))
    assert response.status_code == 302
    resident = Resident.objects.get(apartment__number="102")
    assert (str(resident.country), resident.mobile_number) == ("US", "2015550123")


def test_duplicate_apt_in_the_community_names_the_building(client, world):
    other = make_building(world.community_a, "Second Block")
    before = counts(world.community_a)
    client.force_login(world.installer_a)
    url = reverse("residents:apartment_add", args=[other.pk])
    response = client.post(url, apt_post(number="101"))
    assert response.status_code == 422
    assert "APT 101 already exists in this community (Alpha Block)" in field_errors(response, "number")
    assert 'data-field-error="number"' in response.content.decode()
    assert counts(world.community_a) == before
    assert not other.apartments.exists()


def test_long_first_name_creates_no_apartment(client, world):
    before = counts(world.community_a)
    client.force_login(world.installer_a)
    response = client.post(add_url(world), apt_post(number="555", first_name="F" * 65))
    assert response.status_code == 422
    assert "first_name" in response.context["form"].errors
    assert not Apartment.objects.filter(number="555").exists()
    assert counts(world.community_a) == before


def test_email_of_another_tenants_end_user_is_refused_in_any_case(client, world):
    Resident.objects.filter(apartment=world.apartment_b).update(email="Brenda.Bravo@Example.test")
    before = counts(world.community_a)
    client.force_login(world.installer_a)
    response = client.post(add_url(world), apt_post(email="brenda.bravo@EXAMPLE.TEST"))
    assert response.status_code == 422
    assert "already used by another end user" in field_errors(response, "email")
    assert 'data-field-error="email"' in response.content.decode()
    assert counts(world.community_a) == before


def test_capacity_reached_is_a_form_error_naming_the_number_of_apartments(client, world):
    Community.objects.filter(pk=world.community_a.pk).update(number_of_apartments=1)
    before = counts(world.community_a)
    assert before[2] == 1
    client.force_login(world.installer_a)
    response = client.post(add_url(world), apt_post())
    assert response.status_code == 422
    assert "Number of apartments" in " ".join(response.context["form"].non_field_errors())
    body = response.content.decode()
    assert 'data-field-error="__all__"' in body and "Number of apartments" in body
    assert counts(world.community_a) == before
    assert not Resident.objects.filter(first_name="Ann").exists()


def test_all_errors_of_apartment_and_resident_come_in_one_round(client, world):
    client.force_login(world.installer_a)
    data = apt_post(number="#1", country="US", mobile_number="123", email="x@")
    errors = client.post(add_url(world), data).context["form"].errors
    assert {"number", "email"} <= set(errors)
    # The form's own errors stop the service, so the phone is checked on the next round.
    data = apt_post(number="101", country="US", mobile_number="123")
    errors = client.post(add_url(world), data).context["form"].errors
    assert {"number", "mobile_number"} <= set(errors)


def test_add_resident_later_with_blank_names_creates_the_apartment_alone(client, world):
    apartments, end_users, _, _ = counts(world.community_a)
    client.force_login(world.installer_a)
    data = apt_post(number="102", first_name="", last_name="", add_resident_later="on")
    response = client.post(add_url(world), data)
    assert response.status_code == 302
    apt = Apartment.objects.get(community=world.community_a, number="102")
    assert response["Location"] == reverse("residents:apartment_detail", args=[apt.pk])
    assert apt.building == world.building_a and not apt.residents.exists()
    assert counts(world.community_a) == (apartments + 1, end_users, apartments + 1, end_users)
    detail = client.get(response["Location"]).content.decode()
    assert 'data-testid="no-resident"' in detail


def test_add_resident_later_ignores_what_the_hidden_resident_fields_still_hold(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    """The dialog hides the resident fields when "Add Resident Later" is on; their leftovers
    must neither stop the APT with invisible errors nor create a resident."""
    apartments, end_users, _, _ = counts(world.community_a)
    client.force_login(world.installer_a)
    data = apt_post(
        number="104",
        first_name="F" * 65,
        email="half-typed@",
        mobile_number="555",
        add_resident_later="on",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(add_url(world), data)
    assert response.status_code == 302
    apt = Apartment.objects.get(community=world.community_a, number="104")
    assert not apt.residents.exists()
    assert counts(world.community_a) == (apartments + 1, end_users, apartments + 1, end_users)
    assert mailoutbox == []
    # The apartment's own fields are still checked.
    response = client.post(add_url(world), {**data, "number": "#5"})
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"number"}


def test_add_apt_with_resident_creates_both(client, world):
    apartments, end_users, _, _ = counts(world.community_a)
    client.force_login(world.installer_a)
    response = client.post(add_url(world), apt_post(floor="3", name="Corner", email="ann@example.test"))
    assert response.status_code == 302
    apt = Apartment.objects.get(community=world.community_a, number="102")
    master = apt.residents.get()
    assert (apt.floor, apt.name, master.display_name, master.email) == (
        3,
        "Corner",
        "Ann Lee",
        "ann@example.test",
    )
    assert master.is_family_master and len(apt.family_sip_number) == 10
    assert counts(world.community_a) == (apartments + 1, end_users + 1, apartments + 1, end_users + 1)


def test_htmx_add_apt_renders_the_modal_and_redirects_on_success(client, world):
    client.force_login(world.installer_a)
    partial = client.get(add_url(world), **HTMX)
    assert b"modal-header" in partial.content and b"<html" not in partial.content
    invalid = client.post(add_url(world), apt_post(number="#9"), **HTMX)
    assert invalid.status_code == 200
    assert b'data-field-error="number"' in invalid.content and b"<html" not in invalid.content
    ok = client.post(add_url(world), apt_post(), **HTMX)
    apt = Apartment.objects.get(community=world.community_a, number="102")
    assert ok.status_code == 204
    assert ok["HX-Redirect"] == reverse("residents:apartment_detail", args=[apt.pk])


def test_edit_apt_bad_input_saves_neither_apartment_nor_resident(client, world):
    client.force_login(world.installer_a)
    url = reverse("residents:apartment_edit", args=[world.apartment_a.pk])
    data = edit_apt_post(world, name="New name", first_name="Lilian", mobile_number="5551234567")
    response = client.post(url, data)
    assert response.status_code == 422
    assert "Select the Country / Region" in field_errors(response, "mobile_number")
    world.apartment_a.refresh_from_db()
    world.resident_a.refresh_from_db()
    assert (world.apartment_a.name, world.resident_a.first_name) == ("", "Lily")


# --- 2. cross-tenant ids in POST bodies ---------------------------------------------------------


def test_edit_apt_refuses_another_tenants_building(client, world):
    client.force_login(world.installer_a)
    url = reverse("residents:apartment_edit", args=[world.apartment_a.pk])
    response = client.post(url, edit_apt_post(world, building=str(world.building_b.pk)))
    assert response.status_code == 422
    assert "Select a valid choice" in field_errors(response, "building")
    assert 'data-field-error="building"' in response.content.decode()
    world.apartment_a.refresh_from_db()
    assert world.apartment_a.building == world.building_a
    assert not world.building_b.apartments.filter(pk=world.apartment_a.pk).exists()


def test_edit_apt_refuses_a_building_of_another_community_of_the_same_installer(client, world):
    elsewhere = make_building(world.community_a2, "Towers Block")
    client.force_login(world.installer_a)
    url = reverse("residents:apartment_edit", args=[world.apartment_a.pk])
    response = client.post(url, edit_apt_post(world, building=str(elsewhere.pk)))
    assert response.status_code == 422
    assert "Select a valid choice" in field_errors(response, "building")
    world.apartment_a.refresh_from_db()
    assert (world.apartment_a.building, world.apartment_a.community) == (world.building_a, world.community_a)


def test_edit_apt_moves_to_another_building_of_its_community(client, world):
    second = make_building(world.community_a, "Second Block")
    client.force_login(world.installer_a)
    url = reverse("residents:apartment_edit", args=[world.apartment_a.pk])
    form = client.get(url).context["form"]
    assert set(form.fields["building"].queryset) == {world.building_a, second}
    assert client.post(url, edit_apt_post(world, building=str(second.pk))).status_code == 302
    world.apartment_a.refresh_from_db()
    assert world.apartment_a.building == second


# --- 3. other tenants and unassigned property managers get 404 ---------------------------------


def _scoped_urls(w) -> dict[str, str]:
    return {
        "apartment_detail": reverse("residents:apartment_detail", args=[w.apartment_a.pk]),
        "apartment_edit": reverse("residents:apartment_edit", args=[w.apartment_a.pk]),
        "apartment_reset": reverse("residents:apartment_reset", args=[w.apartment_a.pk]),
        "apartment_delete": reverse("residents:apartment_delete", args=[w.apartment_a.pk]),
        "apartment_add": reverse("residents:apartment_add", args=[w.building_a.pk]),
        "familymember_add": reverse("residents:familymember_add", args=[w.apartment_a.pk]),
        "familymember_edit": reverse("residents:familymember_edit", args=[w.member_a.pk]),
        "resident_delete": reverse("residents:resident_delete", args=[w.member_a.pk]),
        "building_apartments": reverse("residents:building_apartments", args=[w.building_a.pk]),
        "community_residents": reverse("residents:community_residents", args=[w.community_a.pk]),
    }


# A property manager may not add or delete apartments at all: the role is refused before any row
# is looked up (403 whichever apartment), as tests/test_access_matrix.py has it.
PM_ROLE_REFUSED = {"apartment_delete", "apartment_add"}


@pytest.mark.parametrize("who", ["installer_b", "pm_nothing"])
@pytest.mark.parametrize(
    "name",
    [
        "apartment_detail",
        "apartment_edit",
        "apartment_reset",
        "apartment_delete",
        "apartment_add",
        "familymember_add",
        "familymember_edit",
        "resident_delete",
        "building_apartments",
        "community_residents",
    ],
)
def test_other_tenant_and_unassigned_pm_get_404(client, world, who, name):
    client.force_login(getattr(world, who))
    expected = 403 if who == "pm_nothing" and name in PM_ROLE_REFUSED else 404
    response = client.get(_scoped_urls(world)[name])
    assert response.status_code == expected
    assert b"Lily Zheng" not in response.content and b"Alpha Block" not in response.content


@pytest.mark.parametrize("who", ["installer_b", "pm_nothing"])
def test_posts_of_other_tenants_change_nothing(client, world, who, django_capture_on_commit_callbacks):
    actor = getattr(world, who)
    Resident.objects.filter(pk=world.resident_a.pk).update(email="lily@example.test")
    before = counts(world.community_a)
    urls = _scoped_urls(world)
    client.force_login(actor)
    pm = who == "pm_nothing"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client.post(urls["apartment_reset"]).status_code == 404
        assert client.post(urls["apartment_delete"]).status_code == (403 if pm else 404)
        assert client.post(urls["resident_delete"]).status_code == 404
        data = edit_apt_post(world, building=str(world.building_b.pk), name="Hijacked", first_name="Eve")
        assert client.post(urls["apartment_edit"], data).status_code == 404
        data = member_post(first_name="Eve", email="eve@example.test")
        assert client.post(urls["familymember_edit"], data).status_code == 404
        assert client.post(urls["familymember_add"], data).status_code == 404
        assert client.post(urls["apartment_add"], apt_post(number="666")).status_code == (403 if pm else 404)
    assert callbacks == []
    assert counts(world.community_a) == before
    assert Resident.objects.filter(pk=world.member_a.pk, first_name="Jim", email="").exists()
    world.apartment_a.refresh_from_db()
    world.resident_a.refresh_from_db()
    assert (world.apartment_a.building, world.apartment_a.name) == (world.building_a, "")
    assert (world.resident_a.first_name, world.resident_a.email) == ("Lily", "lily@example.test")
    assert not Resident.objects.filter(first_name="Eve").exists()
    assert not Apartment.objects.filter(number="666").exists()


def test_other_tenant_cannot_delete_or_rename_a_building(client, world):
    empty = make_building(world.community_a, "Empty Block")
    client.force_login(world.installer_b)
    assert client.post(reverse("communities:building_delete", args=[empty.pk])).status_code == 404
    edit = reverse("communities:building_edit", args=[world.building_a.pk])
    assert client.post(edit, {"name": "Taken"}).status_code == 404
    add = reverse("communities:building_add", args=[world.community_a.pk])
    assert client.post(add, {"name": "Intruder"}).status_code == 404
    assert sorted(world.community_a.buildings.values_list("name", flat=True)) == [
        "Alpha Block",
        "Empty Block",
    ]


# --- 4. property manager -----------------------------------------------------------------------


def test_property_manager_edits_the_apartment_and_adds_a_family_member(client, world):
    client.force_login(world.pm_a)
    url = reverse("residents:apartment_edit", args=[world.apartment_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, edit_apt_post(world, name="Garden flat", last_name="Zhang"))
    assert response.status_code == 302
    world.apartment_a.refresh_from_db()
    world.resident_a.refresh_from_db()
    assert (world.apartment_a.name, world.resident_a.last_name) == ("Garden flat", "Zhang")

    add = reverse("residents:familymember_add", args=[world.apartment_a.pk])
    assert client.post(add, member_post(first_name="Kim")).status_code == 302
    member = Resident.objects.get(apartment=world.apartment_a, first_name="Kim")
    assert member.family_master == world.resident_a
    world.community_a.refresh_from_db()
    assert world.community_a.end_user_count == 3


def test_property_manager_without_delete_account_permission_cannot_delete(client, world):
    client.force_login(world.pm_a)
    url = reverse("residents:resident_delete", args=[world.member_a.pk])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Resident.objects.filter(pk=world.member_a.pk).exists()
    world.community_a.refresh_from_db()
    assert world.community_a.end_user_count == 2
    # Nor does the page offer it.
    detail = client.get(reverse("residents:apartment_detail", args=[world.apartment_a.pk])).content.decode()
    assert url not in detail


def test_property_manager_with_delete_account_permission_deletes(client, world):
    world.assignment_a.delete_account_permission = True
    world.assignment_a.save()
    client.force_login(world.pm_a)
    assert dashboard_end_users(client, world.community_a) == "2"
    url = reverse("residents:resident_delete", args=[world.member_a.pk])
    detail = client.get(reverse("residents:apartment_detail", args=[world.apartment_a.pk])).content.decode()
    assert url in detail
    assert "Jim Wang" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:apartment_detail", args=[world.apartment_a.pk])
    assert not Resident.objects.filter(pk=world.member_a.pk).exists()
    assert dashboard_end_users(client, world.community_a) == "1"


def test_deleting_the_family_master_takes_the_family_along_and_keeps_the_apt(client, world):
    client.force_login(world.installer_a)
    url = reverse("residents:resident_delete", args=[world.resident_a.pk])
    body = client.get(url).content.decode()
    assert "1 family member account(s): Jim Wang" in body and "APT 101 stays" in body
    assert client.post(url).status_code == 302
    assert not Resident.objects.filter(apartment=world.apartment_a).exists()
    assert Apartment.objects.filter(pk=world.apartment_a.pk).exists()
    assert dashboard_end_users(client, world.community_a) == "0"


# --- 5. a family member's email cannot be edited once set --------------------------------------


def test_family_member_email_is_locked_once_set(client, world):
    client.force_login(world.installer_a)
    add = reverse("residents:familymember_add", args=[world.apartment_a.pk])
    assert client.post(add, member_post(email="kim@example.test")).status_code == 302
    member = Resident.objects.get(email="kim@example.test")
    assert member.family_master == world.resident_a

    url = reverse("residents:familymember_edit", args=[member.pk])
    form = client.get(url).context["form"]
    assert form.fields["email"].disabled
    response = client.post(url, member_post(first_name="Kimberly", email="other@example.test"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.first_name, member.email) == ("Kimberly", "kim@example.test")
    assert not Resident.objects.filter(email="other@example.test").exists()
    # Nor can it be blanked.
    assert client.post(url, member_post(first_name="Kimberly", email="")).status_code == 302
    member.refresh_from_db()
    assert member.email == "kim@example.test"


def test_locked_email_still_shows_when_the_form_comes_back_with_errors(client, world):
    member = make_family_member(world.apartment_a, first_name="Kim", email="kim@example.test")
    client.force_login(world.installer_a)
    url = reverse("residents:familymember_edit", args=[member.pk])
    response = client.post(url, member_post(first_name="", email="other@example.test"))
    assert response.status_code == 422
    assert "first_name" in response.context["form"].errors
    assert response.context["form"]["email"].value() == "kim@example.test"
    assert 'value="kim@example.test"' in response.content.decode()


def test_family_member_with_a_blank_email_can_get_one_later(client, world, mailoutbox):
    client.force_login(world.installer_a)
    url = reverse("residents:familymember_edit", args=[world.member_a.pk])
    assert not client.get(url).context["form"].fields["email"].disabled
    response = client.post(url, member_post(first_name="Jim", email="jim@example.test"))
    assert response.status_code == 302
    world.member_a.refresh_from_db()
    assert world.member_a.email == "jim@example.test"
    # Then it is locked.
    assert client.get(url).context["form"].fields["email"].disabled


def test_family_member_email_clash_is_reported_at_the_field(client, world):
    Resident.objects.filter(apartment=world.apartment_b).update(email="brenda@example.test")
    client.force_login(world.installer_a)
    add = reverse("residents:familymember_add", args=[world.apartment_a.pk])
    response = client.post(add, member_post(email="BRENDA@example.test"))
    assert response.status_code == 422
    assert "already used" in field_errors(response, "email")
    assert 'data-field-error="email"' in response.content.decode()
    assert world.apartment_a.residents.count() == 2


# --- 6. resident search ------------------------------------------------------------------------


@pytest.fixture
def search_world(world):
    """community_a with four end users whose status, names and APTs differ."""
    w = world
    second = make_building(w.community_a, "Beta Block")
    make_apartment(
        second,
        "2#05",
        name="Penthouse",
        resident={"first_name": "Ann", "last_name": "Smith", "email": "ann.smith@example.test"},
    )
    make_apartment(w.building_a, "303", resident={"first_name": "Zoe", "last_name": "Young"})
    people = {r.first_name: r for r in Resident.objects.filter(community=w.community_a)}
    now = timezone.now()
    # Lily: registered, normal (active, no expiry). Jim: unregistered, inactivated.
    # Ann: registered, expired. Zoe: unregistered, normal (expires in the future).
    Resident.objects.filter(pk=people["Lily"].pk).update(activated=True, app_registered_at=now)
    Resident.objects.filter(pk=people["Jim"].pk).update(activated=False)
    Resident.objects.filter(pk=people["Ann"].pk).update(
        activated=True, expires_at=now - dt.timedelta(days=1), app_registered_at=now
    )
    Resident.objects.filter(pk=people["Zoe"].pk).update(
        activated=True, expires_at=now + dt.timedelta(days=30)
    )
    # Created times in a known order: Lily, Jim, Ann, Zoe.
    base = dt.datetime(2024, 3, 5, 16, 30, tzinfo=dt.UTC)
    for i, name in enumerate(["Lily", "Jim", "Ann", "Zoe"]):
        Resident.objects.filter(pk=people[name].pk).update(created=base + dt.timedelta(hours=i))
    w.people = people
    return w


def _search(client, w, **params):
    return client.get(reverse("residents:community_residents", args=[w.community_a.pk]), params)


def _names(response) -> list[str]:
    return [row.record.first_name for row in response.context["table"].page.object_list]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Lily", "Jim", "Ann", "Zoe"}),
        ({"app_status": "registered"}, {"Lily", "Ann"}),
        ({"app_status": "unregistered"}, {"Jim", "Zoe"}),
        ({"active": "normal"}, {"Lily", "Zoe"}),
        ({"active": "inactivated"}, {"Jim"}),
        ({"active": "expired"}, {"Ann"}),
        ({"active": "normal", "app_status": "unregistered"}, {"Zoe"}),
        ({"q": "Lily Zheng"}, {"Lily"}),
        ({"q": "lily zheng"}, {"Lily"}),
        ({"q": "  Jim Wang "}, {"Jim"}),
        ({"q": "ann.smith@example"}, {"Ann"}),
        ({"q": "2#05"}, {"Ann"}),
        ({"q": "101"}, {"Lily", "Jim"}),
        ({"q": "penthouse"}, {"Ann"}),
        ({"q": "Nobody"}, set()),
        ({"q": "Brenda"}, set()),  # installer B's resident is not found from community A
    ],
)
def test_resident_search_filters(client, search_world, params, expected):
    client.force_login(search_world.installer_a)
    response = _search(client, search_world, **params)
    assert response.status_code == 200
    assert set(_names(response)) == expected
    assert f'data-testid="in-all">{len(expected)} In All' in response.content.decode()


def test_resident_search_counts_in_all_unfiltered_from_the_stored_counter(client, search_world):
    search_world.community_a.refresh_from_db()
    assert search_world.community_a.end_user_count == 4
    client.force_login(search_world.installer_a)
    body = _search(client, search_world).content.decode()
    assert 'data-testid="in-all">4 In All' in body
    # Sorting alone is not a filter; the count stays right.
    body = _search(client, search_world, sort="resident").content.decode()
    assert 'data-testid="in-all">4 In All' in body
    # Blank filters are not filters either.
    body = _search(client, search_world, q="", app_status="", active="").content.decode()
    assert 'data-testid="in-all">4 In All' in body


def test_resident_search_in_all_follows_adds_and_deletes_through_the_views(client, search_world):
    w = search_world
    client.force_login(w.installer_a)
    add = reverse("residents:apartment_add", args=[w.building_a.pk])
    assert client.post(add, apt_post(number="404", first_name="Max", last_name="Power")).status_code == 302
    assert 'data-testid="in-all">5 In All' in _search(client, w).content.decode()
    delete = reverse("residents:resident_delete", args=[w.resident_a.pk])
    assert client.post(delete).status_code == 302  # Lily and her family member Jim
    body = _search(client, w).content.decode()
    assert 'data-testid="in-all">3 In All' in body
    assert set(_names(_search(client, w))) == {"Ann", "Zoe", "Max"}


def test_resident_search_sorts_by_resident_and_created_time(client, search_world):
    client.force_login(search_world.installer_a)
    assert _names(_search(client, search_world, sort="resident")) == ["Ann", "Jim", "Lily", "Zoe"]
    assert _names(_search(client, search_world, sort="-resident")) == ["Zoe", "Lily", "Jim", "Ann"]
    assert _names(_search(client, search_world, sort="created")) == ["Lily", "Jim", "Ann", "Zoe"]
    assert _names(_search(client, search_world, sort="-created")) == ["Zoe", "Ann", "Jim", "Lily"]
    # The default is newest first.
    assert _names(_search(client, search_world)) == ["Zoe", "Ann", "Jim", "Lily"]
    # Sorting and filtering together.
    response = _search(client, search_world, sort="-resident", app_status="registered")
    assert _names(response) == ["Lily", "Ann"]


def test_resident_search_pages_and_sorts_past_the_first_page(client, search_world):
    w = search_world
    for i in range(12):
        make_apartment(w.building_a, f"5{i:02d}", resident={"first_name": f"P{i:02d}", "last_name": "X"})
    client.force_login(w.installer_a)
    first = _names(_search(client, w, sort="resident"))
    second = _names(_search(client, w, sort="resident", page=2))
    assert len(first) == 10 and len(second) == 6
    everyone = first + second
    assert everyone == sorted(everyone) and len(set(everyone)) == 16
    body = _search(client, w, sort="resident", page=2).content.decode()
    assert 'data-testid="in-all">16 In All' in body


def test_resident_search_rows_show_the_columns(client, search_world):
    client.force_login(search_world.installer_a)
    response = _search(client, search_world, q="Ann")
    row = response.context["table"].page.object_list[0]
    assert row.get_cell("resident") == "Ann Smith"
    assert row.get_cell("email") == "ann.smith@example.test"
    assert row.get_cell("building") == "Beta Block"
    assert row.get_cell("apt") == "2#05"
    assert row.get_cell("apt_name") == "Penthouse"
    assert row.get_cell("active") == "Expired"
    assert row.get_cell("app_status") == "Registered"
    member = _search(client, search_world, q="Jim").context["table"].page.object_list[0]
    assert "Family member" in member.get_cell("resident")
    assert member.get_cell("active") == "Inactivated" and member.get_cell("app_status") == "Unregistered"


def test_resident_search_times_are_in_the_communitys_zone_and_formats(client, search_world):
    Community.objects.filter(pk=search_world.community_a.pk).update(
        time_zone="Asia/Shanghai", date_format="d/m/Y", time_format="12h"
    )
    client.force_login(search_world.installer_a)
    response = _search(client, search_world, q="Lily Zheng")
    row = response.context["table"].page.object_list[0]
    # 2024-03-05 16:30 UTC is 00:30 the next day in Shanghai (UTC+8).
    assert row.get_cell("created") == "06/03/2024 12:30:00 AM"
    assert "06/03/2024 12:30:00 AM" in response.content.decode()

    Community.objects.filter(pk=search_world.community_a.pk).update(
        time_zone="America/New_York", date_format="Y-m-d", time_format="24h"
    )
    row = _search(client, search_world, q="Lily Zheng").context["table"].page.object_list[0]
    assert row.get_cell("created") == "2024-03-05 11:30:00"


def test_apartment_list_of_a_building_shows_the_family_master(client, search_world):
    client.force_login(search_world.installer_a)
    response = client.get(reverse("residents:building_apartments", args=[search_world.building_a.pk]))
    cells = {
        row.get_cell("number"): (row.get_cell("resident"), row.get_cell("active"))
        for row in response.context["table"].page.object_list
    }
    assert cells == {"101 (Floor 1)": ("Lily Zheng", "Normal"), "303": ("Zoe Young", "Normal")}


# --- 7. the dashboard's End User Count --------------------------------------------------------


def test_dashboard_end_user_count_counts_masters_and_members(client, world):
    client.force_login(world.installer_a)
    assert dashboard_end_users(client, world.community_a) == "2"
    assert dashboard_end_users(client, world.community_a2) == "0"
    response = client.post(add_url(world), apt_post(number="102", first_name="Ann", last_name="Lee"))
    assert response.status_code == 302
    assert dashboard_end_users(client, world.community_a) == "3"
    # An APT without a resident adds no end user.
    later = apt_post(number="103", first_name="", last_name="", add_resident_later="on")
    assert client.post(add_url(world), later).status_code == 302
    assert dashboard_end_users(client, world.community_a) == "3"
    # A family member does.
    add = reverse("residents:familymember_add", args=[world.apartment_a.pk])
    assert client.post(add, member_post()).status_code == 302
    assert dashboard_end_users(client, world.community_a) == "4"


# --- 8. buildings ------------------------------------------------------------------------------


def test_add_building_prefills_the_default_name(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:building_add", args=[world.community_a.pk])
    response = client.get(url)
    assert response.context["form"].initial["name"] == "Building1"
    assert 'value="Building1"' in response.content.decode()
    response = client.post(url, {"name": "Building1"})
    building = Building.objects.get(community=world.community_a, name="Building1")
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:building_apartments", args=[building.pk])
    assert 'value="Building2"' in client.get(url).content.decode()


def test_duplicate_building_name_in_another_case_is_refused_at_the_field(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:building_add", args=[world.community_a.pk])
    response = client.post(url, {"name": "ALPHA block"})
    assert response.status_code == 422
    assert "already has a building named" in field_errors(response, "name")
    assert 'data-field-error="name"' in response.content.decode()
    assert world.community_a.buildings.count() == 1
    # Renaming another building onto it is refused too.
    other = make_building(world.community_a, "Second Block")
    response = client.post(reverse("communities:building_edit", args=[other.pk]), {"name": "alpha BLOCK"})
    assert response.status_code == 422 and "name" in response.context["form"].errors
    other.refresh_from_db()
    assert other.name == "Second Block"


def test_same_building_name_in_another_community_is_fine(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:building_add", args=[world.community_a2.pk])
    assert client.post(url, {"name": "Alpha Block"}).status_code == 302
    assert world.community_a2.buildings.filter(name="Alpha Block").exists()


def test_deleting_a_building_with_apartments_is_refused_and_says_why(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:building_delete", args=[world.building_a.pk])
    body = client.get(url).content.decode()
    assert "1 apartment(s)" in body
    response = client.post(url, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("Alpha Block still holds 1 apartment(s)" in m for m in messages)
    assert not any(m.startswith("Deleted") for m in messages)
    assert Building.objects.filter(pk=world.building_a.pk).exists()
    assert Apartment.objects.filter(pk=world.apartment_a.pk).exists()


def test_deleting_an_empty_building_works(client, world):
    empty = make_building(world.community_a, "Empty Block")
    client.force_login(world.installer_a)
    response = client.post(reverse("communities:building_delete", args=[empty.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:community_residents", args=[world.community_a.pk])
    assert not Building.objects.filter(pk=empty.pk).exists()


def test_building_tree_lists_the_communitys_buildings(client, world):
    make_building(world.community_a, "Zulu Block")
    make_building(world.community_a2, "Towers Block")
    client.force_login(world.installer_a)
    response = client.get(reverse("residents:community_residents", args=[world.community_a.pk]))
    assert [b.name for b in response.context["buildings"]] == ["Alpha Block", "Zulu Block"]
    assert "Towers Block" not in response.content.decode()


# --- 9. reset --------------------------------------------------------------------------------


def test_reset_through_the_view(client, world, mailoutbox, django_capture_on_commit_callbacks):
    Resident.objects.filter(pk=world.resident_a.pk).update(
        email="lily@example.test",
        country="US",
        mobile_number="2015550123",
        landline1="2015550100",
        activated=True,
        app_registered_at=timezone.now(),
    )
    client.force_login(world.installer_a)
    url = reverse("residents:apartment_reset", args=[world.apartment_a.pk])
    body = client.get(url).content.decode()
    assert "no email is sent" in body and "Family member accounts." in body
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("residents:apartment_detail", args=[world.apartment_a.pk])
    assert not Resident.objects.filter(pk=world.member_a.pk).exists()
    master = Resident.objects.get(pk=world.resident_a.pk)
    assert (master.email, str(master.country), master.mobile_number, master.landline1) == ("", "", "", "")
    assert master.app_registered_at is None and master.get_app_status_display() == "Unregistered"
    assert master.activated  # the subscription stays
    assert master.credentials_reset_at is not None
    assert mailoutbox == []
    world.community_a.refresh_from_db()
    assert world.community_a.end_user_count == 1

    detail = client.get(response["Location"])
    html = detail.content.decode()
    assert 'data-testid="app-status">Unregistered' in html
    assert 'data-testid="master-email">--' in html
    assert "0 Family Members" in html
    assert any("no email was sent" in str(m) for m in detail.context["messages"])


def test_reset_through_htmx_redirects_the_modal(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.pm_a)
    url = reverse("residents:apartment_reset", args=[world.apartment_a.pk])
    # Reset deletes family-member accounts: refused until the PM holds Delete Account Permission.
    assert client.get(url, **HTMX).status_code == 403
    assert client.post(url, **HTMX).status_code == 403
    assert Resident.objects.filter(pk=world.member_a.pk).exists()
    world.assignment_a.delete_account_permission = True
    world.assignment_a.save()
    assert b"modal-header" in client.get(url, **HTMX).content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("residents:apartment_detail", args=[world.apartment_a.pk])
    assert not Resident.objects.filter(pk=world.member_a.pk).exists()
    assert mailoutbox == []


def test_new_resident_email_is_sent_after_commit_through_the_view(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.installer_a)
    with django_capture_on_commit_callbacks(execute=True):
        data = apt_post(email="ann@example.test", language="fr")
        assert client.post(add_url(world), data).status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ann@example.test"]
    assert mailoutbox[0].subject == "Votre compte de l'application SmartPlus pour Alpha Gardens"


# --- edge input on the list pages -------------------------------------------------------------


def test_unknown_sort_keeps_the_default_newest_first_order(client, search_world):
    w = search_world
    client.force_login(w.installer_a)
    default = _names(_search(client, w))
    assert default == ["Zoe", "Ann", "Jim", "Lily"]
    assert _names(_search(client, w, sort="bogus")) == default
    assert _names(_search(client, w, sort="")) == default


@pytest.mark.parametrize("page", ["0", "-1", "abc"])
def test_page_below_one_or_not_a_number_shows_page_one(client, search_world, page):
    w = search_world
    client.force_login(w.installer_a)
    response = _search(client, w, page=page, per_page="10")
    assert response.status_code == 200
    assert response.context["table"].page.number == 1


def test_search_form_keeps_lines_per_page_and_sort(client, search_world):
    w = search_world
    client.force_login(w.installer_a)
    body = _search(client, w, per_page="20", sort="resident").content.decode()
    form = body.split('data-testid="resident-filters"', 1)[1].split("</form>", 1)[0]
    assert 'name="per_page" value="20"' in form and 'name="sort" value="resident"' in form


def test_tree_lists_buildings_in_natural_order(client, world):
    for name in ("Building10", "Building2", "building1"):
        make_building(world.community_a, name)
    client.force_login(world.installer_a)
    response = client.get(reverse("residents:community_residents", args=[world.community_a.pk]))
    assert [b.name for b in response.context["buildings"]] == [
        "Alpha Block",
        "building1",
        "Building2",
        "Building10",
    ]

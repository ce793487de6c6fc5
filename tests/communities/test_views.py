"""Dashboard and community pages: query counts, forms' field errors, immutable fields locked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import PropertyManagerAssignment
from communities.models import Community
from tests.factories import COMMUNITY_FORM, CommunityFactory, InstallerFactory, PropertyManagerFactory

pytestmark = pytest.mark.django_db

VALID = COMMUNITY_FORM


def _dashboard_queries(client, installer, count: int) -> int:
    pms = [PropertyManagerFactory(installer=installer) for _ in range(3)]
    communities = Community.objects.bulk_create(
        Community(installer=installer, name=f"C{i:05d}", country="US", city="X", street="Y")
        for i in range(count)
    )
    PropertyManagerAssignment.objects.bulk_create(
        PropertyManagerAssignment(community=c, property_manager=pm) for c in communities for pm in pms[:2]
    )
    client.force_login(installer)
    client.get(reverse("communities:dashboard"))  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("communities:dashboard"))
    assert response.status_code == 200
    assert response.context["table"].paginator.count == count
    return len(ctx.captured_queries)


def test_dashboard_query_count_is_constant_for_10_and_1000_communities(client):
    small = _dashboard_queries(client, InstallerFactory(), 10)
    large = _dashboard_queries(client, InstallerFactory(), 1000)
    assert small == large
    assert large <= 14  # 12, and the fleet overview's two aggregates (pmportal)


def test_dashboard_lists_counts_and_property_managers(client, world):
    client.force_login(world.installer_a)
    body = client.get(reverse("communities:dashboard")).content.decode()
    assert "Alpha Gardens" in body and "Alpha Towers" in body
    assert "Alice Manager" in body  # the PM assigned to Alpha Gardens
    assert "2 In All" in body
    assert "Property Manager List" in body and "Sub-account List" in body


def test_dashboard_search_sort_and_lines_per_page(client):
    installer = InstallerFactory()
    for i in range(25):
        CommunityFactory(installer=installer, name=f"Site {i:02d}")
    client.force_login(installer)
    page = client.get(reverse("communities:dashboard"), {"q": "Site 1"})
    assert [r.record.name for r in page.context["table"].page.object_list] == [
        f"Site 1{i}" for i in range(10)
    ]
    desc = client.get(reverse("communities:dashboard"), {"sort": "-name", "per_page": 20})
    names = [r.record.name for r in desc.context["table"].page.object_list]
    assert names[0] == "Site 24" and len(names) == 20
    page3 = client.get(reverse("communities:dashboard"), {"page": 3})
    assert [r.record.name for r in page3.context["table"].page.object_list] == [
        f"Site {i}" for i in range(20, 25)
    ]


def test_pm_dashboard_shows_only_assigned_communities(client, world):
    client.force_login(world.pm_a)
    body = client.get(reverse("communities:dashboard")).content.decode()
    assert "Alpha Gardens" in body and "Alpha Towers" not in body
    assert "Sub-account List" not in body and 'data-testid="new-community"' not in body


def test_create_community_from_the_form(client, world):
    client.force_login(world.installer_a)
    response = client.post(reverse("communities:community_add"), {**VALID, "send_expiration_email": "on"})
    assert response.status_code == 302
    c = Community.objects.get(name="Luna")
    assert (c.installer, c.city, c.send_expiration_email, c.send_renew_email) == (
        world.installer_a,
        "Austin",
        True,
        False,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("post_code", "78-701", "Post code may contain only letters"),
        ("number_of_apartments", "0", "greater than or equal to 1"),
        # Not "≥ 0": the bound stated is the one the model holds to.
        ("number_of_apartments", "-5", "Ensure this value is greater than or equal to 1."),
        ("number_of_apartments", "abc", "Enter a whole number."),
        ("country", "XX", "Select a valid choice"),
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
        ("feature_plan", "gold", "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_message_at_the_field_and_saves_nothing(client, world, field, value, message):
    client.force_login(world.installer_a)
    response = client.post(reverse("communities:community_add"), {**VALID, field: value})
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert f'data-field-error="{field}"' in response.content.decode()
    assert not Community.objects.filter(name="Luna").exists()


def test_service_rule_errors_land_on_the_field(client, world):
    client.force_login(world.installer_a)
    data = {**VALID, "home_automation": "on", "landline_service": "on"}
    response = client.post(reverse("communities:community_add"), data)
    assert response.status_code == 422
    assert "not available for Home Automation" in response.context["form"].errors["landline_service"][0]
    assert not Community.objects.filter(name="Luna").exists()


def test_edit_form_locks_immutable_fields_and_ignores_posted_values(client, world):
    c = world.community_a
    client.force_login(world.installer_a)
    form = client.get(reverse("communities:community_edit", args=[c.pk])).context["form"]
    assert form.fields["feature_plan"].disabled and form.fields["access_control_permission"].disabled
    data = {**VALID, "name": "Renamed", "feature_plan": "basic", "access_control_permission": "public_only"}
    assert client.post(reverse("communities:community_edit", args=[c.pk]), data).status_code == 302
    c.refresh_from_db()
    assert (c.name, c.feature_plan, c.access_control_permission) == ("Renamed", "premium", "public_private")


def test_edit_form_unlocks_for_the_super_manager(client, world):
    client.force_login(world.superuser)
    form = client.get(reverse("communities:community_edit", args=[world.community_a.pk])).context["form"]
    assert not form.fields["feature_plan"].disabled


def test_home_automation_is_locked_once_on(client, world):
    c = world.community_a
    c.home_automation = True
    c.save()
    client.force_login(world.installer_a)
    form = client.get(reverse("communities:community_edit", args=[c.pk])).context["form"]
    assert form.fields["home_automation"].disabled


def test_community_calls_shown_only_when_distributor_enabled_it(client, world):
    client.force_login(world.installer_a)
    assert "community_calls" not in client.get(reverse("communities:community_add")).context["form"].fields
    world.distributor_a.community_calls_enabled = True
    world.distributor_a.save()
    assert "community_calls" in client.get(reverse("communities:community_add")).context["form"].fields


def test_delete_confirmation_names_what_will_be_removed(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:community_delete", args=[world.community_a.pk])
    body = client.get(url).content.decode()
    assert "Alpha Gardens" in body and "1 property manager assignment" in body
    assert Community.objects.filter(pk=world.community_a.pk).exists()
    assert client.post(url, {"name": "Alpha Gardens"}).status_code == 302
    assert not Community.objects.filter(pk=world.community_a.pk).exists()


def test_htmx_form_renders_in_the_modal_and_redirects_on_success(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:community_add")
    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert b"modal-header" in partial.content and b"<html" not in partial.content
    invalid = client.post(url, {**VALID, "name": ""}, HTTP_HX_REQUEST="true")
    assert invalid.status_code == 200 and b'data-field-error="name"' in invalid.content
    ok = client.post(url, VALID, HTTP_HX_REQUEST="true")
    assert ok.status_code == 204 and ok["HX-Redirect"] == reverse("communities:dashboard")


def test_assign_property_managers_with_permissions(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:community_property_managers", args=[world.community_a2.pk])
    data = {
        f"pm-{world.pm_nothing.pk}-assigned": "on",
        f"pm-{world.pm_nothing.pk}-delete_account_permission": "on",
        f"pm-{world.pm_nothing.pk}-log_access_control": "on",
    }
    assert client.post(url, data).status_code == 302
    a = PropertyManagerAssignment.objects.get(community=world.community_a2)
    assert (a.property_manager, a.app_enabled, a.delete_account_permission, a.log_access_control) == (
        world.pm_nothing,
        False,
        True,
        True,
    )
    # Unticking removes the assignment.
    assert client.post(url, {}).status_code == 302
    assert not PropertyManagerAssignment.objects.filter(community=world.community_a2).exists()


def test_assignment_refuses_another_tenants_property_manager(client, world):
    client.force_login(world.installer_a)
    url = reverse("communities:community_property_managers", args=[world.community_a2.pk])
    client.post(url, {f"pm-{world.pm_b.pk}-assigned": "on"})
    assert not PropertyManagerAssignment.objects.filter(community=world.community_a2).exists()


def test_property_manager_list_names_at_most_five_communities(client, world):
    for i in range(6):
        c = CommunityFactory(installer=world.installer_a, name=f"Zeta {i}")
        PropertyManagerAssignment.objects.create(community=c, property_manager=world.pm_nothing)
    client.force_login(world.installer_a)
    table = client.get(reverse("communities:dashboard")).context["pm_table"]
    cells = {row.record.pk: row.get_cell("communities") for row in table.page.object_list}
    assert cells[world.pm_a.pk] == "Alpha Gardens"
    assert cells[world.pm_nothing.pk] == "Zeta 0, Zeta 1, Zeta 2, Zeta 3, Zeta 4 and 1 more"


def test_all_field_errors_are_reported_in_one_round(client, world):
    client.force_login(world.installer_a)
    data = {**VALID, "name": "", "post_code": "12-34", "home_automation": "on", "landline_service": "on"}
    errors = client.post(reverse("communities:community_add"), data).context["form"].errors
    assert {"name", "post_code"} <= set(errors)
    # Rule errors and constraint errors of the service come together too.
    data = {**VALID, "name": "alpha gardens", "home_automation": "on", "landline_service": "on"}
    form = client.post(reverse("communities:community_add"), data).context["form"]
    assert "landline_service" in form.errors
    assert "already have a community with this name" in " ".join(form.non_field_errors())


def test_number_of_apartments_input_states_the_real_bound(client, world):
    client.force_login(world.installer_a)
    response = client.post(reverse("communities:community_add"), {**VALID, "number_of_apartments": "-5"})
    assert response.context["form"].errors["number_of_apartments"] == [
        "Ensure this value is greater than or equal to 1."
    ]
    assert 'min="1"' in client.get(reverse("communities:community_add")).content.decode()


def test_app_switched_on_for_an_unassigned_property_manager_is_refused_at_the_switch(client, world):
    """Not dropped unseen: App (or another permission) without Assigned is said at the switch."""
    client.force_login(world.installer_a)
    url = reverse("communities:community_property_managers", args=[world.community_a2.pk])
    pm = world.pm_nothing
    response = client.post(url, {f"pm-{pm.pk}-app_enabled": "on", f"pm-{pm.pk}-log_access_control": "on"})
    assert response.status_code == 422
    html = response.content.decode()
    assert f'data-field-error="pm-{pm.pk}-app_enabled"' in html
    assert f'data-field-error="pm-{pm.pk}-log_access_control"' in html
    said = f"Tick Assigned as well: App is given to {pm.display_name} only together with this community."
    assert said in html
    assert not PropertyManagerAssignment.objects.filter(community=world.community_a2).exists()
    # Assigned with App: saved as asked.
    ok = client.post(url, {f"pm-{pm.pk}-assigned": "on", f"pm-{pm.pk}-app_enabled": "on"})
    assert ok.status_code == 302
    assignment = PropertyManagerAssignment.objects.get(community=world.community_a2)
    assert (assignment.property_manager, assignment.app_enabled) == (pm, True)

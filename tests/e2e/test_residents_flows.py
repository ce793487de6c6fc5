"""The Resident and Device module in a real browser: tree, buildings, APTs, family members, reset, search."""

from __future__ import annotations

import re

from django.utils import timezone
from playwright.sync_api import Page, expect

from communities.models import Building
from residents.models import Apartment, Resident
from tests.factories import make_apartment, make_building


def open_modal(page: Page, trigger, title: str, *, button: str = "left"):
    """Click (or right-click) something that loads a form into the shared htmx modal; wait until shown."""
    trigger.click(button=button)
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text(title)
    return modal


def open_residents_page(page: Page, community_name: str) -> None:
    """Dashboard → the community row's "Resident and Device" action icon."""
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.get_by_label(f"Manage {community_name}", exact=True).click()
    expect(page).to_have_url(re.compile(r"/communities/\d+/residents/$"))
    expect(page.get_by_test_id("tree")).to_be_visible()


def building_node(page: Page, name: str):
    return page.get_by_test_id("building-node").filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))


def open_building(page: Page, name: str) -> None:
    building_node(page, name).click()
    expect(page.get_by_role("heading", name=f"Building: {name}")).to_be_visible()


def field(scope, label: str):
    """A form control by its exact label; a required field's label starts with "* "."""
    return scope.get_by_label(re.compile(rf"^(\* )?{re.escape(label)}$"))


def apt_row(page: Page, label: str):
    return page.get_by_test_id("apt-table").locator("tbody tr").filter(has_text=label)


# --- 1. Add a building, rename it from the tree's right-click ---


def test_add_building_then_rename_it_by_right_click(live_server, page, world, log_in):
    make_building(world.community_a, "Building1")  # the default name is the next free one
    log_in("inst_a")
    open_residents_page(page, "Alpha Gardens")
    nodes = page.get_by_test_id("building-node")
    expect(nodes).to_have_count(2)

    modal = open_modal(page, page.get_by_role("link", name="Add Building"), "Add Building")
    expect(modal.get_by_label("Building Name")).to_have_value("Building2")
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Building “Building2” saved.")
    expect(building_node(page, "Building2")).to_be_visible()
    expect(nodes).to_have_count(3)
    building = Building.objects.get(community=world.community_a, name="Building2")

    modal = open_modal(page, building_node(page, "Building2"), "Rename Building", button="right")
    name = modal.get_by_label("Building Name")
    expect(name).to_have_value("Building2")
    name.fill("Garden House")
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Building “Garden House” saved.")
    expect(building_node(page, "Garden House")).to_be_visible()
    expect(page.get_by_test_id("tree")).not_to_contain_text("Building2")
    expect(nodes).to_have_count(3)
    expect(building_node(page, "Building1")).to_be_visible()
    expect(building_node(page, "Alpha Block")).to_be_visible()
    building.refresh_from_db()
    assert building.name == "Garden House"
    assert Building.objects.filter(community=world.community_a).count() == 3


# --- 2. Add APT with its resident; a bad APT keeps the modal open ---


def test_add_apt_with_resident_lists_it_and_emails_the_account(
    live_server, page, world, log_in, mailoutbox, screenshot
):
    log_in("inst_a")
    open_residents_page(page, "Alpha Gardens")
    open_building(page, "Alpha Block")
    expect(apt_row(page, "101 (Floor 1)")).to_contain_text("Lily Zheng")

    modal = open_modal(page, page.get_by_role("link", name="New"), "Add APT")
    field(modal, "Floor").select_option("2")
    field(modal, "APT").fill("2#123")
    modal.get_by_label("APT Name").fill("Corner Suite")
    later = modal.get_by_label("Add Resident Later")
    expect(later).not_to_be_checked()
    later.check()
    expect(modal.get_by_label("First Name")).to_be_hidden()
    expect(modal.get_by_label("Mobile Number")).to_be_hidden()
    later.uncheck()
    expect(modal.get_by_label("First Name")).to_be_visible()
    modal.get_by_label("First Name").fill("Ada")
    modal.get_by_label("Last Name").fill("Lovelace")
    modal.get_by_label("Email").fill("ada@example.test")
    calling_code = modal.get_by_test_id("calling-code-mobile_number")
    expect(calling_code).to_have_text("+")
    modal.get_by_label("Country / Region").select_option(label="United States of America")
    expect(calling_code).to_have_text("+1")
    expect(modal.get_by_test_id("calling-code-landline1")).to_have_text("+1")
    modal.get_by_label("Mobile Number").fill("2025550143")
    screenshot(page, "add-apt.png")
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("APT 2#123 saved.")
    info = page.get_by_test_id("apartment-info")
    expect(info).to_contain_text("2#123 (Floor 2)")
    expect(info).to_contain_text("Corner Suite")
    master = page.get_by_test_id("master-info")
    expect(master).to_contain_text("Ada Lovelace")
    expect(page.get_by_test_id("master-email")).to_have_text("ada@example.test")
    expect(page.get_by_test_id("master-mobile")).to_have_text("+1 2025550143")
    expect(page.get_by_test_id("app-status")).to_have_text("Unregistered")

    open_building(page, "Alpha Block")
    row = apt_row(page, "2#123 (Floor 2)")
    expect(row).to_contain_text("Ada Lovelace")
    expect(row).to_contain_text("ada@example.test")
    expect(row).to_contain_text("+1 2025550143")
    expect(page.get_by_test_id("apt-table").locator("tbody tr")).to_have_count(2)
    screenshot(page, "resident-and-device.png")

    apt = Apartment.objects.get(community=world.community_a, number="2#123")
    assert (apt.building_id, apt.floor, apt.name) == (world.building_a.pk, 2, "Corner Suite")
    ada = Resident.objects.get(apartment=apt)
    assert (ada.first_name, ada.last_name, ada.email, ada.family_master_id) == (
        "Ada",
        "Lovelace",
        "ada@example.test",
        None,
    )
    assert (ada.country.code, ada.mobile_number) == ("US", "2025550143")
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["ada@example.test"]
    assert email.subject == "Your SmartPlus app account for Alpha Gardens"
    assert "2#123" in email.body


APT_LEADING_HASH_ERROR = (
    'The APT cannot start with "#": door phones in APT#+PIN mode could not tell it from the PIN.'
)


def test_add_apt_starting_with_hash_shows_error_at_the_field(live_server, page, world, log_in, mailoutbox):
    log_in("inst_a")
    open_residents_page(page, "Alpha Gardens")
    open_building(page, "Alpha Block")

    modal = open_modal(page, page.get_by_role("link", name="New"), "Add APT")
    field(modal, "APT").fill("#123")
    modal.get_by_label("First Name").fill("Hash")
    modal.get_by_label("Last Name").fill("Leader")
    modal.get_by_label("Email").fill("hash@example.test")
    modal.get_by_label("Country / Region").select_option(label="United States of America")
    modal.get_by_label("Mobile Number").fill("2025550143")
    modal.get_by_role("button", name="Submit").click()

    expect(modal.locator("[data-field-error=number]")).to_have_text(APT_LEADING_HASH_ERROR)
    expect(modal).to_be_visible()
    expect(modal.locator("[data-field-error]")).to_have_count(1)
    expect(field(modal, "APT")).to_have_value("#123")
    expect(modal.get_by_label("First Name")).to_have_value("Hash")
    expect(modal.get_by_test_id("calling-code-mobile_number")).to_have_text("+1")
    assert Apartment.objects.filter(community=world.community_a).count() == 1
    assert not Resident.objects.filter(email="hash@example.test").exists()
    assert mailoutbox == []
    world.community_a.refresh_from_db()
    assert (world.community_a.apartment_count, world.community_a.end_user_count) == (1, 2)


# --- 3. Family members: add one; an email once set cannot be edited ---


def open_apartment(page: Page, building: str, number: str) -> None:
    open_building(page, building)
    page.get_by_label(f"Info of APT {number}", exact=True).click()
    expect(page.get_by_role("heading", name=f"APT {number}", exact=True)).to_be_visible()


def test_add_family_member_then_its_email_is_locked_on_edit(
    live_server, page, world, log_in, mailoutbox, screenshot
):
    log_in("inst_a")
    open_residents_page(page, "Alpha Gardens")
    open_apartment(page, "Alpha Block", "101")
    members = page.get_by_test_id("member-table")
    expect(page.get_by_test_id("member-count")).to_have_text("1 Family Member")
    expect(members.locator("tbody tr")).to_have_count(1)
    expect(members).to_contain_text("Jim Wang")

    modal = open_modal(page, page.get_by_test_id("new-family-member"), "New Family Member")
    expect(modal).to_contain_text("APT 101")
    modal.get_by_label("First Name").fill("Mei")
    modal.get_by_label("Last Name").fill("Zheng")
    modal.get_by_label("Email").fill("mei@example.test")
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Family member Mei Zheng saved.")
    expect(page.get_by_test_id("member-count")).to_have_text("2 Family Members")
    mei_row = members.locator("tbody tr").filter(has_text="Mei Zheng")
    expect(mei_row).to_contain_text("mei@example.test")
    expect(members.locator("tbody tr")).to_have_count(2)
    screenshot(page, "apartment-detail.png")

    mei = Resident.objects.get(email="mei@example.test")
    assert (mei.apartment_id, mei.family_master_id) == (world.apartment_a.pk, world.resident_a.pk)
    assert [m.to for m in mailoutbox] == [["mei@example.test"]]

    modal = open_modal(page, page.get_by_label("Edit Mei Zheng", exact=True), "Edit Family Member")
    email = modal.get_by_label("Email")
    expect(email).to_have_value("mei@example.test")
    expect(email).to_be_disabled()
    expect(modal).to_contain_text("The email of a family member cannot be edited.")
    modal.get_by_label("Last Name").fill("Zheng-Li")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    renamed = members.locator("tbody tr").filter(
        has=page.get_by_role("cell", name="Mei Zheng-Li", exact=True)
    )
    expect(renamed).to_contain_text("mei@example.test")
    expect(members.get_by_role("cell", name="Mei Zheng", exact=True)).to_have_count(0)
    mei.refresh_from_db()
    assert (mei.last_name, mei.email) == ("Zheng-Li", "mei@example.test")

    # A family member without an email may still get one.
    modal = open_modal(page, page.get_by_label("Edit Jim Wang", exact=True), "Edit Family Member")
    expect(modal.get_by_label("Email")).to_be_enabled()
    expect(modal.get_by_label("Email")).to_have_value("")


# --- 4. Reset the apartment for new tenants ---


def test_reset_apartment_removes_members_and_clears_the_master_without_email(
    live_server, page, world, log_in, mailoutbox
):
    Resident.objects.filter(pk=world.resident_a.pk).update(
        email="lily@example.test", country="US", mobile_number="2025550143", app_registered_at=timezone.now()
    )
    log_in("inst_a")
    open_residents_page(page, "Alpha Gardens")
    open_apartment(page, "Alpha Block", "101")
    expect(page.get_by_test_id("master-email")).to_have_text("lily@example.test")
    expect(page.get_by_test_id("app-status")).to_have_text("Registered")
    expect(page.get_by_test_id("member-count")).to_have_text("1 Family Member")
    sip = page.get_by_test_id("family-sip").inner_text()

    modal = open_modal(page, page.get_by_role("link", name="Reset"), "Reset APT")
    removed = modal.get_by_test_id("reset-removed")
    expect(removed).to_contain_text("Family member accounts.")
    expect(removed).to_contain_text("Emails, mobile numbers, country/region, and landlines.")
    expect(removed).to_contain_text("Access settings: PIN, face data, NFC, Bluetooth and QR codes.")
    kept = modal.get_by_test_id("reset-kept")
    expect(kept).to_contain_text("The family master's subscription")
    expect(kept).to_contain_text("Audit logs.")
    expect(modal).to_contain_text("no email is sent")
    modal.get_by_role("button", name="OK").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text(
        "APT 101 was reset. The app is unregistered and its login was reset; no email was sent."
    )
    expect(page.get_by_test_id("member-count")).to_have_text("0 Family Members")
    expect(page.get_by_test_id("member-table").locator("tbody tr")).to_have_text("No data")
    expect(page.get_by_test_id("master-info")).to_contain_text("Lily Zheng")
    expect(page.get_by_test_id("master-email")).to_have_text("--")
    expect(page.get_by_test_id("master-mobile")).to_have_text("--")
    expect(page.get_by_test_id("app-status")).to_have_text("Unregistered")
    expect(page.get_by_test_id("family-sip")).to_have_text(sip)

    assert not Resident.objects.filter(apartment=world.apartment_a, family_master__isnull=False).exists()
    lily = Resident.objects.get(pk=world.resident_a.pk)
    assert (lily.email, lily.mobile_number, lily.country.code, lily.app_registered_at) == ("", "", "", None)
    assert mailoutbox == []
    world.community_a.refresh_from_db()
    assert world.community_a.end_user_count == 1


# --- 4a. Edit APT's Reset Password: confirmed in the dialog, a new app password emailed ---


def test_reset_password_from_edit_apt_emails_the_resident_a_new_password(
    live_server, page, world, log_in, mailoutbox
):
    Resident.objects.filter(pk=world.resident_a.pk).update(email="lily@example.test", language="fr")
    log_in("pm_a@example.test")
    open_residents_page(page, "Alpha Gardens")
    open_apartment(page, "Alpha Block", "101")

    # The icon's glyph is part of the link's name: "<glyph> Edit".
    edit = page.get_by_role("link", name=re.compile(r"^\W*Edit$"))
    modal = open_modal(page, edit, "Edit APT")
    modal.get_by_role("link", name="Reset Password").click()
    expect(modal.locator(".modal-title")).to_have_text("Reset Password")
    expect(modal.get_by_test_id("reset-password-confirm")).to_contain_text("lily@example.test")
    assert mailoutbox == []
    modal.get_by_role("button", name="Send new password").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text(
        "A new SmartPlus app password is on its way to lily@example.test."
    )
    (message,) = mailoutbox
    assert message.to == ["lily@example.test"]
    assert "réinitialisé" in message.body


# --- 5. Resident search at community level ---


def test_resident_search_and_app_status_filter_on_the_community_node(live_server, page, world, log_in):
    make_apartment(world.building_a, "202", floor=2, resident={"first_name": "Omar", "last_name": "Haddad"})
    log_in("inst_a")
    open_residents_page(page, "Alpha Gardens")
    expect(page.get_by_role("link", name="Community")).to_have_class(re.compile(r"\bactive\b"))
    expect(page.locator(".nav-tabs .nav-link.active")).to_have_text("Residents")
    table = page.get_by_test_id("resident-table")
    rows = table.locator("tbody tr")
    in_all = page.get_by_test_id("in-all")
    expect(rows).to_have_count(3)
    expect(in_all).to_have_text("3 In All")

    filters = page.get_by_test_id("resident-filters")
    filters.get_by_label("Search").fill("zhe")
    filters.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]q=zhe"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Lily Zheng")
    expect(rows.first).to_contain_text("101 (Floor 1)")
    expect(in_all).to_have_text("1 In All")
    expect(filters.get_by_label("Search")).to_have_value("zhe")

    filters.get_by_label("Search").fill("202")
    filters.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]q=202"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Omar Haddad")
    expect(rows.first).to_contain_text("202 (Floor 2)")
    expect(in_all).to_have_text("1 In All")

    filters.get_by_label("Search").fill("")
    filters.get_by_label("App Status").select_option(label="Registered")
    filters.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]app_status=registered"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_text("No data")
    expect(in_all).to_have_text("0 In All")

    filters.get_by_label("App Status").select_option(label="Unregistered")
    filters.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]app_status=unregistered"))
    expect(rows).to_have_count(3)
    expect(in_all).to_have_text("3 In All")


# --- 6. A building that still holds apartments cannot be deleted ---


def test_delete_building_with_apartments_is_refused_and_says_what_is_inside(live_server, page, world, log_in):
    log_in("inst_a")
    open_residents_page(page, "Alpha Gardens")

    page.get_by_label("Actions of Alpha Block", exact=True).click()
    modal = open_modal(page, page.get_by_role("link", name="Delete", exact=True), "Delete Building")
    # Said before the click, and Delete cannot be pressed.
    expect(modal.get_by_test_id("delete-refusal")).to_have_text(
        "Alpha Block still holds 1 apartment(s). Delete or move them first."
    )
    expect(modal.get_by_role("button", name="Delete")).to_be_disabled()
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()
    expect(building_node(page, "Alpha Block")).to_be_visible()
    assert Building.objects.filter(pk=world.building_a.pk).exists()
    assert Apartment.objects.filter(pk=world.apartment_a.pk).exists()

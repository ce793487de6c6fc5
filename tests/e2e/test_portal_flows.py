"""The portal's main flows in a real browser: what the user sees, and what ends up in the database."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from accounts.choices import Role
from accounts.models import PropertyManagerAssignment
from communities.models import Community
from smartplus.models import AuditLog
from tests.e2e.conftest import login, logout
from tests.factories import PASSWORD, InstallerFactory

User = get_user_model()


def community_card(page: Page):
    return page.locator(".card").filter(has=page.get_by_test_id("community-count"))


def list_card(page: Page, heading: str):
    return page.locator(".card").filter(has=page.get_by_role("heading", name=heading, exact=True))


def open_modal(page: Page, trigger, title: str):
    """Click something that loads a form into the shared htmx modal; wait until it is shown."""
    trigger.click()
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text(title)
    return modal


# --- 1. Login ---


def test_login_wrong_password_then_right_password_lands_on_dashboard(live_server, page, world, log_in):
    login(page, live_server, "inst_a", "not-the-password")

    expect(page.get_by_text("The username and/or password you specified are not correct.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    world.installer_a.refresh_from_db()
    assert world.installer_a.last_login is None

    log_in("inst_a")

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.locator("header.topbar")).to_contain_text("Role: Project Manager")
    rows = community_card(page).locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Alpha Gardens")
    expect(rows.nth(1)).to_contain_text("Alpha Towers")
    expect(page.get_by_text("Bravo Heights")).to_have_count(0)
    world.installer_a.refresh_from_db()
    assert world.installer_a.last_login is not None


# --- 2. New community with every setting ---


def test_new_community_modal_saves_every_setting(live_server, page, world, log_in, screenshot):
    world.distributor_a.community_calls_enabled = True
    world.distributor_a.save()
    log_in("inst_a")

    modal = open_modal(page, page.get_by_test_id("new-community"), "New Community")
    modal.get_by_label("Number of apartments").fill("120")
    expect(modal.get_by_label("Home Automation Service")).not_to_be_checked()
    modal.get_by_label("Community Calls").check()
    modal.get_by_label("Landline Service").check()
    modal.get_by_label("Basic", exact=True).check()
    modal.get_by_label("Community Name").fill("Cedar Court")
    modal.get_by_label("Country / Region").select_option(label="Germany")
    modal.get_by_label("State/Province").fill("Berlin")
    modal.get_by_label("City").fill("Berlin")
    modal.get_by_label("Post Code").fill("10115")
    modal.get_by_label("Street").fill("Invalidenstrasse 1")
    modal.get_by_label("Time Zone").select_option("Europe/Berlin")
    modal.get_by_label("12-hour time").check()
    modal.get_by_label("Date Format").select_option(label="Day/Month/Year")
    modal.get_by_label("Only Public Area").check()
    modal.get_by_label("APT+PIN (e.g. 101 + 1234)").check()
    modal.get_by_label("Pay By PM").check()
    modal.get_by_label("Send Expiration Email To End User/PM").check()
    modal.get_by_label("Send Renew Email To End User").check()
    screenshot(page, "community-new.png")
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Community “Cedar Court” saved.")
    expect(page.get_by_test_id("community-count")).to_have_text("3 Community(ies)")
    expect(community_card(page).get_by_role("link", name="Cedar Court", exact=True)).to_be_visible()

    c = Community.objects.get(name="Cedar Court")
    assert c.installer_id == world.installer_a.pk
    assert {
        "number_of_apartments": c.number_of_apartments,
        "home_automation": c.home_automation,
        "community_calls": c.community_calls,
        "landline_service": c.landline_service,
        "feature_plan": c.feature_plan,
        "country": c.country.code,
        "state": c.state,
        "city": c.city,
        "post_code": c.post_code,
        "street": c.street,
        "time_zone": c.time_zone,
        "time_format": c.time_format,
        "date_format": c.date_format,
        "access_control_permission": c.access_control_permission,
        "pin_mode": c.pin_mode,
        "charge_mode": c.charge_mode,
        "send_expiration_email": c.send_expiration_email,
        "send_renew_email": c.send_renew_email,
    } == {
        "number_of_apartments": 120,
        "home_automation": False,
        "community_calls": True,
        "landline_service": True,
        "feature_plan": "basic",
        "country": "DE",
        "state": "Berlin",
        "city": "Berlin",
        "post_code": "10115",
        "street": "Invalidenstrasse 1",
        "time_zone": "Europe/Berlin",
        "time_format": "12h",
        "date_format": "d/m/Y",
        "access_control_permission": "public_only",
        "pin_mode": "apt_pin",
        "charge_mode": "pm",
        "send_expiration_email": True,
        "send_renew_email": True,
    }
    screenshot(page, "dashboard.png")


# --- 3. Bad input keeps the modal open ---

POST_CODE_ERROR = "Post code may contain only letters A-Z, a-z and digits 0-9."


def fill_address(modal, *, post_code: str) -> None:
    modal.get_by_label("Country / Region").select_option(label="France")
    modal.get_by_label("City").fill("Lyon")
    modal.get_by_label("Street").fill("1 Rue de la Paix")
    modal.get_by_label("Post Code").fill(post_code)


def assert_nothing_saved(page: Page, modal) -> None:
    expect(modal).to_be_visible()
    expect(modal.get_by_label("City")).to_have_value("Lyon")
    expect(page.get_by_test_id("community-count")).to_have_text("2 Community(ies)")
    assert Community.objects.count() == 3  # world: Alpha Gardens, Alpha Towers, Bravo Heights
    assert not Community.objects.filter(city="Lyon").exists()


def test_new_community_bad_post_code_shows_error_at_the_field(live_server, page, world, log_in):
    log_in("inst_a")

    modal = open_modal(page, page.get_by_test_id("new-community"), "New Community")
    modal.get_by_label("Community Name").fill("Lyon Plaza")
    fill_address(modal, post_code="12-34")
    modal.get_by_role("button", name="Submit").click()

    expect(modal.locator("[data-field-error=post_code]")).to_have_text(POST_CODE_ERROR)
    expect(modal.get_by_label("Post Code")).to_have_value("12-34")
    assert_nothing_saved(page, modal)


def test_new_community_empty_name_and_bad_post_code_show_both_errors(live_server, page, world, log_in):
    log_in("inst_a")

    modal = open_modal(page, page.get_by_test_id("new-community"), "New Community")
    fill_address(modal, post_code="12-34")
    modal.get_by_role("button", name="Submit").click()

    expect(modal.locator("[data-field-error=name]")).to_have_text("This field is required.")
    assert_nothing_saved(page, modal)
    expect(modal.locator("[data-field-error=post_code]")).to_have_text(POST_CODE_ERROR)


# --- 4. Edit: locked settings, rename, Home Automation cannot be turned off ---


def test_edit_community_locks_plan_and_access_control_and_home_automation(live_server, page, world, log_in):
    log_in("inst_a")
    community = world.community_a

    modal = open_modal(page, page.get_by_label("Edit Alpha Gardens"), "Edit Community")
    for label in ("Basic", "Premium", "1Monitor_All", "Public Area + Private Area", "Only Public Area"):
        expect(modal.get_by_label(label, exact=True)).to_be_disabled()
    expect(modal.get_by_label("Premium", exact=True)).to_be_checked()
    expect(modal.get_by_label("Public Area + Private Area")).to_be_checked()
    expect(modal.locator(".field-feature_plan")).to_contain_text("Cannot be changed once set.")
    expect(modal.get_by_label("Home Automation Service")).to_be_enabled()
    modal.get_by_label("Community Name").fill("Alpha Gardens East")
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(community_card(page).get_by_role("link", name="Alpha Gardens East", exact=True)).to_be_visible()
    community.refresh_from_db()
    assert community.name == "Alpha Gardens East"
    assert (community.feature_plan, community.access_control_permission) == ("premium", "public_private")

    modal = open_modal(page, page.get_by_label("Edit Alpha Gardens East"), "Edit Community")
    modal.get_by_label("Home Automation Service").check()
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Community “Alpha Gardens East” saved.")
    community.refresh_from_db()
    assert community.home_automation is True

    modal = open_modal(page, page.get_by_label("Edit Alpha Gardens East"), "Edit Community")
    home_automation = modal.get_by_label("Home Automation Service")
    expect(home_automation).to_be_checked()
    expect(home_automation).to_be_disabled()


# --- 4a. Delete Community: its name typed out, a wrong one refused at the field ---


def test_delete_community_asks_for_its_name(live_server, page, world, log_in):
    log_in("inst_a")
    modal = open_modal(page, page.get_by_label("Edit Alpha Gardens"), "Edit Community")
    modal.get_by_role("button", name="Delete").click()
    expect(modal.locator(".modal-title")).to_have_text("Delete Community")
    typed = modal.get_by_label("Type the community name to confirm")
    typed.fill("Alpha")
    modal.get_by_role("button", name="Delete").click()
    expect(modal.locator('[data-field-error="name"]')).to_have_text(
        "“Alpha” is not the community's name. Type Alpha Gardens exactly to confirm."
    )
    assert Community.objects.filter(pk=world.community_a.pk).exists()

    modal.get_by_label("Type the community name to confirm").fill("Alpha Gardens")
    modal.get_by_role("button", name="Delete").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Deleted Alpha Gardens.")
    expect(community_card(page).get_by_role("link", name="Alpha Gardens", exact=True)).to_have_count(0)
    assert not Community.objects.filter(pk=world.community_a.pk).exists()


# --- 5. Sub-account, property manager, assignment ---


def test_add_subaccount_and_property_manager_then_assign_pm_to_community(live_server, page, world, log_in):
    log_in("inst_a")

    modal = open_modal(page, page.get_by_test_id("new-sub"), "New Sub-account")
    modal.get_by_label("Account").fill("helper_kim")
    modal.get_by_label("Email").fill("kim@example.test")
    modal.get_by_label("Phone").fill("+49 30 1234567")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    subs = list_card(page, "Sub-account List")
    expect(subs.get_by_role("row").filter(has_text="helper_kim")).to_contain_text("kim@example.test")
    expect(subs.get_by_role("row").filter(has_text="helper_kim")).to_contain_text("+49 30 1234567")
    sub = User.objects.get(username="helper_kim")
    assert (sub.role, sub.installer_id, sub.email, sub.phone) == (
        Role.SUB_INSTALLER,
        world.installer_a.pk,
        "kim@example.test",
        "+49 30 1234567",
    )

    modal = open_modal(page, page.get_by_test_id("new-pm"), "New Property Manager")
    modal.get_by_label("First Name").fill("Greta")
    modal.get_by_label("Last Name").fill("Hansen")
    modal.get_by_label("Email").fill("greta@example.test")
    modal.get_by_label("Language").select_option(label="Danish")
    modal.get_by_label("Monthly Password Update Reminder").check()
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    pms = list_card(page, "Property Manager List")
    greta_row = pms.get_by_role("row").filter(has_text="Greta Hansen")
    expect(greta_row).to_contain_text("greta@example.test")
    expect(greta_row).to_contain_text("--")
    greta = User.objects.get(email="greta@example.test")
    assert (greta.role, greta.installer_id, greta.first_name, greta.last_name) == (
        Role.PROPERTY_MANAGER,
        world.installer_a.pk,
        "Greta",
        "Hansen",
    )
    assert (greta.language, greta.monthly_password_reminder) == ("da", True)

    towers_row = community_card(page).get_by_role("row").filter(has_text="Alpha Towers")
    expect(towers_row).to_contain_text("--")
    modal = open_modal(
        page, page.get_by_label("Assign property manager to Alpha Towers"), "Property Manager — Alpha Towers"
    )
    row = modal.locator(f"tr[data-pm='{greta.email}']")
    row.locator("input[name$='-assigned']").check()
    row.locator("input[name$='-app_enabled']").check()
    row.locator("input[name$='-log_access_control']").check()
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Property managers of “Alpha Towers” saved.")
    expect(towers_row.locator("td").nth(3)).to_have_text("Greta Hansen")
    expect(greta_row).to_contain_text("Alpha Towers")
    a = PropertyManagerAssignment.objects.get(community=world.community_a2)
    assert a.property_manager_id == greta.pk
    assert (a.app_enabled, a.delete_account_permission, a.log_access_control) == (True, False, True)


# --- 6. Distributor acting as an installer ---


def test_distributor_acts_as_installer_and_edit_is_audited_with_both_users(
    live_server, page, granted_world, log_in, screenshot
):
    w = granted_world
    InstallerFactory(
        username="inst_c",
        first_name="Carla",
        last_name="Nguyen",
        distributor=w.distributor_a,
        account_access_enabled=True,
        permission_granted=False,
    )
    log_in("dist_a")
    expect(page).to_have_url(re.compile(r"/installers/$"))
    expect(page.get_by_test_id("role-label")).to_have_text("Distributor")
    expect(page.get_by_test_id("impersonation-banner")).to_have_count(0)
    not_granted = page.get_by_role("row").filter(has_text="inst_c")
    expect(not_granted).to_contain_text("Log in as: not granted")
    expect(page.get_by_test_id("login-as-inst_c")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="inst_b")).to_have_count(0)  # another distributor's
    screenshot(page, "installers.png")

    page.get_by_test_id("login-as-inst_a").click()

    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    banner = page.get_by_test_id("impersonation-banner")
    expect(banner).to_contain_text("You (dist_a) are acting as installer inst_a")
    expect(page.get_by_test_id("role-label")).to_have_text("Project Manager")
    expect(page.get_by_test_id("account-menu")).to_have_text("inst_a")
    expect(community_card(page).get_by_role("link", name="Alpha Gardens", exact=True)).to_be_visible()
    screenshot(page, "impersonation.png")

    modal = open_modal(page, page.get_by_label("Edit Alpha Towers"), "Edit Community")
    modal.get_by_label("Community Name").fill("Alpha Towers North")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    expect(community_card(page).get_by_role("link", name="Alpha Towers North", exact=True)).to_be_visible()
    expect(banner).to_be_visible()

    banner.get_by_role("button", name="Return to my account").click()
    expect(page).to_have_url(re.compile(r"/installers/$"))
    expect(page.get_by_test_id("impersonation-banner")).to_have_count(0)
    expect(page.get_by_test_id("account-menu")).to_have_text("dist_a")

    w.community_a2.refresh_from_db()
    assert w.community_a2.name == "Alpha Towers North"
    entry = AuditLog.objects.get(action="update", object_id=str(w.community_a2.pk))
    assert (entry.user_id, entry.actor_id) == (w.distributor_a.pk, w.installer_a.pk)
    assert (entry.user_name, entry.actor_name) == ("dist_a", "inst_a")
    assert entry.changes["name"] == ["Alpha Towers", "Alpha Towers North"]


# --- 7. Change Password in three steps ---


def test_change_password_three_steps_then_log_in_with_new_password(live_server, page, world, log_in):
    new_password = "Blue-Lantern-4417"
    log_in("inst_a")

    page.get_by_test_id("account-menu").click()
    modal = open_modal(page, page.get_by_role("link", name="Change Password", exact=True), "Change Password")
    steps = modal.get_by_test_id("password-steps")
    expect(steps.locator("li.current")).to_have_text("① Step 1")
    modal.get_by_label("Original Password").fill("wrong-password")
    modal.get_by_role("button", name="Next").click()
    expect(modal.locator("[data-field-error=original_password]")).to_have_text(
        "The original password is not correct."
    )
    expect(steps.locator("li.current")).to_have_text("① Step 1")

    modal.get_by_label("Original Password").fill(PASSWORD)
    modal.get_by_role("button", name="Next").click()
    expect(steps.locator("li.current")).to_have_text("② Step 2")
    modal.get_by_label("New Password").fill(new_password)
    modal.get_by_label("Confirm Password").fill(new_password)
    modal.get_by_role("button", name="Submit").click()

    expect(modal.get_by_test_id("password-changed")).to_have_text("Your password has been changed.")
    expect(steps.locator("li.current")).to_have_text("③ Success")
    world.installer_a.refresh_from_db()
    assert world.installer_a.check_password(new_password)
    assert not world.installer_a.check_password(PASSWORD)
    assert world.installer_a.password_changed_at is not None
    modal.get_by_role("button", name="OK").click()
    expect(modal).to_be_hidden()

    logout(page)
    login(page, live_server, "inst_a", PASSWORD)
    expect(page.get_by_text("The username and/or password you specified are not correct.")).to_be_visible()
    log_in("inst_a", new_password)
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_test_id("account-menu")).to_have_text("inst_a")


def test_distributor_switches_account_access_off_and_can_no_longer_log_in_as_installer(
    live_server, page, granted_world, log_in
):
    w = granted_world
    log_in("dist_a")
    row = page.get_by_role("row").filter(has_text="inst_a")
    expect(page.get_by_test_id("login-as-inst_a")).to_be_visible()

    modal = open_modal(page, page.get_by_label("Edit inst_a"), "Edit Installer")
    account = modal.locator("input[name=username]")
    expect(account).to_be_disabled()
    expect(account).to_have_value("inst_a")
    modal.get_by_label("Account access").uncheck()
    modal.get_by_role("button", name="Submit").click()

    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Installer “inst_a” saved.")
    expect(row).to_contain_text("Log in as: not granted")
    expect(page.get_by_test_id("login-as-inst_a")).to_have_count(0)
    w.installer_a.refresh_from_db()
    assert (w.installer_a.username, w.installer_a.account_access_enabled) == ("inst_a", False)

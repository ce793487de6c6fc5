"""Every page fits the window: a laptop's 1,280 px and a phone's 390 px (issue 19, "fits every screen").

No page-level horizontal scroll (wide tables scroll inside their card), the top bar's account menu
and Log out stay in view, the phone's menu button opens the sidebar, and an error that belongs to
no field shows next to the dialog's Submit button while the first invalid field takes the focus.
With SMARTPLUS_SCREENSHOTS=1 the phone layout is saved under docs/screenshots/ (the README shows it).
"""

from __future__ import annotations

import os
import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOT_DIR

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}

PAGES = {
    "dashboard": lambda w: reverse("communities:dashboard"),
    "resident-and-device": lambda w: reverse("residents:community_residents", args=[w.community_a.pk]),
    "building-apartments": lambda w: reverse("residents:building_apartments", args=[w.building_a.pk]),
    "device-list": lambda w: reverse("devices:community_devices", args=[w.community_a.pk]),
    "upgrade-add": lambda w: reverse("firmware:upgrade_add"),
    "subscription-wizard": lambda w: reverse("billing:order_add"),
}


def phone_shot(page: Page, name: str) -> None:
    """The visible window only (small PNGs), when SMARTPLUS_SCREENSHOTS is set."""
    if not os.environ.get("SMARTPLUS_SCREENSHOTS"):
        return
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / name), animations="disabled")


def assert_no_page_overflow(page: Page, where: str) -> None:
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, f"{where}: {scroll_width} px wide in a {inner_width} px window"


def assert_in_window(page: Page, locator, where: str) -> None:
    box = locator.bounding_box()
    width = page.viewport_size["width"]
    inside = box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert inside, f"{where}: {box} is not inside the {width} px window"


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1280", "390"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_fits_the_window(live_server, page: Page, world, log_in, name, viewport):
    page.set_viewport_size(viewport)
    log_in("inst_a")
    page.goto(live_server.url + PAGES[name](world))
    expect(page.get_by_test_id("role-label")).to_be_visible()

    assert_no_page_overflow(page, name)
    assert_in_window(page, page.get_by_test_id("account-menu"), f"{name}: account menu")
    assert_in_window(page, page.get_by_role("button", name="Log out"), f"{name}: Log out")
    # A table wider than its card scrolls inside the card, its Action column stays in view.
    for action in page.locator("td.actions-col").all()[:3]:
        assert_in_window(page, action, f"{name}: Action column")
    sidebar_link = page.get_by_test_id("sidebar").get_by_role("link", name="Dashboard")
    if viewport is PHONE:
        expect(sidebar_link).to_be_hidden()  # behind the menu button
        expect(page.get_by_test_id("menu-button")).to_be_visible()
    else:
        expect(sidebar_link).to_be_visible()
        expect(page.get_by_test_id("menu-button")).to_be_hidden()


def test_the_phone_menu_opens_and_closes_the_sidebar(live_server, page: Page, world, log_in):
    page.set_viewport_size(PHONE)
    log_in("inst_a")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    phone_shot(page, "phone-dashboard.png")
    sidebar = page.get_by_test_id("sidebar")
    expect(sidebar.get_by_role("link", name="Firmware")).to_be_hidden()

    page.get_by_test_id("menu-button").click()
    expect(sidebar.get_by_role("link", name="Firmware")).to_be_in_viewport()
    phone_shot(page, "phone-sidebar.png")
    sidebar.get_by_role("button", name="Close menu").click()
    expect(sidebar.get_by_role("link", name="Firmware")).to_be_hidden()

    page.get_by_test_id("menu-button").click()
    sidebar.get_by_role("link", name="Upgrade").click()
    expect(page).to_have_url(re.compile(r"/upgrades/"))
    assert_no_page_overflow(page, "upgrade list")


def test_an_error_of_no_field_shows_next_to_submit_and_the_first_bad_field_is_focused(
    live_server, page: Page, world, log_in
):
    world.community_a.number_of_apartments = world.community_a.apartment_count  # full: 1 of 1
    world.community_a.save(update_fields=["number_of_apartments"])
    page.set_viewport_size(PHONE)
    log_in("inst_a")
    page.goto(live_server.url + reverse("residents:building_apartments", args=[world.building_a.pk]))
    page.get_by_role("link", name="New").click()
    modal = page.locator("#modal")
    expect(modal.locator(".modal-title")).to_have_text("Add APT")
    submit = modal.get_by_role("button", name="Submit")

    # 1. A field error at the top of the long dialog, submitted from its bottom: the field is
    # focused and in view.
    modal.get_by_label("Add Resident Later").check()
    modal.locator(".modal-body").evaluate("(body) => body.scrollTo(0, body.scrollHeight)")
    submit.click()
    number = modal.get_by_label(re.compile(r"^(\* )?APT$"))
    expect(modal.locator("[data-field-error=number]")).to_be_visible()
    expect(number).to_be_focused()
    expect(number).to_be_in_viewport()
    expect(number).to_have_attribute("aria-invalid", "true")

    # 2. The community is full: an error of no field, shown next to Submit, wherever the body is.
    number.fill("102")
    modal.locator(".modal-body").evaluate("(body) => body.scrollTo(0, body.scrollHeight)")
    submit.click()
    error = modal.locator("[data-field-error='__all__']")
    expect(error).to_contain_text("Alpha Gardens already has 1 apartments")
    expect(error).to_be_in_viewport()
    expect(error).to_have_attribute("role", "alert")
    expect(modal.locator(".modal-footer [data-field-error='__all__']")).to_have_count(1)
    assert_no_page_overflow(page, "Add APT dialog")
    phone_shot(page, "phone-dialog-error.png")

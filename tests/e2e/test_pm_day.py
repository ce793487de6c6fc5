"""Browser: a property manager's day. She logs in to her dashboard, adds a family member's RF
card, sees the door event of that card appear on her community's card (the device names the
credential it was given; the portal names the resident), filters the Door Log and opens the
captured image of the entry."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from access.models import Credential
from accounts.models import PropertyManagerAssignment
from tests.logs.support import door, post_events, post_image, registered

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_property_managers_day(world, live_server, page, log_in, screenshot):
    PropertyManagerAssignment.objects.filter(pk=world.assignment_a.pk).update(log_access_control=True)
    device = registered(world.device_a)

    log_in("pm_a@example.test")
    card = page.get_by_test_id(f"pm-card-{world.community_a.pk}")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("card-door-events")).to_have_count(0)  # nothing happened yet

    # Add Jim's RF card from his apartment's credentials.
    page.goto(f"{live_server.url}/apartments/{world.apartment_a.pk}/credentials/")
    page.get_by_test_id("credential-add").click()
    modal = page.locator("#modal")
    modal.get_by_label("Resident").select_option(label="Jim Wang (family member)")
    modal.get_by_label("RF Card").check()
    modal.get_by_label("PIN / Card Code").fill("00c0ffee")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    expect(page.get_by_test_id("messages")).to_contain_text("Credential saved.")
    credential = Credential.objects.get(code="00C0FFEE")
    assert credential.created_by == world.pm_a

    # The door reads the card (it names the UserID it was given), and refuses an unknown PIN.
    events = [
        door("card-1", method="rf_card", credential="00C0FFEE", user_id=credential.pk, minutes_ago=1),
        door("pin-1", credential="999999", result="refused", minutes_ago=3),
    ]
    assert post_events(device, events).status_code == 200
    assert post_image(device, "door", "card-1").status_code == 201

    page.goto(f"{live_server.url}/")
    recent = card.get_by_test_id("card-door-events")
    expect(recent).to_contain_text("Jim Wang")
    expect(recent.locator("li").first).to_contain_text("RF Card")
    expect(recent).to_contain_text("Refused")
    screenshot(page, "pm-dashboard.png")

    # The Door Log, filtered to RF cards, shows Jim's entry only.
    card.get_by_test_id("card-door-log").click()
    rows = page.get_by_test_id("door-event")
    expect(rows).to_have_count(2)
    filters = page.get_by_test_id("log-filters")
    filters.locator("select[name=method]").select_option("rf_card")
    filters.get_by_test_id("log-search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Jim Wang")

    # Its captured image opens in the viewer, through the authorized view.
    page.get_by_test_id("tab-captured-images").click()
    thumbnails = page.get_by_test_id("captured-image")
    expect(thumbnails).to_have_count(1)
    thumbnails.first.get_by_role("button").click()
    expect(page.get_by_test_id("image-viewer-img")).to_be_visible()
    page.wait_for_function("document.getElementById('image-viewer-img').naturalWidth > 0")

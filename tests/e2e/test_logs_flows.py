"""Browser: a property manager with Log Access Control filters the Door Log and opens a captured
image; the events came in through the device API as a device sends them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import PropertyManagerAssignment
from tests.logs.support import door, post_events, post_image, registered

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_pm_filters_the_door_log_and_opens_a_captured_image(world, live_server, page, log_in, screenshot):
    PropertyManagerAssignment.objects.filter(pk=world.assignment_a.pk).update(log_access_control=True)
    device = registered(world.device_a)
    events = [
        door("ok-1", user_id=world.resident_a.pk, minutes_ago=5),
        door("no-1", method="rf_card", credential="0012345678", result="refused", minutes_ago=2),
    ]
    assert post_events(device, events).status_code == 200
    assert post_image(device, "door", "ok-1").status_code == 201

    log_in("pm_a@example.test")
    page.goto(f"{live_server.url}/communities/{world.community_a.pk}/logs/doors/")
    rows = page.get_by_test_id("door-event")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("0012345678")
    expect(page.get_by_test_id("door-log")).to_contain_text(world.resident_a.display_name)

    filters = page.get_by_test_id("log-filters")
    filters.locator("select[name=result]").select_option("refused")
    filters.get_by_test_id("log-search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Refused")
    expect(rows.first).to_contain_text("RF Card")
    screenshot(page, "logs-door-log.png")

    page.get_by_test_id("tab-captured-images").click()
    thumbnails = page.get_by_test_id("captured-image")
    expect(thumbnails).to_have_count(1)
    thumbnails.first.get_by_role("button").click()
    viewer = page.get_by_test_id("image-viewer-img")
    expect(viewer).to_be_visible()
    # The JPEG loaded through the authorized view (a broken image has no natural width).
    page.wait_for_function("document.getElementById('image-viewer-img').naturalWidth > 0")
    assert "/logs/images/" in viewer.get_attribute("src")
    screenshot(page, "logs-captured-image.png")

"""A property manager's dashboard card, and switching a Premium control: the switch reaches
the R29 door phone as a queued AutoP; under an expired plan the switches are disabled."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from communities.choices import FeaturePlan
from devices.choices import CommandKind, CommandStatus
from devices.models import DeviceCommand
from pmportal.models import PremiumControl
from tests.factories import build_world
from tests.pmportal.support import set_plan

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_pm_reads_the_dashboard_and_switches_package_notification(
    page: Page, live_server, log_in, screenshot
):
    world = build_world()
    set_plan(world.community_a)
    DeviceCommand.objects.all().delete()
    log_in(world.pm_a.username)
    page.goto(f"{live_server.url}/dashboard/")
    card = page.get_by_test_id(f"pm-card-{world.community_a.pk}")
    expect(card).to_contain_text("Alpha Gardens")
    expect(card.get_by_test_id("card-apartments")).to_have_text("1")
    expect(card.get_by_test_id("card-devices")).to_contain_text("0 / 1")
    screenshot(page, "pm-dashboard.png")
    card.get_by_test_id("card-premium-controls").click()
    switch = page.get_by_test_id("switch-package_notification")
    expect(switch).to_have_attribute("aria-checked", "false")
    switch.click()
    expect(page.get_by_text("Package Notification is on.")).to_be_visible()
    expect(page.get_by_test_id("switch-package_notification")).to_have_attribute("aria-checked", "true")
    assert PremiumControl.objects.get(community=world.community_a).package_notification is True
    assert list(
        DeviceCommand.objects.filter(kind=CommandKind.AUTOP, status=CommandStatus.QUEUED).values_list(
            "device_id", flat=True
        )
    ) == [world.device_a.pk]
    screenshot(page, "premium-controls.png")

    # The plan expires: the switches are shown disabled with the reason.
    set_plan(world.community_a, FeaturePlan.PREMIUM, days=-1)
    page.reload()
    expect(page.get_by_test_id("premium-refusal")).to_contain_text("expired")
    expect(page.get_by_test_id("switch-package_notification")).to_be_disabled()

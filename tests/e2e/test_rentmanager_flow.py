"""The super manager links an installer to (the fake) Rent Manager, presses Sync now and reads the
log; the installer then finds the synchronised community with Service Type Integration."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from rentmanager.fake import serve
from tests.rentmanager.conftest import rm_seed


@pytest.fixture
def fake_rm(settings):
    settings.SMARTPLUS_RENTMANAGER_PAGE_SIZE = 5
    server = serve(rm_seed())
    yield server
    server.stop()


def test_link_an_installer_sync_now_and_read_the_log(
    live_server, page: Page, world, log_in, fake_rm, screenshot
):
    log_in("root")
    page.goto(f"{live_server.url}/rentmanager/")
    page.get_by_test_id("rm-link-installer").click()
    page.locator("select[name=installer]").select_option(str(world.installer_a.pk))
    page.locator("input[name=base_url]").fill(fake_rm.url)
    page.locator("input[name=username]").fill("smartplus")
    page.locator("input[name=password]").fill("wrong")
    page.get_by_test_id("rm-test").click()
    expect(page.get_by_text("Invalid username or password")).to_be_visible()
    page.locator("input[name=password]").fill("rm-secret")
    page.get_by_test_id("rm-test").click()
    expect(page.get_by_text("Connection works: Rent Manager lists 3 properties.")).to_be_visible()
    page.get_by_label("Property 2").check()
    screenshot(page, "rentmanager-link.png")
    page.get_by_test_id("rm-save").click()
    expect(page.get_by_text("is linked to Rent Manager")).to_be_visible()
    page.get_by_test_id("rm-sync-now").click()
    expect(page.get_by_test_id("rm-run-status").first).to_have_text("Success")
    expect(page.get_by_test_id("rm-run-counts").first).to_contain_text("Unit")
    expect(page.get_by_test_id("rm-properties")).to_contain_text("Property 2 → Property 2")
    screenshot(page, "rentmanager-log.png")

    page.context.clear_cookies()
    log_in("inst_a")
    page.goto(f"{live_server.url}/rentmanager/")
    expect(page.get_by_test_id("rm-connections")).to_contain_text("Success")
    page.goto(f"{live_server.url}/subscriptions/")
    expect(page.locator("body")).to_be_visible()
    page.locator("#filter-type").select_option("app")
    page.get_by_test_id("filter-submit").click()
    expect(page.locator("table").first).to_contain_text("Integration")

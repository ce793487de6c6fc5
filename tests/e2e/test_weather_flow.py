"""Weather in a real browser: the installer moves a community to another city; its page then
shows the weather its indoor monitors get from the (fake) provider and when it was fetched."""

from __future__ import annotations

from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOT_DIR
from tests.weather.conftest import fake_weather  # noqa: F401
from weather import conditions
from weather.fakeprovider.server import weather_for
from weather.models import CommunityWeather, Observation


def test_changing_the_address_shows_the_new_places_weather(
    live_server,
    page: Page,
    world,
    log_in,
    fake_weather,  # noqa: F811
):
    log_in("inst_a")
    page.goto(f"{live_server.url}/communities/{world.community_a.pk}/")
    panel = page.locator("#community-weather")
    expect(panel).to_contain_text("Weather on indoor monitors")

    page.get_by_role("link", name="Edit").click()
    modal = page.locator("#modal")
    expect(modal.locator(".modal-title")).to_have_text("Edit Community")
    modal.get_by_label("City").fill("Denver")
    modal.get_by_label("Post Code").fill("80202")
    modal.get_by_role("button", name="Submit").click()
    expect(modal).to_be_hidden()
    assert fake_weather.calls == {"geocode": 1, "forecast": 1}

    page.goto(f"{live_server.url}/communities/{world.community_a.pk}/")
    location = CommunityWeather.objects.get(community=world.community_a).location
    temperature_c, code = weather_for(location.latitude, location.longitude)
    fahrenheit = conditions.in_unit(temperature_c, "F")  # a US community
    expect(panel).to_contain_text("Denver")
    expect(panel.locator("[data-weather=current]")).to_contain_text(f"{fahrenheit} °F")
    expect(panel.locator("[data-weather=current]")).to_contain_text(str(conditions.condition(code)))
    fetched = timezone.localtime(Observation.objects.get(location=location).fetched_at)
    expect(panel.locator("[data-weather=fetched]")).to_contain_text(fetched.strftime("%Y-%m-%d %H:%M"))
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(SCREENSHOT_DIR / "community-weather.png"))

"""Weather reads for the portal's pages: the community page's panel."""

from __future__ import annotations

from smartplus import authz, roles

from . import conditions
from .models import CommunityWeather, Observation
from .services import WEATHER_MIN_FIRMWARE, WEATHER_MODEL, firmware_supports_weather


def community_weather_panel(actor, community) -> dict:
    """What the community's indoor monitors are given: the current weather in their unit, when
    it was fetched, the last failure, and how many monitors can show it."""
    authz.authorize(actor, roles.VIEW, community)
    from devices.models import Device

    link = CommunityWeather.objects.select_related("location").filter(community_id=community.pk).first()
    location = link.location if link else None
    observation = Observation.objects.filter(location=location).first() if location else None
    unit = conditions.unit_for(community.country)
    versions = Device.objects.for_actor(actor).filter(community=community, model=WEATHER_MODEL)
    versions = versions.values_list("firmware_version", flat=True)
    eligible = sum(1 for v in versions if firmware_supports_weather(WEATHER_MODEL, v))
    panel = {
        "template": "weather/panel.html",
        "has_address": bool(community.city),
        "location": location,
        "observation": observation,
        "unit": unit,
        "eligible": eligible,
        "minimum": ".".join(str(n) for n in WEATHER_MIN_FIRMWARE),
        "model": WEATHER_MODEL,
    }
    if observation is not None and observation.has_value:
        panel["temperature"] = conditions.in_unit(observation.temperature_c, unit)
        panel["condition"] = conditions.condition(observation.weather_code)
    return panel

"""Weather: where each community is (a geocoded Location per distinct address), the current
weather of each Location (one provider call per Location and period), and what each indoor
monitor was last sent."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Location(models.Model):
    """A distinct place the provider is asked about: every community whose address normalises to
    the same key shares it, so 500 communities in 40 places cost 40 calls per refresh."""

    # normalised "country|state|city|post code" (communities' street does not move the weather)
    key = models.CharField(max_length=320, unique=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    name = models.CharField(_("Place"), max_length=200, blank=True)
    geocoded_at = models.DateTimeField(null=True, blank=True)
    # Why geocoding found no coordinates ("" once found).
    geocode_error = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name or self.key

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class CommunityWeather(models.Model):
    """A community's link to its Location, with the address key it was resolved from: a change
    of address is noticed by comparing keys, so editing the street alone geocodes nothing."""

    community = models.OneToOneField(
        "communities.Community", on_delete=models.CASCADE, primary_key=True, related_name="weather"
    )
    location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="communities"
    )
    address_key = models.CharField(max_length=320, blank=True)
    linked_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.community_id} -> {self.location_id}"


class Observation(models.Model):
    """The current weather of a Location: the last good value stays when a fetch fails; the
    failure is recorded beside it with when to try again."""

    location = models.OneToOneField(Location, on_delete=models.CASCADE, related_name="observation")
    temperature_c = models.FloatField(_("Temperature (°C)"), null=True, blank=True)
    weather_code = models.PositiveSmallIntegerField(_("Weather code"), null=True, blank=True)
    observed_at = models.DateTimeField(null=True, blank=True)  # the provider's time of the value
    fetched_at = models.DateTimeField(_("Fetched"), null=True, blank=True)  # last good fetch
    attempted_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("Last error"), max_length=255, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)  # consecutive
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_attempt_at"], name="weather_obs_next_attempt")]

    def __str__(self) -> str:
        return f"{self.location_id}: {self.temperature_c} °C, code {self.weather_code}"

    @property
    def has_value(self) -> bool:
        return self.temperature_c is not None


class WeatherDelivery(models.Model):
    """What one indoor monitor was last sent: the same value is not queued for it again."""

    device = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="weather_delivery")
    temperature = models.IntegerField()
    unit = models.CharField(max_length=1)  # "C" or "F"
    weather_code = models.PositiveSmallIntegerField()
    observed_at = models.DateTimeField(null=True, blank=True)
    command = models.ForeignKey(
        "devices.DeviceCommand", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.device_id}: {self.temperature} °{self.unit}, code {self.weather_code}"

"""The production client against the fake server over HTTP: paging, token expiry, faults."""

from __future__ import annotations

import pytest

from rentmanager.integrations.client import (
    BadCredentials,
    NoProperties,
    RentManagerClient,
    ServerError,
    Unreachable,
)


def _client(fake, **kwargs):
    options = {
        "base_url": fake.url,
        "username": "smartplus",
        "password": "rm-secret",
        "page_size": 2,
        "backoff": 0.001,
    }
    return RentManagerClient(**{**options, **kwargs})


def test_pages_are_followed_until_the_last_200(fake_rm):
    client = _client(fake_rm)
    units = client.units(1)
    assert [u["UnitID"] for u in units] == [1, 4, 7, 10, 13, 16]
    assert fake_rm.requests["Units"] == 3  # 206, 206, then 200
    assert all("Floor" in u for u in units)


def test_an_empty_list_is_a_204(fake_rm):
    assert _client(fake_rm).units(99) == []


def test_tenants_embed_leases_and_contacts(fake_rm):
    tenants = _client(fake_rm).tenants(2)
    assert tenants and all(t["Leases"] and t["Contacts"] for t in tenants)


def test_an_expired_token_is_renewed_once(fake_rm):
    client = _client(fake_rm)
    client.authorize()
    first = client.token
    fake_rm.expire_tokens()
    assert len(client.units(1)) == 6
    assert client.token != first


def test_bad_credentials_say_so(fake_rm):
    with pytest.raises(BadCredentials, match="Invalid username or password"):
        _client(fake_rm, password="wrong").test()


def test_no_properties_says_so(fake_rm):
    fake_rm.mutate(lambda data: data["Properties"].clear())
    with pytest.raises(NoProperties):
        _client(fake_rm).test()


def test_unreachable_says_so():
    with pytest.raises(Unreachable):
        RentManagerClient(
            base_url="http://127.0.0.1:9", username="a", password="b", retries=1, backoff=0.001
        ).test()


def test_a_5xx_is_retried_then_reported(fake_rm):
    fake_rm.config["fail"] = {"resource": "Units", "page": 2, "status": 503, "times": 2}
    assert len(_client(fake_rm, retries=3).units(1)) == 6  # recovered on the third try
    fake_rm.config["fail"] = {"resource": "Units", "page": 2, "status": 503, "times": 99}
    fake_rm._fail_left = {}
    with pytest.raises(ServerError, match="503"):
        _client(fake_rm, retries=2).units(1)


def test_a_slow_server_times_out(fake_rm):
    fake_rm.config["delay"] = 0.5
    with pytest.raises(Unreachable, match="did not answer"):
        _client(fake_rm, timeout=0.1, retries=1).units(1)

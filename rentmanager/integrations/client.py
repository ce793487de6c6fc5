"""The Rent Manager 12 Web API client: HTTP only, no ORM.

`POST /Authentication/AuthorizeUser` returns a token that every other call sends in the
`X-RM12Api-ApiToken` header; when it expires (401) the client signs in again, once per call.
Lists are paged with `pagesize` / `pagenumber`: 200 is the whole (last) page, 206 a partial page
with more to come, 204 nothing; `x-total-results` is the count over all pages. Time-outs and 5xx
are retried a capped number of times with exponential backoff and jitter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import requests

TOKEN_HEADER = "X-RM12Api-ApiToken"
TOTAL_HEADER = "x-total-results"
DEFAULT_PAGE_SIZE = 1000


class RentManagerError(Exception):
    """Anything that stops a call; `reason` is what the sync log and Test connection show."""

    reason = "Rent Manager failed"

    def __init__(self, message: str = ""):
        super().__init__(message or self.reason)


class BadCredentials(RentManagerError):
    reason = "Rent Manager refused the API user or password"


class Unreachable(RentManagerError):
    reason = "Rent Manager could not be reached"


class ServerError(RentManagerError):
    reason = "Rent Manager answered with a server error"


class NoProperties(RentManagerError):
    reason = "Rent Manager lists no properties for this API user"


class UnexpectedReply(RentManagerError):
    reason = "Rent Manager's answer was not understood"


@dataclass
class Page:
    items: list
    total: int | None
    more: bool


class RentManagerClient:
    """One signed-in session with a Rent Manager 12 company (base URL like
    https://<company code>.api.rentmanager.com)."""

    def __init__(
        self,
        *,
        base_url: str,
        username: str,
        password: str,
        location_id: int | None = None,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 0.5,
        page_size: int = DEFAULT_PAGE_SIZE,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.username = username
        self._password = password
        self.location_id = location_id
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.page_size = page_size
        self.session = session or requests.Session()
        self.token: str | None = None
        self.requests_made = 0

    def __repr__(self) -> str:  # never the password
        return f"<RentManagerClient {self.base_url} as {self.username}>"

    # --- transport -------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        """One request, retried on time-outs, connection errors and 5xx (capped, with backoff)."""
        url = f"{self.base_url}{path}"
        attempt = 0
        while True:
            attempt += 1
            self.requests_made += 1
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.Timeout as exc:
                if attempt > self.retries:
                    raise Unreachable(
                        f"Rent Manager did not answer {path} within {self.timeout:g} s"
                    ) from exc
            except requests.ConnectionError as exc:
                if attempt > self.retries:
                    raise Unreachable(f"Rent Manager could not be reached at {self.base_url}") from exc
            else:
                if response.status_code < 500:
                    return response
                if attempt > self.retries:
                    raise ServerError(
                        f"Rent Manager answered {path} with {response.status_code}: {_message(response)}"
                    )
            # Exponential backoff with jitter, so many syncs retrying do not arrive together.
            time.sleep(self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))

    def authorize(self) -> str:
        body = {"Username": self.username, "Password": self._password}
        if self.location_id:
            body["LocationID"] = self.location_id
        response = self._send("POST", "/Authentication/AuthorizeUser", json=body)
        if response.status_code in (400, 401, 403):
            raise BadCredentials(f"Rent Manager refused the sign-in: {_message(response)}")
        if response.status_code != 200:
            raise UnexpectedReply(f"Sign-in answered {response.status_code}")
        try:
            token = response.json()
        except ValueError as exc:
            raise UnexpectedReply("Sign-in answered no token") from exc
        if not isinstance(token, str) or not token:
            raise UnexpectedReply("Sign-in answered no token")
        self.token = token
        return token

    def _get(self, path: str, params: dict) -> requests.Response:
        if self.token is None:
            self.authorize()
        response = self._send("GET", path, params=params, headers={TOKEN_HEADER: self.token})
        if response.status_code == 401:
            # The token expired (or the server forgot it): sign in again, once.
            self.authorize()
            response = self._send("GET", path, params=params, headers={TOKEN_HEADER: self.token})
            if response.status_code == 401:
                raise BadCredentials(f"Rent Manager refused the new token: {_message(response)}")
        return response

    # --- lists -------------------------------------------------------------------------------------

    def page(self, resource: str, *, number: int, filters=None, embeds=None, fields=None) -> Page:
        params: dict = {"pagesize": self.page_size, "pagenumber": number}
        if filters:
            params["filters"] = ";".join(filters) if not isinstance(filters, str) else filters
        if embeds:
            params["embeds"] = ",".join(embeds) if not isinstance(embeds, str) else embeds
        if fields:
            params["fields"] = ",".join(fields) if not isinstance(fields, str) else fields
        response = self._get(f"/{resource}", params)
        total = response.headers.get(TOTAL_HEADER)
        total = int(total) if total and total.isdigit() else None
        if response.status_code == 204:
            return Page([], total or 0, False)
        if response.status_code not in (200, 206):
            raise UnexpectedReply(f"{resource} answered {response.status_code}: {_message(response)}")
        try:
            items = response.json()
        except ValueError as exc:
            raise UnexpectedReply(f"{resource} answered something that is not JSON") from exc
        if not isinstance(items, list):
            raise UnexpectedReply(f"{resource} answered no list")
        more = response.status_code == 206
        return Page(items, total, more)

    def iter_all(self, resource: str, **kwargs) -> Iterator[dict]:
        number = 1
        while True:
            page = self.page(resource, number=number, **kwargs)
            yield from page.items
            if not page.more or not page.items:
                return
            number += 1

    def list(self, resource: str, **kwargs) -> list[dict]:
        return list(self.iter_all(resource, **kwargs))

    # --- what the sync reads -----------------------------------------------------------------

    def properties(self) -> list[dict]:
        return self.list("Properties", embeds=["Addresses"])

    def units(self, property_id: int) -> list[dict]:
        return self.list("Units", filters=[f"PropertyID,eq,{int(property_id)}"], embeds=["Floor"])

    def tenants(self, property_id: int) -> list[dict]:
        return self.list(
            "Tenants", filters=[f"PropertyID,eq,{int(property_id)}"], embeds=["Leases", "Contacts"]
        )

    def leases(self, property_id: int) -> list[dict]:
        return self.list("Leases", filters=[f"PropertyID,eq,{int(property_id)}"])

    def contacts(self, tenant_ids) -> list[dict]:
        ids = ",".join(str(int(i)) for i in tenant_ids)
        return self.list("Contacts", filters=[f"ParentID,in,({ids})"], embeds=["PhoneNumbers"])

    def test(self) -> list[dict]:
        """Sign in and list the properties: what Test connection checks."""
        self.authorize()
        found = self.properties()
        if not found:
            raise NoProperties()
        return found


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or "")[:200]
    if isinstance(body, dict):
        return str(body.get("UserMessage") or body.get("DeveloperMessage") or body)[:200]
    return str(body)[:200]

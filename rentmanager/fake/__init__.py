"""A fake Rent Manager 12 Web API for tests, the demo and the benchmarks (`python -m rentmanager.fake`).

It speaks what `rentmanager.integrations.client` speaks: `POST /Authentication/AuthorizeUser`,
the `X-RM12Api-ApiToken` header and its expiry, `/Properties`, `/Units`, `/Tenants`, `/Leases`,
`/Contacts` with `filters=`, `embeds=`, `pagesize` / `pagenumber`, `x-total-results` and 200 / 206
/ 204, and Rent Manager's error bodies. Switches under `/_fake/` make it slow, fail with a 5xx on
a chosen page, or expire the tokens.
"""

from .server import FakeRentManager, serve  # noqa: F401

"""A fake Stripe: the v1 HTTP API for Checkout Sessions and events, a hosted pay page, signed webhooks.

    with FakeStripe(api_key="sk_test_x", webhook_url="http://127.0.0.1:8000/billing/webhook/",
                    webhook_secret="whsec_x") as fake:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": fake.url})
        session = client.v1.checkout.sessions.create(params={...})
        fake.pay(session.id)                 # or open session.url in a browser and press Pay
        fake.wait_for_deliveries(1, ok=True)

`python -m billing.fakestripe --help` runs the same from the command line. Standard library only:
no Django, nothing from the project's apps (docs/fake-stripe.md).
"""

from .errors import StripeError
from .server import FakeStripe, FakeStripeError
from .webhooks import Switches, sign

__all__ = ["FakeStripe", "FakeStripeError", "StripeError", "Switches", "sign"]

"""A test-only URLconf: the webhook and the two pages Checkout sends the payer back to (the
portal's own billing URLconf names them the same)."""

from django.http import HttpResponse
from django.urls import include, path

from billing.webhooks import stripe_webhook


def _page(request, pk):
    return HttpResponse(f"order {pk}")


billing = (
    [
        path("orders/<int:pk>/return/", _page, name="order_return"),
        path("orders/<int:pk>/cancelled/", _page, name="order_cancelled"),
    ],
    "billing",
)
urlpatterns = [
    path("billing/stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    path("billing/", include(billing)),
]

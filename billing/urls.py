from django.urls import path

from . import views
from .webhooks import stripe_webhook

app_name = "billing"

urlpatterns = [
    # --- Subscriptions: Activate / Renew, then the order's payment steps ---
    path("subscriptions/", views.SubscriptionView.as_view(), name="order_add"),
    path("subscriptions/renew/", views.RenewView.as_view(), name="renew"),
    path("subscriptions/quote/", views.QuoteView.as_view(), name="order_quote"),
    path("orders/<int:pk>/pending/", views.OrderPendingView.as_view(), name="order_pending"),
    path("orders/<int:pk>/coupon/", views.OrderCouponView.as_view(), name="order_coupon"),
    path("orders/<int:pk>/pay/", views.OrderPayView.as_view(), name="order_pay"),
    path("orders/<int:pk>/return/", views.OrderReturnView.as_view(), name="order_return"),
    path("orders/<int:pk>/cancelled/", views.OrderCancelledView.as_view(), name="order_cancelled"),
    # --- Payments ---
    path("payments/", views.OrderListView.as_view(), name="order_list"),
    path("payments/<int:pk>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("payments/<int:pk>/invoice/", views.OrderInvoiceView.as_view(), name="order_invoice"),
    path("payments/<int:pk>/delete/", views.OrderDeleteView.as_view(), name="order_delete"),
    # --- Stripe's webhook: CSRF-exempt, every event signature-checked (billing/webhooks.py) ---
    path("billing/stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    # --- Coupon Details (account menu) ---
    path("coupons/", views.CouponListView.as_view(), name="coupon_list"),
    path("coupons/exchange/", views.CouponRedeemView.as_view(), name="coupon_redeem"),
]

"""The super manager's side of billing: price lists, coupons, and orders to look at (orders and
their fulfilments change only through payments, so the admin shows them read-only)."""

from __future__ import annotations

import secrets
import string

from django import forms
from django.conf import settings
from django.contrib import admin

from smartplus.admin import ReadOnlyAdmin

from .choices import CouponKind
from .models import Coupon, Fulfilment, Order, OrderItem, PriceList, StripeEvent

CODE_ALPHABET = string.ascii_letters + string.digits


def new_coupon_code() -> str:
    """16 letters and digits, as the spec's "rC16738Vq42M6765"."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))


def cents(value: int) -> str:
    return f"{value / 100:,.2f} {settings.SMARTPLUS_CURRENCY.upper()}"


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "activation_fee_shown",
        "activation_months",
        "monthly_fee_shown",
        "pm_app_shown",
        "premium_shown",
        "modified",
    )
    raw_id_fields = ("distributor",)

    @admin.display(description="Activation fee")
    def activation_fee_shown(self, obj):
        return cents(obj.activation_fee)

    @admin.display(description="Monthly fee")
    def monthly_fee_shown(self, obj):
        return cents(obj.monthly_fee)

    @admin.display(description="PM App monthly")
    def pm_app_shown(self, obj):
        return cents(obj.pm_app_monthly_fee)

    @admin.display(description="Premium monthly")
    def premium_shown(self, obj):
        return cents(obj.premium_monthly_fee)

    def has_delete_permission(self, request, obj=None):
        # The default list is what every installer without an override pays: it stays.
        return obj is None or obj.distributor_id is not None


class CouponForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = ("code", "kind", "amount_off", "percent_off", "scope", "valid_from", "valid_until")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["code"].initial = new_coupon_code()

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == CouponKind.AMOUNT and not data.get("amount_off"):
            self.add_error("amount_off", "An amount coupon needs an amount (in cents).")
        if kind == CouponKind.AMOUNT and data.get("percent_off"):
            self.add_error("percent_off", "An amount coupon has no percent.")
        if kind == CouponKind.PERCENT and not data.get("percent_off"):
            self.add_error("percent_off", "A percent coupon needs a percent (1-100).")
        if kind == CouponKind.PERCENT and data.get("amount_off"):
            self.add_error("amount_off", "A percent coupon has no amount.")
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", "The validity must end after it starts.")
        return data


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    form = CouponForm
    list_display = (
        "code",
        "kind",
        "value",
        "scope",
        "valid_from",
        "valid_until",
        "balance_shown",
        "installer",
    )
    list_filter = ("kind", "scope", "used_up")
    search_fields = ("code", "installer__username")
    list_select_related = ("installer",)
    readonly_fields = ("installer", "redeemed_at", "balance", "used_up", "reserved_by")

    @admin.display(description="Value")
    def value(self, obj):
        return f"{obj.percent_off} %" if obj.kind == CouponKind.PERCENT else cents(obj.amount_off)

    @admin.display(description="Balance")
    def balance_shown(self, obj):
        return "used" if obj.used_up else (cents(obj.balance) if obj.kind == CouponKind.AMOUNT else "unused")

    def save_model(self, request, obj, form, change):
        if not change and obj.kind == CouponKind.AMOUNT:
            obj.balance = obj.amount_off  # what is left to spend starts at the amount
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        # A redeemed coupon's terms are the installer's: no change behind their back.
        return obj is None or obj.installer_id is None

    def has_delete_permission(self, request, obj=None):
        return obj is None or (obj.installer_id is None and not obj.orders.exists())


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    fields = ("item_type", "community_name", "building", "apt", "name", "amount", "expires_after")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "order_type", "status", "installer", "payer_name", "total_shown", "created")
    list_filter = ("status", "order_type")
    search_fields = ("number", "installer__username", "stripe_session_id")
    list_select_related = ("installer",)
    inlines = [OrderItemInline]

    @admin.display(description="Final Price")
    def total_shown(self, obj):
        return cents(obj.total)


@admin.register(Fulfilment)
class FulfilmentAdmin(ReadOnlyAdmin):
    list_display = ("order", "created", "amount", "currency", "items", "stripe_event_id")


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "event_type", "received", "order", "outcome")
    search_fields = ("event_id",)

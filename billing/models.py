"""Prices, coupons, orders and what fulfilled them. Amounts are integer cents of
SMARTPLUS_CURRENCY; an order's amounts and items are fixed when it is created."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from communities.choices import ChargeMode
from smartplus.models import AuditedModel, TimeStampedModel
from smartplus.scoping import ScopedManager

from .choices import CouponKind, CouponScope, ItemType, OrderStatus, OrderType

CENTS_HELP = _("In cents of the portal's currency (SMARTPLUS_CURRENCY).")


class PriceList(TimeStampedModel, AuditedModel):
    """The super manager's prices: one default list (no distributor) and optional overrides for
    a distributor's installers. Activating an account buys `activation_months` of service."""

    distributor = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="price_list",
        limit_choices_to={"role": "distributor"},
        help_text=_("Empty: the default list, for every installer whose distributor has none."),
    )
    is_default = models.BooleanField(default=False, editable=False)
    activation_fee = models.PositiveIntegerField(
        _("Activation fee per family master (App)"), help_text=CENTS_HELP
    )
    activation_months = models.PositiveSmallIntegerField(
        _("Months included in an activation"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How long an activation (App, PM App or Premium Plan) keeps the service."),
    )
    monthly_fee = models.PositiveIntegerField(_("Monthly fee per family master"), help_text=CENTS_HELP)
    pm_app_monthly_fee = models.PositiveIntegerField(_("PM App monthly fee"), help_text=CENTS_HELP)
    additional_app_monthly_fee = models.PositiveIntegerField(
        _("Additional app monthly fee"),
        help_text=_(
            "In cents of the portal's currency (SMARTPLUS_CURRENCY). "
            "Per family member beyond the community's free accounts."
        ),
    )
    premium_monthly_fee = models.PositiveIntegerField(
        _("Premium feature plan monthly fee (per community)"), help_text=CENTS_HELP
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="pricelist_one_default"
            )
        ]

    def __str__(self) -> str:
        return "Default price list" if self.distributor_id is None else f"Prices of {self.distributor}"

    def save(self, *args, **kwargs):
        self.is_default = self.distributor_id is None
        super().save(*args, **kwargs)

    def audit_installer_id(self) -> int | None:
        return None  # the super manager's data, no tenant's


class Coupon(TimeStampedModel, AuditedModel):
    """A code the super manager issues; an installer redeems it ("Exchange Coupon") and then
    uses it on their orders, one order at a time: reserved while that order waits for payment,
    released when it fails, times out or is cancelled, consumed when it succeeds."""

    scope_root = "installer"
    scope_path = "installer"

    code = models.CharField(_("Coupon Number"), max_length=32, unique=True)
    kind = models.CharField(max_length=8, choices=CouponKind.choices, default=CouponKind.AMOUNT)
    amount_off = models.PositiveIntegerField(_("Amount"), default=0, help_text=CENTS_HELP)
    percent_off = models.PositiveSmallIntegerField(
        _("Percent"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    scope = models.CharField(_("Scope"), max_length=12, choices=CouponScope.choices, default=CouponScope.ALL)
    valid_from = models.DateTimeField(_("Valid from"))
    valid_until = models.DateTimeField(_("Valid until"))
    # Amount coupons: what is left to spend (starts at amount_off). Percent coupons: one use.
    balance = models.PositiveIntegerField(_("Balance"), default=0, help_text=CENTS_HELP)
    used_up = models.BooleanField(default=False)
    installer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="coupons",
        help_text=_("Who redeemed it; empty until then."),
    )
    redeemed_at = models.DateTimeField(null=True, blank=True)
    reserved_by = models.OneToOneField(
        "Order", on_delete=models.SET_NULL, null=True, blank=True, related_name="reserved_coupon"
    )

    objects = ScopedManager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="amount", percent_off=0)
                | Q(kind="percent", amount_off=0, percent_off__gt=0),
                name="coupon_amount_or_percent",
            )
        ]

    def __str__(self) -> str:
        return self.code

    def audit_installer_id(self) -> int | None:
        return self.installer_id


class Order(TimeStampedModel, AuditedModel):
    """One payment: its items, prices and coupon as they were when it was created."""

    scope_root = "installer"
    scope_path = "installer"

    number = models.CharField(_("Order Number"), max_length=20, unique=True)
    installer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    # Set when every item is of one community (always for an order paid by a property manager).
    community = models.ForeignKey(
        "communities.Community", on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    charge_mode = models.CharField(
        max_length=10, choices=ChargeMode.choices, default=ChargeMode.PAY_BY_INSTALLER
    )
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="orders_paid"
    )
    payer_name = models.CharField(_("Payer"), max_length=150)
    order_type = models.CharField(_("Type"), max_length=16, choices=OrderType.choices)
    status = models.CharField(
        _("Status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PROCESSING
    )
    currency = models.CharField(max_length=3)
    subtotal = models.PositiveBigIntegerField(_("Total Price"))
    coupon_amount = models.PositiveBigIntegerField(_("Coupon Usage Amount"), default=0)
    total = models.PositiveBigIntegerField(_("Final Price"))
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    coupon_code = models.CharField(_("Coupon Number"), max_length=32, blank=True)
    # A date in each item's community's time zone (the service holds until its midnight there).
    renew_to = models.DateField(_("Renew To"), null=True, blank=True)
    apartment_count = models.PositiveIntegerField(_("The number of apartments"), default=0)
    item_count = models.PositiveIntegerField(default=0)
    stripe_session_id = models.CharField(_("Stripe order"), max_length=255, blank=True)
    stripe_payment_intent = models.CharField(max_length=255, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    checkout_expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why a payment was not fulfilled (an amount or currency that is not the order's).
    flag = models.CharField(max_length=255, blank=True)
    # A Succeed order is never deleted (its record stays); its owner may hide it from the list.
    hidden = models.BooleanField(default=False)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(fields=["installer", "-created", "-id"], name="order_installer_created"),
            models.Index(fields=["community", "-created", "-id"], name="order_community_created"),
            models.Index(fields=["status", "checkout_expires_at"], name="order_status_expiry"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_session_id"], condition=~Q(stripe_session_id=""), name="order_unique_session"
            )
        ]

    def __str__(self) -> str:
        return f"Order {self.number}"

    def audit_installer_id(self) -> int | None:
        return self.installer_id

    @classmethod
    def assigned_scope_q(cls, community_ids) -> Q:
        """What a property manager sees (smartplus.scoping): the orders of their communities
        that the property manager pays (Charge Mode "Pay By PM")."""
        return Q(community__in=community_ids, charge_mode=ChargeMode.PAY_BY_PM)

    @property
    def is_final(self) -> bool:
        from .choices import FINAL_STATUSES

        return self.status in FINAL_STATUSES


class OrderItem(models.Model):
    """One account, property manager app or community plan an order pays for, with what it
    looked like then (the list shows an order long after its APT was renamed or deleted)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    item_type = models.CharField(_("Type"), max_length=8, choices=ItemType.choices)
    community = models.ForeignKey(
        "communities.Community", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    resident = models.ForeignKey("residents.Resident", on_delete=models.SET_NULL, null=True, related_name="+")
    assignment = models.ForeignKey(
        "accounts.PropertyManagerAssignment", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    community_name = models.CharField(_("Community"), max_length=64)
    building = models.CharField(_("Building"), max_length=64, blank=True)
    apt = models.CharField(_("APT"), max_length=16, blank=True)
    apt_name = models.CharField(_("APT Name"), max_length=64, blank=True)
    email = models.CharField(_("Email"), max_length=254, blank=True)
    name = models.CharField(_("Name"), max_length=150, blank=True)
    amount = models.PositiveIntegerField(_("Price"))
    # Activation: the months bought; renewal: the days from the old expiry to Renew To.
    months = models.PositiveSmallIntegerField(default=0)
    days = models.PositiveIntegerField(default=0)
    expires_before = models.DateTimeField(null=True, blank=True)
    expires_after = models.DateTimeField(_("Expiration Time"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_item_type_display()} {self.apt or self.name or self.community_name}"


class Fulfilment(models.Model):
    """The one record of an order's accounts being extended: written in the same transaction as
    the extension, so a second delivery of the same payment finds it and does nothing."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="fulfilment")
    created = models.DateTimeField(auto_now_add=True)
    stripe_event_id = models.CharField(max_length=255, blank=True)
    amount = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    items = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"Fulfilment of {self.order}"


class StripeEvent(models.Model):
    """Every Stripe event the webhook processed, by its id: a redelivery is recognised and
    skipped (Stripe delivers at least once, sometimes out of order)."""

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=64)
    received = models.DateTimeField(auto_now_add=True)
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    outcome = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class OrderCount(models.Model):
    """How many listed (not hidden) orders an installer has, per community (empty: orders of
    several communities) and Charge Mode: the Payments list's "N In All" without counting
    100,000 rows. Kept by billing.services in the transaction of each create, delete and hide."""

    installer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    charge_mode = models.CharField(max_length=10, choices=ChargeMode.choices)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["installer", "community", "charge_mode"], name="ordercount_unique"
            ),
            models.UniqueConstraint(
                fields=["installer", "charge_mode"],
                condition=Q(community__isnull=True),
                name="ordercount_unique_no_community",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} orders of {self.installer_id}"

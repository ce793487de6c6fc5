"""The spec's words for orders, their items and coupons."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderType(models.TextChoices):
    """Payments' "Type" (the spec: Activation, Subscription/Renew, Additional app)."""

    ACTIVATION = "activation", _("Activation")
    RENEW = "renew", _("Renew")
    ADDITIONAL_APP = "additional_app", _("Additional app")


class OrderStatus(models.TextChoices):
    """The spec's statuses ("All" is the filter's). Processing: created, not paid yet. System
    Processing: paid, the portal is extending the accounts (or an asynchronous payment is on its
    way). Succeed: paid and the accounts extended. Failed: not paid successfully. Time out: not
    paid before the checkout expired. Cancel: cancelled by the payer."""

    SUCCEED = "succeed", _("Succeed")
    PROCESSING = "processing", _("Processing")
    FAILED = "failed", _("Failed")
    TIME_OUT = "time_out", _("Time out")
    CANCEL = "cancel", _("Cancel")
    SYSTEM_PROCESSING = "system_processing", _("System Processing")


# Forward only: a status moves to a higher rank, never back (webhooks arrive out of order).
STATUS_RANK = {
    OrderStatus.PROCESSING: 0,
    OrderStatus.SYSTEM_PROCESSING: 1,
    OrderStatus.SUCCEED: 2,
    OrderStatus.FAILED: 2,
    OrderStatus.TIME_OUT: 2,
    OrderStatus.CANCEL: 2,
}
FINAL_STATUSES = frozenset(s for s, rank in STATUS_RANK.items() if rank == 2)
# Orders that can still be paid (Pay in the list).
PAYABLE_STATUSES = frozenset({OrderStatus.PROCESSING})


class ItemType(models.TextChoices):
    """What one order item pays for (the Activate step's "Type" filter)."""

    APP = "app", _("App")
    PM_APP = "pm_app", _("PM App")
    PREMIUM = "premium", _("Premium Plan")


class ServiceType(models.TextChoices):
    """The spec: "If the project is integrated with Rent Manager, its Service Type will be
    Integration. Or, it will be Normal." """

    NORMAL = "normal", _("Normal")
    INTEGRATION = "integration", _("Integration")


class CouponKind(models.TextChoices):
    AMOUNT = "amount", _("Amount")
    PERCENT = "percent", _("Percent")


class CouponScope(models.TextChoices):
    """Which orders a coupon may pay for."""

    ALL = "all", _("All Fee")
    ACTIVATION = "activation", _("Activation Fee")
    RENEW = "renew", _("Renewal Fee")

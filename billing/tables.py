"""Payments list (the spec's Transaction History) and the Coupon Details list."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smartplus.tables import ActionsColumn, DateTimeColumn, PortalTable

from .choices import CouponKind, OrderStatus
from .formatting import money
from .models import Coupon, Order, OrderItem

TIME_FORMAT = "Y-m-d H:i:s"
STATUS_BADGE = {
    OrderStatus.SUCCEED: "text-bg-success",
    OrderStatus.PROCESSING: "text-bg-warning",
    OrderStatus.SYSTEM_PROCESSING: "text-bg-info",
    OrderStatus.FAILED: "text-bg-danger",
    OrderStatus.TIME_OUT: "text-bg-secondary",
    OrderStatus.CANCEL: "text-bg-dark",
}


def status_badge(order: Order) -> str:
    return format_html(
        '<span class="badge {}" data-testid="order-status" data-status="{}">{}</span>',
        STATUS_BADGE.get(order.status, "text-bg-secondary"),
        order.status,
        order.get_status_display(),
    )


class OrderTable(PortalTable):
    number = tables.Column(verbose_name=_("Order Number"), order_by=("number",))
    order_type = tables.Column(verbose_name=_("Type"), order_by=("order_type", "id"))
    apartment_count = tables.Column(
        verbose_name=_("The number of apartments"), order_by=("apartment_count", "id")
    )
    subtotal = tables.Column(verbose_name=_("Total Price"), order_by=("subtotal", "id"))
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "id"))
    created = DateTimeColumn(verbose_name=_("Created Time"), format=TIME_FORMAT, order_by=("created", "id"))
    actions = ActionsColumn("billing/order_actions.html", verbose_name=_("Action"))

    class Meta(PortalTable.Meta):
        model = Order
        fields = ("number", "order_type", "apartment_count", "subtotal", "status", "created", "actions")
        order_by = "-created"
        attrs = {**PortalTable.Meta.attrs, "data-testid": "order-table"}
        row_attrs = {
            "data-testid": "order-row",
            "data-number": lambda record: record.number,
            "data-status": lambda record: record.status,
        }

    def render_subtotal(self, record):
        return money(record.subtotal, record.currency)

    def value_subtotal(self, record):
        return money(record.subtotal, record.currency)

    def render_status(self, record):
        return status_badge(record)

    def value_status(self, record):
        return record.get_status_display()


class OrderItemTable(PortalTable):
    """An order's items as they were when it was created (Info)."""

    item_type = tables.Column(verbose_name=_("Type"), orderable=False)
    community_name = tables.Column(verbose_name=_("Community"), orderable=False)
    apt = tables.Column(verbose_name=_("APT"), orderable=False, default="--")
    name = tables.Column(verbose_name=_("Name"), orderable=False, default="--")
    amount = tables.Column(verbose_name=_("Price"), orderable=False)

    class Meta(PortalTable.Meta):
        model = OrderItem
        fields = ("item_type", "community_name", "apt", "name", "amount")
        attrs = {**PortalTable.Meta.attrs, "data-testid": "order-items"}

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def render_amount(self, value):
        return money(value, self.currency)


def coupon_value(coupon: Coupon) -> str:
    if coupon.kind == CouponKind.PERCENT:
        return gettext("%(percent)s%% off") % {"percent": coupon.percent_off}
    return money(coupon.amount_off)


class CouponTable(PortalTable):
    code = tables.Column(verbose_name=_("Coupon Number"), order_by=("code",))
    value = tables.Column(verbose_name=_("Amount / Percent"), accessor="kind", orderable=False)
    scope = tables.Column(verbose_name=_("Scope"), order_by=("scope", "id"))
    valid_from = DateTimeColumn(
        verbose_name=_("Valid from"), format=TIME_FORMAT, order_by=("valid_from", "id")
    )
    valid_until = DateTimeColumn(
        verbose_name=_("Valid until"), format=TIME_FORMAT, order_by=("valid_until", "id")
    )
    balance = tables.Column(verbose_name=_("Balance"), orderable=False)
    state = tables.Column(verbose_name=_("Status"), accessor="used_up", orderable=False)

    class Meta(PortalTable.Meta):
        model = Coupon
        fields = ("code", "value", "scope", "valid_from", "valid_until", "balance", "state")
        order_by = "-valid_until"
        attrs = {**PortalTable.Meta.attrs, "data-testid": "coupon-table"}
        row_attrs = {"data-testid": "coupon-row", "data-code": lambda record: record.code}

    def render_value(self, record):
        return coupon_value(record)

    def render_balance(self, record):
        return "--" if record.kind == CouponKind.PERCENT else money(record.balance)

    def render_state(self, record):
        if record.used_up:
            return _("Used")
        if record.reserved_by_id:
            return _("Reserved by an order waiting for payment")
        return _("Usable")

"""Payments list (the spec's Transaction History) and the Coupon Details list."""

import django_tables2 as tables
from django.utils.html import format_html

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
    number = tables.Column(verbose_name="Order Number", order_by=("number",))
    order_type = tables.Column(verbose_name="Type", order_by=("order_type", "id"))
    apartment_count = tables.Column(
        verbose_name="The number of apartments", order_by=("apartment_count", "id")
    )
    subtotal = tables.Column(verbose_name="Total Price", order_by=("subtotal", "id"))
    status = tables.Column(verbose_name="Status", order_by=("status", "id"))
    created = DateTimeColumn(verbose_name="Created Time", format=TIME_FORMAT, order_by=("created", "id"))
    actions = ActionsColumn("billing/order_actions.html", verbose_name="Action")

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

    item_type = tables.Column(verbose_name="Type", orderable=False)
    community_name = tables.Column(verbose_name="Community", orderable=False)
    apt = tables.Column(verbose_name="APT", orderable=False, default="--")
    name = tables.Column(verbose_name="Name", orderable=False, default="--")
    amount = tables.Column(verbose_name="Price", orderable=False)

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
        return f"{coupon.percent_off}% off"
    return money(coupon.amount_off)


class CouponTable(PortalTable):
    code = tables.Column(verbose_name="Coupon Number", order_by=("code",))
    value = tables.Column(verbose_name="Amount / Percent", accessor="kind", orderable=False)
    scope = tables.Column(verbose_name="Scope", order_by=("scope", "id"))
    valid_from = DateTimeColumn(verbose_name="Valid from", format=TIME_FORMAT, order_by=("valid_from", "id"))
    valid_until = DateTimeColumn(
        verbose_name="Valid until", format=TIME_FORMAT, order_by=("valid_until", "id")
    )
    balance = tables.Column(verbose_name="Balance", orderable=False)
    state = tables.Column(verbose_name="Status", accessor="used_up", orderable=False)

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
            return "Used"
        if record.reserved_by_id:
            return "Reserved by an order waiting for payment"
        return "Usable"

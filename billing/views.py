"""Subscriptions (Activate / Renew -> Pending Order -> Pay -> Confirmation), Payments (the
orders, their Info page, invoice and Delete) and Coupon Details (with Exchange Coupon).

Every write is one service call (billing.services, billing.checkout); a ValidationError or
NotFound from it is shown at the form and nothing is written. billing.checkout is imported where
it is used: it talks to Stripe and is needed by the payment steps only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smartplus import authz, roles
from smartplus.pagination import FastPaginator
from smartplus.views import generic

from . import checkout, invoice, selectors, services
from .choices import OrderStatus, OrderType
from .filters import OrderFilterSet
from .forms import CouponRedeemForm, SubscriptionForm
from .models import Coupon, Order
from .selectors import ACTIVATE, RENEW, may_pay
from .tables import CouponTable, OrderItemTable, OrderTable, status_badge

SUBSCRIPTIONS, PAYMENTS, COUPONS = _("Subscriptions"), _("Payments"), _("Coupon Details")
SHOWN_ROWS = 500  # rows listed at once; "select all" of a filter reaches the rest
STEPS = [_("Purchase Types"), _("Purchase Details"), _("Payment Information"), _("Confirmation")]


def _community_of(request):
    """The community the page was opened from (?community=), if it is the actor's."""
    from communities.models import Community

    raw = request.GET.get("community") or request.POST.get("community") or ""
    if not raw.isdigit():
        return None
    return Community.objects.for_actor(request.actor).filter(pk=raw).first()


def _errors(exc) -> list[str]:
    return list(getattr(exc, "messages", None) or [str(exc) or services.NOT_FOUND])


def _dry_run(actor, order_type, items, renew_to):
    """(apartments, total, errors) of the order these items would make, priced by the service
    itself inside a transaction that is rolled back: the figures shown are the order's."""
    try:
        with transaction.atomic():
            order = services.order_create(actor=actor, order_type=order_type, items=items, renew_to=renew_to)
            transaction.set_rollback(True)
            return order.apartment_count, order.subtotal, len(items), []
    except (ValidationError, authz.NotFound) as exc:
        return 0, 0, len(items), _errors(exc)


class SubscriptionView(generic.PortalView):
    """Step 1: the Active and Renew tabs, their filters and selection; Next creates the order."""

    model = Order
    action = roles.ADD
    title = SUBSCRIPTIONS
    template_name = "billing/subscriptions.html"

    def get_breadcrumbs(self):
        community = _community_of(self.request)
        if community is None:
            return [(SUBSCRIPTIONS, None)]
        return [
            (community.name, reverse("residents:community_residents", args=[community.pk])),
            (SUBSCRIPTIONS, None),
        ]

    def get_form(self, data):
        return SubscriptionForm(data, actor=self.request.actor)

    def preselected(self) -> list | None:
        """`?items=app:12,pm_app:3` (an expiration email's link): only those, ticked."""
        try:
            return selectors.parse_keys(self.request.GET["items"])
        except (KeyError, ValueError):
            return None

    def page(self, form, status=200, errors=()):
        actor = self.request.actor
        form.is_valid()  # the filter's valid fields apply even when the selection is refused
        tab, community_id, item_type = form.filter_args()
        sort = self.request.GET.get("sort", "")
        only = self.preselected() if self.request.method == "GET" else None
        listed = selectors.rows(actor, tab, community_id, item_type, sort=sort, limit=SHOWN_ROWS, only=only)
        total = selectors.matching_count(actor, tab, community_id, item_type, only=only)
        fees = selectors.fees(actor, tab)
        return self.render(
            self.template_name,
            {
                "form": form,
                "tab": tab,
                "rows": [(row, fees[row.item_type]) for row in listed],
                "matching": total,
                "shown": len(listed),
                "max_items": settings.SMARTPLUS_ORDER_MAX_ITEMS,
                "steps": STEPS,
                "step": 1,
                "errors": [*errors, *(e for errs in form.errors.values() for e in errs)],
                "community": _community_of(self.request),
                "sort": sort,
                "ticked": {f"{i.item_type}:{i.pk}" for i in only or ()},
            },
            status=status,
        )

    def get(self, request, *args, **kwargs):
        data = request.GET.copy()
        data.setdefault("tab", ACTIVATE)
        return self.page(self.get_form(data))

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if not form.is_valid():
            return self.page(form, status=422)
        tab = form.cleaned_data["tab"]
        order_type = OrderType.ACTIVATION if tab == ACTIVATE else OrderType.RENEW
        try:
            items = form.selected_items()
            with transaction.atomic():
                order = services.order_create(
                    actor=request.actor,
                    order_type=order_type,
                    items=items,
                    renew_to=form.cleaned_data.get("renew_to") if tab == RENEW else None,
                )
        except (ValidationError, authz.NotFound) as exc:
            return self.page(form, status=422, errors=_errors(exc))
        return redirect("billing:order_pending", order.pk)


class RenewView(SubscriptionView):
    """The Renew step at its own address, where the expiration emails link (with `?community=`
    and `?items=`): the accounts the email names, ticked."""

    def get(self, request, *args, **kwargs):
        data = request.GET.copy()
        data["tab"] = RENEW
        return self.page(self.get_form(data))


class QuoteView(generic.PortalView):
    """Renew's "Number of Renewal Apartment(s)" and "Total Price" for the current selection."""

    model = Order
    action = roles.ADD
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = SubscriptionForm(request.POST, actor=request.actor)
        apartments = total = count = 0
        errors: list[str] = []
        if form.is_valid() and (form.cleaned_data["keys"] or form.cleaned_data.get("select_all")):
            tab = form.cleaned_data["tab"]
            try:
                items = form.selected_items()
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                order_type = OrderType.ACTIVATION if tab == ACTIVATE else OrderType.RENEW
                apartments, total, count, errors = _dry_run(
                    request.actor, order_type, items, form.cleaned_data.get("renew_to")
                )
        return self.render(
            "billing/_quote.html",
            {"apartments": apartments, "total": total, "count": count, "errors": errors},
        )


# --- the order's payment steps ----------------------------------------------------------------------


class PayableOrderMixin(generic.ObjectMixin):
    model = Order
    action = "pay"

    def get_object(self):
        order = super().get_object()
        if not may_pay(self.request.actor, order):
            raise PermissionDenied
        return order

    def get_breadcrumbs(self):
        return [(PAYMENTS, reverse("billing:order_list")), (self.title, None)]


def _usable_coupons(actor, order):
    if not roles.allows(actor, Coupon, roles.VIEW):
        return []
    now = timezone.now()
    coupons = Coupon.objects.for_actor(actor).filter(
        used_up=False, valid_from__lte=now, valid_until__gt=now, installer__isnull=False
    )
    return [c for c in coupons if c.reserved_by_id in (None, order.pk)]


class OrderPendingView(PayableOrderMixin, generic.PortalView):
    """Steps 2 and 3: the Pending Order, its coupon and Pay."""

    title = _("Pending Order")

    def get(self, request, *args, **kwargs):
        order = self.get_object()
        if order.status != OrderStatus.PROCESSING:
            return redirect("billing:order_detail", order.pk)
        return self.render(
            "billing/order_pending.html",
            {
                "order": order,
                "coupons": _usable_coupons(request.actor, order),
                "can_use_coupons": roles.allows(request.actor, Coupon, "redeem"),
                "billing_missing": not checkout.billing_information_complete(order.installer_id),
                "can_edit_billing": roles.allows(request.actor, "accounts.billinginformation", roles.CHANGE),
                "seller": settings.SMARTPLUS_SELLER_NAME,
                "steps": STEPS,
                "step": 3 if order.coupon_id else 2,
            },
        )


class OrderCouponView(PayableOrderMixin, generic.PortalView):
    """Use one of the redeemed coupons, or "Don't Use Coupon"."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        order = self.get_object()
        try:
            with transaction.atomic():
                if request.POST.get("code"):
                    services.order_apply_coupon(actor=request.actor, order=order, code=request.POST["code"])
                else:
                    services.order_drop_coupon(actor=request.actor, order=order)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return generic.redirect_after(request, reverse("billing:order_pending", args=[order.pk]))


class OrderPayView(PayableOrderMixin, generic.PortalView):
    """Pay: to Stripe Checkout (billing.checkout), or straight to the confirmation when the
    coupon paid it all."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        order = self.get_object()
        if not checkout.billing_information_complete(order.installer_id):
            messages.error(request, _("Fill in your Billing Information before you pay."))
            return redirect("billing:order_pending", order.pk)

        try:
            url = checkout.start_checkout(actor=request.actor, order=order)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("billing:order_pending", order.pk)
        return redirect(url or reverse("billing:order_return", args=[order.pk]))


class OrderReturnView(generic.ObjectMixin, generic.PortalView):
    """Step 4, Confirmation: where Stripe sends the payer back. It shows the order's status and
    never fulfils (the webhook does); a Processing order's status is fetched again once (quietly:
    Stripe unreachable leaves it as it is)."""

    model = Order
    title = _("Confirmation")

    def get(self, request, *args, **kwargs):

        order = self.get_object()
        if order.status == OrderStatus.PROCESSING and order.stripe_session_id:
            checkout.refresh(order.pk, quiet=True)
            order.refresh_from_db()
        return self.render(
            "billing/order_return.html",
            {"order": order, "badge": status_badge(order), "steps": STEPS, "step": 4, "cancelled": False},
        )


class OrderCancelledView(PayableOrderMixin, generic.PortalView):
    """Where Stripe sends a payer who left the checkout. The page asks; only its POST cancels the
    order and frees its coupon, so a link from another site cannot cancel a payer's order. An order
    left alone can still be paid until its checkout expires (then it is Time out)."""

    title = _("Confirmation")

    def get(self, request, *args, **kwargs):
        return self._page(self.get_object())

    def post(self, request, *args, **kwargs):

        order = self.get_object()
        if order.status == OrderStatus.PROCESSING:
            try:
                checkout.order_cancel(actor=request.actor, order=order)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            order.refresh_from_db()
        return self._page(order)

    def _page(self, order):
        return self.render(
            "billing/order_return.html",
            {"order": order, "badge": status_badge(order), "steps": STEPS, "step": 4, "cancelled": True},
        )


# --- Payments ---------------------------------------------------------------------------------------


class OrderListView(generic.ObjectListView):
    """The orders, newest first; one page costs the same queries whatever their number."""

    model = Order
    table_class = OrderTable
    filterset_class = OrderFilterSet
    template_name = "billing/order_list.html"
    title = PAYMENTS
    export_name = "Payments"  # the file and sheet keep the spec's English name in every UI language

    def get_table_queryset(self):
        qs = self.get_queryset().filter(hidden=False)
        community = _community_of(self.request)
        return qs.filter(community=community) if community else qs

    def get_pagination(self, filterset) -> dict:
        # Unfiltered, "N In All" is the stored OrderCount: no COUNT(*) of 100,000 orders per page.
        known = None
        if not filterset.is_filtered:
            known = services.listed_order_count(self.request.actor, _community_of(self.request))
        return {"paginator_class": FastPaginator, "count": known}

    def get_extra_context(self) -> dict:
        return {
            "community": _community_of(self.request),
            "can_add": roles.allows(self.request.actor, Order, roles.ADD),
        }


class OrderDetailView(generic.TablesMixin, generic.ObjectDetailView):
    """Info: the order as it was created, its payment and coupon, its items."""

    model = Order
    template_name = "billing/order_detail.html"
    title = _("Order Info")

    def get_queryset(self):
        return super().get_queryset().select_related("coupon")

    def get_breadcrumbs(self):
        return [(PAYMENTS, reverse("billing:order_list")), (self.object.number, None)]

    def get_extra_context(self) -> dict:
        order = self.object
        table = OrderItemTable(order.items.order_by("pk"), currency=order.currency)
        self.configure(table, paginator_class=FastPaginator, count=order.item_count)
        actor = self.request.actor
        payable = may_pay(actor, order) and order.status == OrderStatus.PROCESSING
        return {
            "order": order,
            "badge": status_badge(order),
            "table": table,
            "can_pay": payable,
            "can_delete": may_pay(actor, order) and roles.allows(actor, Order, roles.DELETE),
        }


class OrderInvoiceView(generic.ObjectMixin, generic.PortalView):
    """Download Invoice File: the order's PDF invoice."""

    model = Order

    def get(self, request, *args, **kwargs):
        order = self.get_object()
        response = HttpResponse(invoice.invoice_pdf(order), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="invoice-{order.number}.pdf"'
        return response


class OrderDeleteView(generic.ObjectDeleteView):
    """Delete: an order that did not succeed is deleted; a Succeed one is hidden from the list."""

    model = Order
    title = _("Delete Order")

    def get_breadcrumbs(self):
        return [(PAYMENTS, reverse("billing:order_list")), (self.title, None)]

    def deletion_summary(self, obj) -> list[str]:
        if obj.status == OrderStatus.SUCCEED:
            return [
                gettext(
                    "Order %(number)s succeeded: it is hidden from Payments; its record and invoice stay."
                )
                % {"number": obj.number}
            ]
        return [
            gettext("Order %(number)s (%(status)s) is deleted.")
            % {"number": obj.number, "status": obj.get_status_display()}
        ]

    def refusal(self, obj) -> str | None:
        if not may_pay(self.request.actor, obj):
            return gettext(
                "This order is paid by the other side of the community's Charge Mode: you see it read-only."
            )
        if obj.status == OrderStatus.SYSTEM_PROCESSING:
            return gettext("This order's payment is being processed: it can be deleted once it is final.")
        return None

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        refusal = self.refusal(obj)
        if refusal:
            messages.error(request, refusal)
            return generic.redirect_after(request, self.get_success_url())
        try:
            with transaction.atomic():
                outcome = services.order_delete(actor=request.actor, order=obj)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            done = (
                gettext("Order %(number)s hidden.")
                if outcome == "hidden"
                else gettext("Order %(number)s deleted.")
            )
            messages.success(request, done % {"number": obj.number})
        return generic.redirect_after(request, self.get_success_url())

    def get_success_url(self) -> str:
        return generic.safe_next(self.request, reverse("billing:order_list"))


# --- Coupon Details -----------------------------------------------------------------------------------


class CouponListView(generic.ObjectListView):
    model = Coupon
    table_class = CouponTable
    template_name = "billing/coupon_list.html"
    title = COUPONS
    export_name = "Coupon Details"

    def get_extra_context(self) -> dict:
        return {"can_redeem": roles.allows(self.request.actor, Coupon, "redeem")}


class CouponRedeemView(generic.ObjectEditView):
    """Exchange Coupon: a code the super manager issued becomes the installer's."""

    model = Coupon
    form_class = CouponRedeemForm
    title = _("Exchange Coupon")
    success_message = _("Coupon {object.code} is yours: use it on a pending order.")

    def get_action(self) -> str:
        return "redeem"

    def get_instance(self):
        return None

    def get_breadcrumbs(self):
        return [(COUPONS, reverse("billing:coupon_list")), (self.title, None)]

    def save(self, form):
        return services.coupon_redeem(actor=self.request.actor, code=form.cleaned_data["code"])

    def get_success_url(self, obj) -> str:
        return generic.safe_next(self.request, reverse("billing:coupon_list"))

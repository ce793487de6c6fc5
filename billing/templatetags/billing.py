from django import template

from billing.formatting import money as _money

register = template.Library()


@register.filter
def money(cents, currency=None):
    return _money(cents, currency)


@register.filter
def payable_by(order, actor):
    """Whether `actor` is on the paying side of the order (Pay and Delete are theirs)."""
    from billing.selectors import may_pay

    return may_pay(actor, order)

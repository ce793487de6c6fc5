"""What billing tells the apps above it (notifications), which connect in their ready()."""

from django.dispatch import Signal

# A renewal order succeeded and its accounts were extended; sent after the commit, once per
# order (the fulfilment runs once). Arguments: order_id (int).
order_renewed = Signal()

"""Signals every app may send: news for the apps above (the notification log, docs/notifications.md)."""

from django.dispatch import Signal

# An account email (welcome, set-password, reset password) went out, or its send failed.
# Arguments: recipient (address), language, subject, community_id, installer_id, error ("" when
# sent). Sent inside the transaction that claims the email: a rolled-back claim leaves no entry,
# so the failure is announced again by the task, after the rollback.
account_email_sent = Signal()

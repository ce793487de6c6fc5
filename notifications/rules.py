"""Who gets which expiration email when: the one rule table (docs/notifications.md explains the
reading of the spec's garbled text). Changing the reading is changing one row here.

Offsets are calendar days after the account's expiry, both days taken in the community's time
zone: an account expiring on the 10th (local) is 1 day expired all of the 11th (local).
`needs_switch`: sent only while the community's "Send Expiration Email To End User/PM" is On;
with it Off only the installer rows remain, as the spec's note says.
"""

from __future__ import annotations

from dataclasses import dataclass

from .choices import AccountType, Recipient


@dataclass(frozen=True)
class Rule:
    offset_days: int
    recipient: str
    needs_switch: bool
    account_types: tuple[str, ...] = (AccountType.APP, AccountType.PM_APP)


# Property managers are told about their community's end users; a PM app's own expiry goes to
# its holder (the END_USER row) and the installer.
END_USER_ACCOUNTS = (AccountType.APP,)

RULES: tuple[Rule, ...] = (
    Rule(1, Recipient.END_USER, needs_switch=True),
    Rule(3, Recipient.PROPERTY_MANAGER, needs_switch=True, account_types=END_USER_ACCOUNTS),
    Rule(3, Recipient.INSTALLER, needs_switch=False),
    Rule(5, Recipient.PROPERTY_MANAGER, needs_switch=True, account_types=END_USER_ACCOUNTS),
    Rule(5, Recipient.INSTALLER, needs_switch=False),
    Rule(15, Recipient.INSTALLER, needs_switch=False),
)

# A rule stays due this many calendar days from its day, so a sweep that did not run on the day
# (the portal down, or a time zone change that jumped the community's date forward) still sends
# it; the row's key makes it once. After that the notice is stale and skipped.
CATCH_UP_DAYS = 2


def rules_for(*, switch_on: bool) -> list[Rule]:
    return [rule for rule in RULES if switch_on or not rule.needs_switch]

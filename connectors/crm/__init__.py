"""CRM sinks: each target account's window activity, delivered where sales reads it.

``ledger`` remembers what each sink delivered, so re-runs send only changes and a crashed
run never duplicates a note; ``note`` renders an account's activity note; ``hubspot`` is
the HubSpot client and sink.
"""

from connectors.crm.hubspot import (
    HubSpotAuthError,
    HubSpotClient,
    HubSpotDailyLimitReached,
    HubSpotError,
    HubSpotSink,
    HubSpotUnavailable,
    RetryPolicy,
)
from connectors.crm.ledger import DeliveryLedger, DeliveryStatus, LedgerEntry

__all__ = [
    "DeliveryLedger",
    "DeliveryStatus",
    "HubSpotAuthError",
    "HubSpotClient",
    "HubSpotDailyLimitReached",
    "HubSpotError",
    "HubSpotSink",
    "HubSpotUnavailable",
    "LedgerEntry",
    "RetryPolicy",
]

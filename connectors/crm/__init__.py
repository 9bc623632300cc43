"""CRM sinks: each target account's window activity, delivered where sales reads it.

``ledger`` remembers what each sink delivered, so re-runs send only changes and a crashed
run never duplicates a note; ``note`` renders an account's activity note; ``common`` holds
what every CRM sink shares (retries, redaction, the ledger-driven delivery loop);
``hubspot``, ``salesforce``, ``bitrix24`` and ``webhook`` are the sinks.
"""

from connectors.crm.bitrix24 import Bitrix24Client, Bitrix24Sink
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
from connectors.crm.salesforce import SalesforceClient, SalesforceSink
from connectors.crm.webhook import WebhookSink

__all__ = [
    "Bitrix24Client",
    "Bitrix24Sink",
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
    "SalesforceClient",
    "SalesforceSink",
    "WebhookSink",
]

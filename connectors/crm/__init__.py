"""CRM sinks: each target account's window activity, delivered where sales reads it.

``transport`` is what every CRM client shares on the wire (retries, limits, secrets kept
out of sight, dry runs); ``windows`` turns a report into one ``AccountWindow`` per account;
``note`` renders an account's note from a template; ``delivery`` is the one ledger-driven
delivery flow every sink goes through; ``ledger`` remembers what each sink delivered, so
re-runs send only changes and a crashed run never duplicates a note; ``forget`` removes
what the ledger says was delivered for an account. ``hubspot``, ``salesforce`` and
``bitrix24`` (each an API client and a sink) and ``webhook`` are the sinks.
"""

from connectors.crm.bitrix24 import Bitrix24Client, Bitrix24Sink
from connectors.crm.forget import CrmForgetResult, forget_in_crms
from connectors.crm.hubspot import HubSpotClient, HubSpotSink
from connectors.crm.ledger import DeliveryLedger, DeliveryStatus, LedgerEntry
from connectors.crm.salesforce import SalesforceClient, SalesforceSink
from connectors.crm.transport import (
    CrmAuthError,
    CrmError,
    CrmLimitReached,
    CrmRequestError,
    CrmUnavailable,
    RetryPolicy,
)
from connectors.crm.webhook import WebhookSink

__all__ = [
    "Bitrix24Client",
    "Bitrix24Sink",
    "CrmAuthError",
    "CrmError",
    "CrmForgetResult",
    "CrmLimitReached",
    "CrmRequestError",
    "CrmUnavailable",
    "DeliveryLedger",
    "DeliveryStatus",
    "HubSpotClient",
    "HubSpotSink",
    "LedgerEntry",
    "RetryPolicy",
    "SalesforceClient",
    "SalesforceSink",
    "WebhookSink",
    "forget_in_crms",
]

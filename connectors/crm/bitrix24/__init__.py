"""Bitrix24: the REST client behind an inbound webhook (``api``) and the sink for companies and comments (``sink``)."""

from connectors.crm.bitrix24.api import WEBHOOK_ENV_VAR, Bitrix24Client
from connectors.crm.bitrix24.sink import DEFAULT_COMPANY_FIELDS, Bitrix24Sink

__all__ = ["DEFAULT_COMPANY_FIELDS", "WEBHOOK_ENV_VAR", "Bitrix24Client", "Bitrix24Sink"]

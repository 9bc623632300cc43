"""Salesforce: the REST API client (``api``) and the sink that delivers to Accounts and Tasks (``sink``)."""

from connectors.crm.salesforce.api import CLIENT_ID_ENV_VAR, CLIENT_SECRET_ENV_VAR, SalesforceClient
from connectors.crm.salesforce.sink import DEFAULT_ACCOUNT_FIELDS, SalesforceSink

__all__ = ["CLIENT_ID_ENV_VAR", "CLIENT_SECRET_ENV_VAR", "DEFAULT_ACCOUNT_FIELDS", "SalesforceClient", "SalesforceSink"]

"""HubSpot: the API client (``api``) and the sink that delivers to companies and notes (``sink``)."""

from connectors.crm.hubspot.api import DEFAULT_API_VERSION, DEFAULT_BASE_URL, TOKEN_ENV_VAR, HubSpotClient
from connectors.crm.hubspot.sink import COMPANY_PROPERTIES, HubSpotSink

__all__ = [
    "COMPANY_PROPERTIES",
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "TOKEN_ENV_VAR",
    "HubSpotClient",
    "HubSpotSink",
]

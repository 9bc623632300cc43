"""Which MaxMind edition answers which lookup column, and where its records keep it.

`EDITIONS` lists the editions most specific first. When two editions both give a
column, the earlier one wins:

1. GeoIP2-Enterprise: everything (``traits.*``, ``country.iso_code``); MaxMind's most
   detailed product, built from the same data as the editions below.
2. GeoIP2-ISP: organization, isp, asn, as_organization, mobile_country_code, mobile_network_code.
3. GeoIP2-Domain: domain.
4. GeoIP2-Connection-Type: connection_type.
5. GeoIP2-Anonymous-IP: the ``is_*`` anonymity flags.
6. GeoLite2-ASN: asn, as_organization (ISP's are per customer, ASN's per announcer).
7. GeoIP2-City, GeoLite2-City, GeoIP2-Country, GeoLite2-Country: country.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from enrichment.classification_rules import ANONYMITY_FLAGS, RECORD_FIELDS

LOOKUP_COLUMNS = ("ip", "network", *RECORD_FIELDS, *ANONYMITY_FLAGS, "database_epoch", "sources")
MERGED_COLUMNS = LOOKUP_COLUMNS[2:]  # all but ip and network, which are per IP

_EMPTY: Mapping[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Layout:
    """Where one edition keeps the lookup columns it provides."""

    keys: Mapping[str, str]  # record key -> lookup column
    container: str | None = None  # Enterprise nests its keys under "traits"
    has_country: bool = False  # country.iso_code, as Enterprise, City and Country nest it

    @property
    def columns(self) -> tuple[str, ...]:
        """Lookup columns in the order `extract` returns their values."""
        return (*self.keys.values(), *(("country",) if self.has_country else ()))

    def extract(self, record: Mapping[str, Any]) -> tuple[Any, ...]:
        """The values of `columns` in ``record`` (None where the record has no such key)."""
        source = (record.get(self.container) or _EMPTY) if self.container else record
        values = tuple(map(source.get, self.keys))
        if self.has_country:
            return (*values, (record.get("country") or _EMPTY).get("iso_code"))
        return values


_ISP_KEYS = {
    "organization": "organization",
    "isp": "isp",
    "autonomous_system_number": "asn",
    "autonomous_system_organization": "as_organization",
    # Text, not numbers: "004" and "04" are different mobile network codes.
    "mobile_country_code": "mobile_country_code",
    "mobile_network_code": "mobile_network_code",
}
_ASN_KEYS = {
    "autonomous_system_number": "asn",
    "autonomous_system_organization": "as_organization",
}
_FLAG_KEYS = {flag: flag for flag in ANONYMITY_FLAGS}
_COUNTRY = Layout(keys={}, has_country=True)

EDITIONS: Mapping[str, Layout] = {
    "GeoIP2-Enterprise": Layout(
        keys={
            **_ISP_KEYS,
            "domain": "domain",
            "connection_type": "connection_type",
            "user_type": "user_type",
            **_FLAG_KEYS,
        },
        container="traits",
        has_country=True,
    ),
    "GeoIP2-ISP": Layout(keys=_ISP_KEYS),
    "GeoIP2-Domain": Layout(keys={"domain": "domain"}),
    "GeoIP2-Connection-Type": Layout(keys={"connection_type": "connection_type"}),
    "GeoIP2-Anonymous-IP": Layout(keys=_FLAG_KEYS),
    "GeoLite2-ASN": Layout(keys=_ASN_KEYS),
    "GeoIP2-City": _COUNTRY,
    "GeoLite2-City": _COUNTRY,
    "GeoIP2-Country": _COUNTRY,
    "GeoLite2-Country": _COUNTRY,
}
# One country source is enough: the first of these present is opened
# (Country before City: the same country data in a smaller file).
COUNTRY_EDITIONS = ("GeoIP2-Country", "GeoLite2-Country", "GeoIP2-City", "GeoLite2-City")
ANONYMOUS_IP = "GeoIP2-Anonymous-IP"

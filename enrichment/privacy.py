"""Privacy by design: we identify companies, never people.

Two rules, each a pure function over values or frames (the third, people named as
organizations, is `enrichment.people`):

- **Truncated addresses.** An address past its retention keeps only its network:
  IPv4 to the /24, IPv6 to the /48 (Google Analytics' IP anonymisation does the same).
  A /24 or /48 still names the company network that resolution and matching work on,
  but no longer one machine (though a /48 can be one household where an ISP gives
  homes a /48). The result is CIDR text (``203.0.113.0/24``), never a bare address, so
  nobody mistakes it for a visitor's IP and forgetting a network can tell which stored
  values overlap it. Truncating twice changes nothing.
- **Keyed visitor hashes.** A visitor without an analytics cookie is counted by an
  HMAC-SHA256 of IP and user agent under a secret salt. A plain hash could be reversed
  by hashing every IPv4 address with the common browsers; without the salt it cannot.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import re
import warnings
from ipaddress import IPv4Network, IPv6Network

import pandas as pd

from enrichment.errors import ConfigError

Network = IPv4Network | IPv6Network

IPV4_PREFIX = 24
IPV6_PREFIX = 48
_KEPT_PREFIX = {4: IPV4_PREFIX, 6: IPV6_PREFIX}

# --- truncating addresses --------------------------------------------------------------

_IPV4 = r"(?:\d{1,3}\.){3}\d{1,3}"
# Candidates only: ipaddress decides what is an address, so a time like "09:00:00" that
# the IPv6 shape also matches is left alone. An address may not continue with a word
# character or ".digit"; an IPv4 one may be followed by ":port" (load balancer logs).
# Neither may follow a "/": that is a version ("Chrome/120.0.0.0") or a path, not a client.
_IPV4_LITERAL = rf"(?<![\w./]){_IPV4}(?:/(?:3[0-2]|[12]?\d))?(?!\w|\.\d)"
_IPV6_LITERAL = (
    rf"(?<![\w:./])(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}(?:[0-9A-Fa-f]{{1,4}}|{_IPV4})?"
    r"(?:/(?:12[0-8]|1[01]\d|[1-9]?\d))?(?![\w:]|\.\d)"
)
_IP_LITERAL = re.compile(f"{_IPV6_LITERAL}|{_IPV4_LITERAL}")


def parse_network(address_or_network: str) -> Network:
    """An address (as its single-address network) or a network, IPv4-mapped IPv6 as IPv4.

    Raises ValueError for text that is neither.
    """
    network = ipaddress.ip_network(address_or_network.strip(), strict=False)
    mapped = network.network_address.ipv4_mapped if isinstance(network, IPv6Network) else None
    if mapped is not None and network.prefixlen >= 96:
        return ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
    return network


def truncate_ip(ip: str) -> str:
    """The network an address is kept as: ``203.0.113.77`` → ``203.0.113.0/24``,
    ``2001:db8:1:2::5`` → ``2001:db8:1::/48``.

    A network is truncated the same way, and one already as coarse is returned as it is.
    Raises ValueError for text that is not an address or a network.
    """
    network = parse_network(ip)
    kept_prefix = _KEPT_PREFIX[network.version]
    if network.prefixlen > kept_prefix:
        network = network.supernet(new_prefix=kept_prefix)
    return str(network)


def truncate_ips(ips: pd.Series) -> pd.Series:
    """``redact_ips_in_text`` per distinct value: each address becomes its truncated network.

    A value that is not an address (a host name, an address with its port) keeps its
    text with any address in it truncated, so no value can slip through unchanged.
    Missing values stay missing.
    """
    distinct = ips.dropna().unique()
    truncated = {value: redact_ips_in_text(value) for value in distinct}
    return ips.map(truncated).astype(ips.dtype)


def redact_ips_in_text(text: str) -> str:
    """``text`` with every IPv4 and IPv6 address (or network) in it truncated (``truncate_ip``)."""
    return _IP_LITERAL.sub(_truncated_literal, text)


def ip_networks_in(text: str) -> list[Network]:
    """Every address (as a single-address network) and network written in ``text``."""
    networks = []
    for match in _IP_LITERAL.finditer(text):
        try:
            networks.append(parse_network(match[0]))
        except ValueError:
            continue
    return networks


def _truncated_literal(match: re.Match[str]) -> str:
    try:
        return truncate_ip(match[0])
    except ValueError:  # the shape of an address but not one, like "10:30:45"
        return match[0]


# --- visitor keys -------------------------------------------------------------------------

VISITOR_SALT_ENV_VAR = "VISITOR_INTENT_VISITOR_SALT"
MIN_SALT_LENGTH = 16
# Public on purpose: it keys the demo's made-up visitors and nothing else.
DEMO_VISITOR_SALT = "visitor-intent-demo-salt-not-secret"


def visitor_salt(configured: str | None, *, allow_demo_salt: bool = False) -> str:
    """The salt that keys visitor hashes: the configured secret, checked.

    ``configured`` is the value of VISITOR_INTENT_VISITOR_SALT, which the pipeline reads.
    The salt must be stable: a random one per run or window would split one visitor into
    several at every run and change re-materialised partitions. So a missing salt stops
    a real run (a ConfigError naming the variable); only the demo, whose visitors are
    made up, may fall back to the public DEMO_VISITOR_SALT, with a warning.
    """
    salt = (configured or "").strip()
    if len(salt) >= MIN_SALT_LENGTH:
        return salt
    if not salt and allow_demo_salt:
        _warn_of_the_demo_salt()
        return DEMO_VISITOR_SALT
    problem = "is not set" if not salt else f"is shorter than {MIN_SALT_LENGTH} characters"
    raise ConfigError(
        f"{VISITOR_SALT_ENV_VAR} {problem}: set it to a long random secret, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_hex(32))'`, and keep it outside the warehouse"
    )


@functools.cache
def _warn_of_the_demo_salt() -> None:
    # Once per process: Dagster resets the warning filters around every step, so Python's
    # own "once per place" would say it again for each day and window of a run.
    warnings.warn(
        f"{VISITOR_SALT_ENV_VAR} is not set: the demo keys visitors with a public salt; never use it for real traffic",
        stacklevel=3,
    )


def visitor_key(ip: str, user_agent: str, salt: str) -> str:
    """A visitor's pseudonymous key: the first 16 hex digits of HMAC-SHA256(salt, ip|user agent)."""
    # "|" never occurs in an IP, so no two (ip, user agent) pairs give the same text.
    message = f"{ip}|{user_agent}".encode()
    return hmac.new(salt.encode(), message, hashlib.sha256).hexdigest()[:16]


def visitor_keys(hits: pd.DataFrame, salt: str) -> pd.Series:
    """``visitor_key`` for each row of ``hits`` (``ip``, ``user_agent``), hashed once per distinct pair."""
    browsers = hits[["ip", "user_agent"]].fillna({"user_agent": ""}).groupby(["ip", "user_agent"], sort=False)
    keys = [visitor_key(ip, agent, salt) for ip, agent in browsers.size().index]
    return pd.Series(pd.array(keys, dtype="str").take(browsers.ngroup().to_numpy()), index=hits.index, dtype="str")

"""The demo world as a real MaxMind DB file.

`build_demo_database` writes ``demo/networks.yaml`` (plus, on request, seeded synthetic
networks) as ``GeoIP2-Enterprise-Demo.mmdb``: database type ``GeoIP2-Enterprise``, an
IPv6 tree holding IPv4 at ``::/96`` and aliasing ``::ffff:0:0/96`` to it, records in
Enterprise's nested shape. ``geoip2``'s ``Reader.enterprise`` and
``connectors.maxmind.MaxMindDatabases.from_directory`` read it like one of MaxMind's.

`load_demo_networks` returns the same networks, so the demo hit generator can draw
visitor addresses that resolve.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml
from mmdb_writer import MMDBWriter, SearchTreeNode
from netaddr import IPSet

NETWORKS_FILE = Path(__file__).with_name("networks.yaml")
DEMO_DATABASE_NAME = "GeoIP2-Enterprise-Demo.mmdb"
DATABASE_TYPE = "GeoIP2-Enterprise"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class DemoNetwork:
    """One network of the demo world and what MaxMind's Enterprise database says about it."""

    network: IPNetwork
    organization: str | None = None
    isp: str | None = None
    domain: str | None = None
    asn: int | None = None
    as_organization: str | None = None
    country: str | None = None
    connection_type: str | None = None
    user_type: str | None = None
    is_anonymous_vpn: bool = False
    is_hosting_provider: bool = False


_DEMO_FIELDS = {field.name for field in fields(DemoNetwork)}


def load_demo_networks(
    networks_file: Path = NETWORKS_FILE, *, extra_networks: int = 0, seed: int = 0
) -> list[DemoNetwork]:
    """The networks `build_demo_database` writes for the same arguments, file order first."""
    listed = [_parse_entry(entry, networks_file) for entry in _read_entries(networks_file)]
    return listed + _synthetic_networks(extra_networks, seed=seed, avoid=listed)


def build_demo_database(
    target_dir: Path,
    *,
    networks_file: Path = NETWORKS_FILE,
    extra_networks: int = 0,
    seed: int = 0,
) -> Path:
    """Write ``GeoIP2-Enterprise-Demo.mmdb`` into ``target_dir`` and return its path.

    ``extra_networks`` adds that many seeded synthetic public /24 networks (mostly
    residential ISPs, some businesses, hosting and cellular) that overlap none of the
    listed ones; benchmarks use it to get a database of realistic size.
    """
    networks = load_demo_networks(networks_file, extra_networks=extra_networks, seed=seed)
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=DATABASE_TYPE,
        languages=["en"],
        description={"en": f"Visitor Intent demo world from {networks_file.name}"},
        # MaxMind stores autonomous system numbers as uint32.
        int_type="uint32",
    )
    for demo_network in networks:
        writer.insert_network(IPSet([str(demo_network.network)]), _enterprise_record(demo_network))
    _alias_ipv4_mapped(writer)
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / DEMO_DATABASE_NAME
    writer.to_db_file(str(path))
    return path


def _read_entries(networks_file: Path) -> list[dict[str, Any]]:
    document = yaml.safe_load(networks_file.read_text(encoding="utf-8")) or {}
    entries = document.get("networks") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{networks_file}: expected a top-level 'networks:' list")
    return entries


def _parse_entry(entry: dict[str, Any], source: Path) -> DemoNetwork:
    if not isinstance(entry, dict) or "network" not in entry:
        raise ValueError(f"{source}: every entry needs a 'network', got {entry!r}")
    unknown = set(entry) - _DEMO_FIELDS
    if unknown:
        raise ValueError(
            f"{source}: network {entry['network']} has unknown fields {sorted(unknown)}; "
            f"allowed: {sorted(_DEMO_FIELDS)}"
        )
    try:
        network = ipaddress.ip_network(entry["network"])
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from error
    return DemoNetwork(**{**entry, "network": network})


def _enterprise_record(demo_network: DemoNetwork) -> dict[str, Any]:
    """The record as MaxMind's Enterprise database nests it (`traits`, `country`)."""
    traits: dict[str, Any] = {
        "organization": demo_network.organization,
        "isp": demo_network.isp,
        "domain": demo_network.domain,
        "autonomous_system_number": demo_network.asn,
        "autonomous_system_organization": demo_network.as_organization,
        "connection_type": demo_network.connection_type,
        "user_type": demo_network.user_type,
    }
    # As in MaxMind's data, is_anonymous is set whenever a specific anonymity flag is.
    if demo_network.is_anonymous_vpn or demo_network.is_hosting_provider:
        traits["is_anonymous"] = True
    if demo_network.is_anonymous_vpn:
        traits["is_anonymous_vpn"] = True
    if demo_network.is_hosting_provider:
        traits["is_hosting_provider"] = True
    record: dict[str, Any] = {"traits": {k: v for k, v in traits.items() if v is not None}}
    if demo_network.country:
        record["country"] = {"iso_code": demo_network.country}
    return record


def _alias_ipv4_mapped(writer: MMDBWriter) -> None:
    """Point ``::ffff:0:0/96`` at the IPv4 subtree, as MaxMind's own files do.

    Dual-stack web servers log IPv4 visitors as ``::ffff:a.b.c.d``; with the alias
    those resolve exactly like ``a.b.c.d``.
    """
    ipv4_root = writer.tree
    for _ in range(96):
        ipv4_root = ipv4_root.get_or_create(0)
    mapped_prefix_bits = [0] * 80 + [1] * 16
    node: SearchTreeNode = writer.tree
    for bit in mapped_prefix_bits[:-1]:
        node = node.get_or_create(bit)
    node[mapped_prefix_bits[-1]] = ipv4_root


# --- synthetic networks ------------------------------------------------------------
# Fictional names and private-use AS numbers (64512-65534): synthetic ranges must not
# pass for what real companies announce.

_RESIDENTIAL_ISPS = (
    ("Northstar Broadband", 64512, "US"),
    ("Rheinland Kabel GmbH", 64513, "DE"),
    ("Volga Telecom", 64514, "RU"),
    ("Alpine Fiber AG", 64515, "CH"),
    ("Thames Valley Cable Ltd", 64516, "GB"),
)
_MOBILE_CARRIERS = (
    ("Skyline Mobile", 64520, "US"),
    ("Vostok Wireless", 64521, "RU"),
    ("Helvetia Mobile AG", 64522, "CH"),
)
_HOSTING_PROVIDERS = (
    ("Cumulus Cloud Hosting", 64530, "US"),
    ("Ironvault Data Center GmbH", 64531, "DE"),
)
_COMPANY_WORDS = ("Blue", "Granite", "Harbor", "Summit", "Cedar", "Orbit", "Silver", "Maple")
_COMPANY_TRADES = ("Logistics", "Foods", "Robotics", "Insurance", "Textiles", "Pharma", "Motors")
_COMPANY_FORMS = ("Inc.", "GmbH", "Ltd.", "AG", "LLC")

# Shares of the synthetic networks: most address space serves people at home.
_KIND_WEIGHTS = {"residential": 0.6, "business": 0.25, "hosting": 0.08, "cellular": 0.07}


def _synthetic_networks(count: int, *, seed: int, avoid: list[DemoNetwork]) -> list[DemoNetwork]:
    rng = random.Random(seed)
    kinds = rng.choices(list(_KIND_WEIGHTS), weights=list(_KIND_WEIGHTS.values()), k=count)
    networks = _free_public_slash24s(count, rng, avoid)
    return [_synthetic_network(kind, network, rng) for kind, network in zip(kinds, networks)]


def _free_public_slash24s(count: int, rng: random.Random, avoid: list[DemoNetwork]) -> list[ipaddress.IPv4Network]:
    """``count`` distinct, globally routable /24s that overlap none of ``avoid``."""
    taken = set()  # /24 numbers (address >> 8) already in use
    for listed in avoid:
        if listed.network.version == 4:
            first = int(listed.network.network_address) >> 8
            taken.update(range(first, (int(listed.network.broadcast_address) >> 8) + 1))
    chosen: list[ipaddress.IPv4Network] = []
    while len(chosen) < count:
        slash24 = rng.randrange(1 << 24)
        if slash24 in taken:
            continue
        taken.add(slash24)
        network = ipaddress.IPv4Network((slash24 << 8, 24))
        if network.is_global:
            chosen.append(network)
    return chosen


def _synthetic_network(kind: str, network: ipaddress.IPv4Network, rng: random.Random) -> DemoNetwork:
    if kind == "business":
        isp, asn, country = rng.choice(_RESIDENTIAL_ISPS)
        word, trade = rng.choice(_COMPANY_WORDS), rng.choice(_COMPANY_TRADES)
        return DemoNetwork(
            network=network,
            organization=f"{word} {trade} {rng.choice(_COMPANY_FORMS)}",
            isp=isp,
            domain=f"{word}-{trade}.example".lower(),
            asn=asn,
            as_organization=isp,
            country=country,
            connection_type="Corporate",
            user_type="business",
        )
    providers = {
        "residential": _RESIDENTIAL_ISPS,
        "cellular": _MOBILE_CARRIERS,
        "hosting": _HOSTING_PROVIDERS,
    }[kind]
    name, asn, country = rng.choice(providers)
    return DemoNetwork(
        network=network,
        organization=name,
        isp=name,
        asn=asn,
        as_organization=name,
        country=country,
        connection_type={"cellular": "Cellular", "hosting": "Corporate"}.get(kind, "Cable/DSL"),
        user_type=kind,
        is_hosting_provider=kind == "hosting",
    )

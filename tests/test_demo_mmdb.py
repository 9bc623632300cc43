"""The demo MaxMind database: a real GeoIP2-Enterprise file written from demo/networks.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geoip2.database
import pytest

from connectors.config_files import default_rules
from connectors.maxmind import MaxMindDatabases
from demo.mmdb import DemoNetwork, build_demo_database, load_demo_networks
from enrichment.resolution import classify_lookups

EXTRA_NETWORKS = 200
SEED = 7


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("maxmind")
    return build_demo_database(target, extra_networks=EXTRA_NETWORKS, seed=SEED)


@pytest.fixture(scope="module")
def demo_databases(demo_database: Path) -> Iterator[MaxMindDatabases]:
    with MaxMindDatabases.from_directory(demo_database.parent) as databases:
        yield databases


def address_of(organization: str) -> str:
    """An address inside the listed network of ``organization``."""
    network = next(n.network for n in load_demo_networks() if n.organization == organization)
    return str(network[5])


def resolve(databases: MaxMindDatabases, ip: str) -> dict[str, object]:
    return classify_lookups(databases.lookup([ip]), default_rules()).iloc[0].to_dict()


def test_file_is_an_enterprise_database_geoip2_reads(demo_database: Path) -> None:
    assert demo_database.name == "GeoIP2-Enterprise-Demo.mmdb"
    with geoip2.database.Reader(str(demo_database)) as reader:
        assert reader.metadata().database_type == "GeoIP2-Enterprise"
        record = reader.enterprise(address_of("Northwind Logistics, Inc."))
    assert record.traits.organization == "Northwind Logistics, Inc."
    assert record.traits.autonomous_system_number == 6461
    assert record.traits.user_type == "business"
    assert record.country.iso_code == "US"


def test_northwind_is_a_company_with_its_domain(demo_databases: MaxMindDatabases) -> None:
    row = resolve(demo_databases, address_of("Northwind Logistics, Inc."))
    assert row["domain"] == "northwind-logistics.com"
    assert row["network"] == "64.124.10.0/24"
    assert (row["classification"], row["reason"]) == ("company", "user_type:business")


@pytest.mark.parametrize(
    ("organization", "classification", "reason"),
    [
        ("Comcast Cable Communications, LLC", "isp", "user_type:residential"),
        ("Vodafone GmbH", "isp", "org_equals_isp"),  # listed without a user_type
        ("T-Mobile USA, Inc.", "mobile", "user_type:cellular"),
        ("Google LLC", "bot", "user_type:search_engine_spider"),
        ("Proton AG", "anonymous", "anonymous_ip:vpn"),
        ("DigitalOcean, LLC", "hosting", "anonymous_ip:hosting_provider"),
        ("ООО «Северсталь-Инфоком»", "company", "user_type:business"),
    ],
)
def test_demo_world_resolves_as_listed(
    demo_databases: MaxMindDatabases, organization: str, classification: str, reason: str
) -> None:
    row = resolve(demo_databases, address_of(organization))
    assert row["organization"] == organization
    assert (row["classification"], row["reason"]) == (classification, reason)


def test_ipv4_mapped_address_resolves_like_ipv4(demo_databases: MaxMindDatabases) -> None:
    row = resolve(demo_databases, "::ffff:" + address_of("Northwind Logistics, Inc."))
    assert row["organization"] == "Northwind Logistics, Inc."


def test_extra_networks_resolve_and_stay_clear_of_the_listed_ones(
    demo_databases: MaxMindDatabases,
) -> None:
    listed = load_demo_networks()
    extra = load_demo_networks(extra_networks=EXTRA_NETWORKS, seed=SEED)[len(listed) :]
    assert len(extra) == EXTRA_NETWORKS
    assert not any(e.network.overlaps(n.network) for e in extra for n in listed)
    lookups = demo_databases.lookup(str(n.network[1]) for n in extra)
    assert lookups["organization"].tolist() == [n.organization for n in extra]
    classifications = set(classify_lookups(lookups, default_rules())["classification"])
    assert classifications == {"isp", "company", "hosting", "mobile"}


def test_extra_networks_are_reproducible_from_the_seed() -> None:
    def extra(seed: int) -> list[DemoNetwork]:
        return load_demo_networks(extra_networks=20, seed=seed)

    assert extra(1) == extra(1)
    assert extra(1) != extra(2)


def test_unknown_field_in_networks_file_is_named(tmp_path: Path) -> None:
    networks_file = tmp_path / "networks.yaml"
    networks_file.write_text(
        "networks:\n  - network: 198.51.100.0/24\n    organisation: Typo Ltd\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"unknown fields \['organisation'\]"):
        build_demo_database(tmp_path, networks_file=networks_file)

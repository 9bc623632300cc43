"""MaxMindDatabases against MaxMind's own test databases (../shared/maxmind-test-data).

Expected values come from the JSON each test database was built from.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from connectors.config_files import default_rules
from connectors.maxmind import LOOKUP_COLUMNS, MaxMindDatabaseError, MaxMindDatabases
from enrichment.resolution import classify, classify_lookups


@pytest.fixture(scope="module")
def all_databases(maxmind_test_dir: Path) -> Iterator[MaxMindDatabases]:
    with MaxMindDatabases.from_directory(maxmind_test_dir) as databases:
        yield databases


def open_only(maxmind_test_dir: Path, *editions: str) -> MaxMindDatabases:
    return MaxMindDatabases.open({edition: maxmind_test_dir / f"{edition}-Test.mmdb" for edition in editions})


def resolve(databases: MaxMindDatabases, ip: str) -> dict[str, object]:
    """The classified lookup row of one IP."""
    return classify_lookups(databases.lookup([ip]), default_rules()).iloc[0].to_dict()


# --- the whole test directory -------------------------------------------------------


def test_from_directory_opens_one_file_per_edition(all_databases: MaxMindDatabases) -> None:
    # The directory also holds two broken City files; the Country file is the one
    # country source taken, so they are never opened.
    assert all_databases.editions == [
        "GeoIP2-Enterprise",
        "GeoIP2-ISP",
        "GeoIP2-Domain",
        "GeoIP2-Connection-Type",
        "GeoIP2-Anonymous-IP",
        "GeoLite2-ASN",
        "GeoIP2-Country",
    ]


def test_bevtec_is_a_company(all_databases: MaxMindDatabases) -> None:
    row = resolve(all_databases, "89.160.20.112")
    assert row["organization"] == "Bevtec"
    assert row["isp"] == "Bredband2 AB"
    assert row["country"] == "SE"
    assert row["network"] == "89.160.20.112/28"
    assert (row["classification"], row["reason"]) == ("company", "user_type:government")
    assert row["sources"] == ("GeoIP2-Enterprise;GeoIP2-ISP;GeoIP2-Domain;GeoLite2-ASN;GeoIP2-Country")


def test_fairpoint_residential_line_is_not_a_company(all_databases: MaxMindDatabases) -> None:
    # Enterprise JSON: organization = isp = "Fairpoint Communications", user_type residential.
    row = resolve(all_databases, "74.209.24.1")
    assert row["organization"] == row["isp"] == "Fairpoint Communications"
    assert (row["classification"], row["reason"]) == ("isp", "user_type:residential")


def test_enterprise_wins_where_editions_disagree(all_databases: MaxMindDatabases) -> None:
    # 75.209.24.0: Enterprise says Fairpoint, the ISP database's wider network Verizon
    # Wireless. 216.160.83.57: Enterprise says Cable/DSL, Connection-Type Corporate.
    fairpoint = resolve(all_databases, "75.209.24.0")
    assert fairpoint["organization"] == "Fairpoint Communications"
    assert fairpoint["network"] == "75.209.24.0/32"
    assert resolve(all_databases, "216.160.83.57")["connection_type"] == "Cable/DSL"


def test_tor_exit_node_is_anonymous(all_databases: MaxMindDatabases) -> None:
    row = resolve(all_databases, "65.0.0.1")  # Anonymous-IP JSON: ::65.0.0.0/109, Tor
    assert row["is_tor_exit_node"] is True
    assert (row["classification"], row["reason"]) == ("anonymous", "anonymous_ip:tor")


def test_hosting_provider_flag_is_hosting(all_databases: MaxMindDatabases) -> None:
    row = resolve(all_databases, "71.160.223.1")  # Anonymous-IP JSON: hosting provider
    assert (row["classification"], row["reason"]) == ("hosting", "anonymous_ip:hosting_provider")


def test_ip_missing_from_the_anonymous_list_is_not_anonymous(
    all_databases: MaxMindDatabases,
) -> None:
    row = resolve(all_databases, "89.160.20.112")
    assert row["is_anonymous"] is False
    assert row["is_tor_exit_node"] is False


def test_ip_no_database_knows_is_unknown(all_databases: MaxMindDatabases) -> None:
    row = resolve(all_databases, "192.0.2.1")  # TEST-NET-1: in no test database
    assert pd.isna(row["organization"]) and pd.isna(row["sources"])
    assert row["database_epoch"] == max(all_databases.build_epochs.values())
    assert (row["classification"], row["reason"]) == ("unknown", "no_record")


def test_ipv4_mapped_ipv6_resolves_like_ipv4(all_databases: MaxMindDatabases) -> None:
    row = resolve(all_databases, "::ffff:89.160.20.112")
    assert row["organization"] == "Bevtec"
    assert row["network"] == "::ffff:89.160.20.112/124"


# --- single editions -------------------------------------------------------------------


def test_isp_database_alone_resolves_companies_and_access_networks(
    maxmind_test_dir: Path,
) -> None:
    with open_only(maxmind_test_dir, "GeoIP2-ISP") as isp_only:
        bevtec = resolve(isp_only, "89.160.20.112")
        telstra = resolve(isp_only, "1.128.0.1")
    assert (bevtec["organization"], bevtec["isp"]) == ("Bevtec", "Bredband2 AB")
    assert bevtec["asn"] == 29518
    assert bevtec["sources"] == "GeoIP2-ISP"
    assert (bevtec["classification"], bevtec["reason"]) == ("company", "organization")
    # ISP JSON: organization = isp = "Telstra Internet".
    assert (telstra["classification"], telstra["reason"]) == ("isp", "org_equals_isp")


def test_domain_database(maxmind_test_dir: Path) -> None:
    with open_only(maxmind_test_dir, "GeoIP2-Domain") as domain_only:
        row = resolve(domain_only, "1.2.0.1")
    assert (row["domain"], row["sources"]) == ("maxmind.com", "GeoIP2-Domain")


def test_cellular_connection_type_is_mobile(maxmind_test_dir: Path) -> None:
    with open_only(maxmind_test_dir, "GeoIP2-Connection-Type") as connection_only:
        row = resolve(connection_only, "1.0.1.1")  # JSON: ::1.0.1.0/120 Cellular
    assert row["connection_type"] == "Cellular"
    assert (row["classification"], row["reason"]) == ("mobile", "connection_type:cellular")


def test_asn_database(maxmind_test_dir: Path) -> None:
    with open_only(maxmind_test_dir, "GeoLite2-ASN") as asn_only:
        row = resolve(asn_only, "1.128.0.1")  # JSON: 1.128.0.0/11
    assert (row["asn"], row["as_organization"]) == (1221, "Telstra Pty Ltd")
    assert row["network"] == "1.128.0.0/11"


def test_isp_wins_over_asn(maxmind_test_dir: Path) -> None:
    # 23.32.32.1: the ISP database says AS262589 (INTERNEXA), GeoLite2-ASN AS35994 (Akamai).
    with open_only(maxmind_test_dir, "GeoLite2-ASN", "GeoIP2-ISP") as databases:
        row = resolve(databases, "23.32.32.1")
    assert row["asn"] == 262589
    assert row["sources"] == "GeoIP2-ISP;GeoLite2-ASN"


def test_a_record_with_only_an_asn_gives_the_asn_and_nothing_else(maxmind_test_dir: Path) -> None:
    # ISP JSON: ::64.17.248.0/118 has autonomous_system_number 33224 and no other key.
    with open_only(maxmind_test_dir, "GeoIP2-ISP") as isp_only:
        row = resolve(isp_only, "64.17.248.1")
        findings = isp_only.explain("64.17.248.1")
    assert (row["asn"], row["network"], row["sources"]) == (33224, "64.17.248.0/22", "GeoIP2-ISP")
    assert all(pd.isna(row[column]) for column in ("organization", "isp", "as_organization", "domain"))
    assert (row["classification"], row["reason"]) == ("unknown", "no_organization")
    assert findings == [("GeoIP2-ISP", "network=64.17.248.0/22"), ("GeoIP2-ISP", "asn=33224")]


def ipv4_only_asn_database(directory: Path) -> Path:
    """A GeoLite2-ASN file with an IPv4 search tree (MaxMind's are IPv6 trees holding IPv4)."""
    writer = MMDBWriter(ip_version=4, database_type="GeoLite2-ASN", int_type="uint32")
    writer.insert_network(
        IPSet(["198.51.100.0/24"]),
        {"autonomous_system_number": 64500, "autonomous_system_organization": "Example Transit"},
    )
    path = directory / "GeoLite2-ASN.mmdb"
    writer.to_db_file(str(path))
    return path


def test_an_ipv4_only_database_answers_ipv4_and_has_no_record_for_ipv6(tmp_path: Path) -> None:
    ipv4_only_asn_database(tmp_path)
    with MaxMindDatabases.from_directory(tmp_path) as databases:
        # c633:6407:: starts with the bits of 198.51.100.7: an IPv4 tree must not be walked with it.
        rows = databases.lookup(["198.51.100.7", "c633:6407::", "2001:db8::7", "203.0.113.9"]).set_index("ip")
        findings = databases.explain("c633:6407::")
    assert (rows.loc["198.51.100.7", "asn"], rows.loc["198.51.100.7", "network"]) == (64500, "198.51.100.0/24")
    for no_record in ("c633:6407::", "2001:db8::7", "203.0.113.9"):
        assert pd.isna(rows.loc[no_record, "sources"])
        assert rows.loc[no_record, "database_epoch"] == databases.build_epochs["GeoLite2-ASN"]
    assert findings == [("GeoLite2-ASN", "no record")]


def test_columns_and_types(maxmind_test_dir: Path) -> None:
    with open_only(maxmind_test_dir, "GeoIP2-ISP") as isp_only:
        lookups = isp_only.lookup(["1.128.0.1"])
    assert tuple(lookups.columns) == LOOKUP_COLUMNS
    assert str(lookups["asn"].dtype) == "Int64"
    assert str(lookups["database_epoch"].dtype) == "Int64"


# --- many IPs at once ------------------------------------------------------------------


def test_lookup_returns_one_row_per_unique_ip(all_databases: MaxMindDatabases) -> None:
    lookups = all_databases.lookup(["1.2.3.4", "1.2.3.4"])
    assert lookups["ip"].tolist() == ["1.2.3.4"]


def test_ips_looked_up_together_get_the_rows_they_get_alone(all_databases: MaxMindDatabases) -> None:
    # A batch decodes each record once and merges once per combination of records:
    # no IP may end up with another's network, values or classification.
    ips = [
        "89.160.20.112",
        "89.160.20.113",
        "74.209.24.1",
        "192.0.2.1",
        "75.209.24.0",
        "not-an-ip",
        "65.0.0.1",
        "71.160.223.1",
        "::ffff:89.160.20.112",
        "1.128.0.1",
        "2c0f:ff40::1",
        "2001:480::1",
        "1.2.3",
        "216.160.83.57",
        "89.160.20.112",
    ]
    together = classify_lookups(all_databases.lookup(ips), default_rules())
    alone = pd.concat(
        [classify_lookups(all_databases.lookup([ip]), default_rules()) for ip in dict.fromkeys(ips)], ignore_index=True
    )
    pd.testing.assert_frame_equal(together, alone)


@pytest.mark.parametrize("garbage", ["not-an-ip", "", "1.2.3", "16908291", "1.2.3.4:80"])
def test_invalid_ip_gives_an_empty_row(all_databases: MaxMindDatabases, garbage: str) -> None:
    # "1.2.3" and "16908291" are inet_aton shorthand for 1.2.0.3, which the Domain
    # database knows: they must not resolve as that address.
    lookups = all_databases.lookup([garbage, "1.2.0.3"])
    invalid, valid = lookups.iloc[0], lookups.iloc[1]
    assert invalid.drop("ip").isna().all()
    assert valid["domain"] == "maxmind.com"


def test_database_epoch_is_the_newest_build(maxmind_test_dir: Path) -> None:
    with open_only(maxmind_test_dir, "GeoIP2-Enterprise", "GeoIP2-ISP") as databases:
        # Enterprise-Test was built later than ISP-Test (metadata build_epoch).
        assert databases.build_epochs == {
            "GeoIP2-Enterprise": 1780077382,
            "GeoIP2-ISP": 1770245369,
        }
        assert databases.oldest_build == datetime.fromtimestamp(1770245369, tz=UTC)
        assert databases.lookup(["1.128.0.1"])["database_epoch"].tolist() == [1780077382]


# --- the decision chain for the CLI ---------------------------------------------------


def test_explain_says_which_database_said_what(maxmind_test_dir: Path) -> None:
    with open_only(maxmind_test_dir, "GeoIP2-ISP", "GeoIP2-Connection-Type") as databases:
        findings = databases.explain("89.160.20.112")
        decision = classify(databases.lookup(["89.160.20.112"]).iloc[0].to_dict(), default_rules())
    assert ("GeoIP2-ISP", "organization=Bevtec") in findings
    assert ("GeoIP2-ISP", "network=89.160.20.112/29") in findings
    assert ("GeoIP2-Connection-Type", "no record") in findings
    assert decision.evidence[-1] == "decision: company (organization)"


def test_explain_answers_for_a_non_address(maxmind_test_dir: Path) -> None:
    with open_only(maxmind_test_dir, "GeoIP2-Domain") as domain_only:
        findings = domain_only.explain("1.2.3")  # inet_aton shorthand for 1.2.0.3
    assert findings == [("GeoIP2-Domain", "not looked up: not an IPv4 or IPv6 address")]


# --- broken set-ups fail at open, naming the file and the expected type ----------------


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "GeoIP2-ISP.mmdb"
    with pytest.raises(MaxMindDatabaseError) as error:
        MaxMindDatabases.open({"GeoIP2-ISP": missing})
    assert str(missing) in str(error.value)
    assert "GeoIP2-ISP database not found" in str(error.value)


@pytest.mark.parametrize(
    ("file_name", "edition"),
    [
        ("GeoIP2-City-Test-Invalid-Node-Count.mmdb", "GeoIP2-City"),
        ("GeoIP2-City-Test-Invalid-Node-Count.mmdb", "GeoIP2-ISP"),
        ("GeoIP2-City-Test-Broken-Double-Format.mmdb", "GeoIP2-City"),
    ],
)
def test_corrupt_file(maxmind_test_dir: Path, file_name: str, edition: str) -> None:
    with pytest.raises(MaxMindDatabaseError) as error:
        MaxMindDatabases.open({edition: maxmind_test_dir / file_name})
    message = str(error.value)
    assert file_name in message
    assert "not a valid MaxMind database" in message
    assert f"expected {edition}" in message


def test_broken_file_of_the_wrong_type_is_reported_as_the_wrong_type(
    maxmind_test_dir: Path,
) -> None:
    # Its metadata is readable: the type mismatch is the first thing to fix.
    broken_city = maxmind_test_dir / "GeoIP2-City-Test-Broken-Double-Format.mmdb"
    with pytest.raises(MaxMindDatabaseError) as error:
        MaxMindDatabases.open({"GeoIP2-ISP": broken_city})
    assert "is a GeoIP2-City database, expected GeoIP2-ISP" in str(error.value)


def test_wrong_database_type(maxmind_test_dir: Path) -> None:
    city = maxmind_test_dir / "GeoIP2-City-Test.mmdb"
    with pytest.raises(MaxMindDatabaseError) as error:
        MaxMindDatabases.open({"GeoIP2-ISP": city})
    assert str(error.value).startswith(f"{city} is a GeoIP2-City database, expected GeoIP2-ISP")


def test_a_file_named_for_one_edition_but_of_another_names_the_file_and_both_types(
    tmp_path: Path, maxmind_test_dir: Path
) -> None:
    misnamed = tmp_path / "GeoIP2-ISP.mmdb"
    misnamed.symlink_to(maxmind_test_dir / "GeoLite2-ASN-Test.mmdb")
    with pytest.raises(MaxMindDatabaseError) as error:
        MaxMindDatabases.from_directory(tmp_path)
    assert str(error.value) == (
        f"{misnamed} is a GeoLite2-ASN database, expected GeoIP2-ISP; check which file is configured for GeoIP2-ISP"
    )


def test_unsupported_edition(maxmind_test_dir: Path) -> None:
    with pytest.raises(MaxMindDatabaseError, match="unsupported edition 'GeoIP2-User-Count'"):
        open_only(maxmind_test_dir, "GeoIP2-User-Count")


def test_directory_without_databases(tmp_path: Path) -> None:
    with pytest.raises(MaxMindDatabaseError) as error:
        MaxMindDatabases.from_directory(tmp_path)
    assert str(tmp_path) in str(error.value)
    assert "GeoIP2-Enterprise.mmdb" in str(error.value)
    assert "GeoIP2-ISP.mmdb" in str(error.value)


def test_directory_with_two_files_of_one_edition(tmp_path: Path, maxmind_test_dir: Path) -> None:
    for name in ("GeoIP2-ISP.mmdb", "GeoIP2-ISP-Test.mmdb"):
        (tmp_path / name).symlink_to(maxmind_test_dir / "GeoIP2-ISP-Test.mmdb")
    with pytest.raises(MaxMindDatabaseError, match="several GeoIP2-ISP files"):
        MaxMindDatabases.from_directory(tmp_path)


def test_a_geoip_conf_names_the_editions_and_where_geoipupdate_put_them(tmp_path: Path, maxmind_test_dir: Path) -> None:
    for edition in ("GeoIP2-ISP", "GeoIP2-Connection-Type"):
        (tmp_path / f"{edition}.mmdb").write_bytes((maxmind_test_dir / f"{edition}-Test.mmdb").read_bytes())
    conf = tmp_path / "GeoIP.conf"
    conf.write_text(
        "# geoipupdate configuration\nAccountID 123456\nLicenseKey not-a-real-key\n"
        "EditionIDs GeoIP2-ISP GeoIP2-Connection-Type\n"
        f"DatabaseDirectory {tmp_path}\n"
    )

    with MaxMindDatabases.from_geoip_conf(conf) as databases:
        row = databases.lookup(["89.160.20.112"]).iloc[0]

    assert set(databases.build_epochs) == {"GeoIP2-ISP", "GeoIP2-Connection-Type"}
    assert row["organization"] == "Bevtec"


def test_a_geoip_conf_edition_not_downloaded_yet_names_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "GeoIP.conf"
    conf.write_text(
        f"AccountID 1\nLicenseKey secret-license-key\nEditionIDs GeoIP2-ISP\nDatabaseDirectory {tmp_path}\n"
    )

    with pytest.raises(MaxMindDatabaseError) as raised:
        MaxMindDatabases.from_geoip_conf(conf)

    assert str(tmp_path / "GeoIP2-ISP.mmdb") in str(raised.value)
    assert "secret-license-key" not in str(raised.value)

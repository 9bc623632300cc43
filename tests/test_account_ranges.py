"""Declared ranges first: an address inside a target account's ip_ranges is that account's,
whatever MaxMind says or lacks; our own office ranges still win over both. End to end here;
`claim_account_ranges` on its own is tested in test_resolution.py."""

from __future__ import annotations

from pathlib import Path

from connectors.warehouse import Warehouse
from pipelines.cli import main

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def test_an_account_known_only_by_its_range_is_matched_in_a_run_whose_maxmind_files_know_nothing_of_it(
    tmp_path: Path, maxmind_test_dir: Path
) -> None:
    # MaxMind's test databases have no record for 45.67.89.0/24 (a public range; documentation
    # ranges such as 203.0.113.0/24 are dropped in cleaning as not global).
    log = tmp_path / "access.log"
    lines = [
        f'45.67.89.{host} - - [07/Sep/2026:{hour:02d}:15:00 +0000] "GET {path} HTTP/1.1" 200 512 "-" "{BROWSER}"'
        for host, hour, path in [(10, 9, "/blog/intent"), (10, 10, "/pricing"), (11, 11, "/request-demo")]
    ]
    # Our own office sits inside the account's range too: it is dropped in cleaning, never counted.
    lines.append(f'45.67.89.200 - - [07/Sep/2026:12:00:00 +0000] "GET /pricing HTTP/1.1" 200 512 "-" "{BROWSER}"')
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text(
        "account_id,name,domains,aliases,ip_ranges,crm_id,owner\nG-1,Globex Corporation,,,45.67.89.0/24,,\n",
        encoding="utf-8",
    )
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        f"""
partitions_start: 2026-09-01
sources: [{{paths: ["{log}"]}}]
maxmind: {{directory: {maxmind_test_dir}}}
taxonomy: {CONFIG_DIR / "taxonomy.yaml"}
target_accounts: {accounts}
warehouse_file: warehouse.db
spool_directory: spool
cleaning: {{office_networks: [45.67.89.200/32]}}
report: {{directory: reports}}
privacy: {{allow_demo_salt: true}}
""",
        encoding="utf-8",
    )
    output: list[str] = []
    assert main(["--settings", str(settings), "run", "--hits", str(log)], out=output.append) == 0

    warehouse = Warehouse(f"sqlite:///{tmp_path / 'warehouse.db'}")
    companies = warehouse.read("ip_companies").set_index("ip")
    assert companies.loc["45.67.89.10", "reason"] == "account_ip_range"
    assert companies.loc["45.67.89.10", "organization"] == "Globex Corporation"
    assert "45.67.89.200" not in companies.index  # the office: dropped before resolution
    account_hits = warehouse.read("account_hits")
    assert set(account_hits["account_id"]) == {"G-1"}
    assert len(account_hits) == 3
    assert set(account_hits["ip"].str.rsplit(".", n=1).str[0]) == {"45.67.89"}

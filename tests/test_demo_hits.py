"""The demo access log: deterministic, Apache combined, and telling the accounts' story.

Lines are read with a plain regular expression here, not the project's parsers, so this
checks the file itself.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from demo.hits import write_sample_hits

START = date(2026, 10, 5)
COMBINED = re.compile(
    r'(?P<ip>[0-9.]+) - \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<url>\S+) HTTP/[0-9.]+" '
    r'(?P<status>[0-9]{3}) (?:[0-9]+|-) "(?P<referrer>[^"]*)" "(?P<user_agent>[^"]*)"\n?'
)
TARGET_ACCOUNT_NETWORKS = {
    "Northwind": "64.124.10.0/24",
    "Contoso": "80.150.20.0/24",
    "Северсталь-Инфоком": "95.167.30.0/24",
    "Fabrikam": "193.5.40.0/24",
    "Globex": "185.71.64.0/24",
    "Initech": "63.245.60.0/24",
    "Tyrell": "81.130.50.0/24",
}


@dataclass(frozen=True)
class LogHit:
    ip: str
    time: datetime  # UTC
    method: str
    url: str
    status: int
    user_agent: str

    @property
    def day(self) -> int:
        """Days since the demo's first day."""
        return (self.time.date() - START).days

    def is_from(self, network: str) -> bool:
        return ipaddress.ip_address(self.ip) in ipaddress.ip_network(network)


def _parse(line: str) -> LogHit | None:
    match = COMBINED.fullmatch(line)
    if match is None:
        return None
    try:
        time = datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z").astimezone(UTC)
    except ValueError:
        return None
    return LogHit(match["ip"], time, match["method"], match["url"], int(match["status"]), match["user_agent"])


@pytest.fixture(scope="module")
def demo_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_hits(tmp_path_factory.mktemp("demo") / "access.log")


@pytest.fixture(scope="module")
def lines(demo_log: Path) -> list[str]:
    return demo_log.read_text(encoding="utf-8").splitlines(keepends=True)


@pytest.fixture(scope="module")
def hits(lines: list[str]) -> list[LogHit]:
    return [hit for hit in map(_parse, lines) if hit is not None]


def test_the_same_seed_writes_the_same_bytes(demo_log: Path, tmp_path: Path) -> None:
    again = write_sample_hits(tmp_path / "again.log")
    other_seed = write_sample_hits(tmp_path / "other.log", seed=8)

    assert again.read_bytes() == demo_log.read_bytes()
    assert other_seed.read_bytes() != demo_log.read_bytes()


def test_a_few_thousand_lines_almost_all_apache_combined(lines: list[str], hits: list[LogHit]) -> None:
    malformed = len(lines) - len(hits)
    assert 4_000 <= len(lines) <= 8_000
    assert 0.001 * len(lines) <= malformed <= 0.02 * len(lines)


def test_malformed_lines_include_truncated_and_impossible_timestamps(lines: list[str]) -> None:
    shapes = [COMBINED.fullmatch(line) for line in lines]
    truncated = [line for line, shape in zip(lines, shapes) if shape is None and re.match(r"[0-9.]+ - - \[", line)]
    impossible_times = [shape for shape in shapes if shape is not None and _parse(shape.string) is None]
    assert truncated and impossible_times


def test_hits_are_in_time_order_and_span_the_42_days(hits: list[LogHit]) -> None:
    times = [hit.time for hit in hits]
    assert times == sorted(times)
    assert {hit.day for hit in hits} == set(range(42))


def test_times_are_written_with_several_utc_offsets(lines: list[str]) -> None:
    offsets = {match[1] for match in (re.search(r" ([+-][0-9]{4})\]", line) for line in lines) if match}
    assert {"+0000", "+0100", "+0300"} <= offsets


def test_every_target_account_but_umbrella_reads_pages(hits: list[LogHit]) -> None:
    # Umbrella Health has no network in the demo world, so it can never appear.
    for account, network in TARGET_ACCOUNT_NETWORKS.items():
        assert any(hit.is_from(network) and not hit.url.startswith("/static/") for hit in hits), account


def test_northwind_reads_pricing_only_in_the_last_two_weeks_and_surges(hits: list[LogHit]) -> None:
    northwind = [hit for hit in hits if hit.is_from(TARGET_ACCOUNT_NETWORKS["Northwind"])]
    pricing_days = {hit.day for hit in northwind if hit.url.startswith("/pricing")}
    assert pricing_days and min(pricing_days) >= 28

    last_two_weeks = sum(hit.day >= 28 for hit in northwind)
    assert last_two_weeks > 2 * (len(northwind) - last_two_weeks)


@pytest.mark.parametrize(
    ("account", "first_day", "last_day"),
    [("Initech", 32, 41), ("Globex", 0, 20), ("Fabrikam", 14, 41)],
)
def test_accounts_are_active_only_in_their_weeks(
    hits: list[LogHit], account: str, first_day: int, last_day: int
) -> None:
    days = {hit.day for hit in hits if hit.is_from(TARGET_ACCOUNT_NETWORKS[account])}
    assert first_day <= min(days) and max(days) <= last_day


def test_severstal_reaches_russian_pricing_in_the_last_window(hits: list[LogHit]) -> None:
    severstal = [hit for hit in hits if hit.is_from(TARGET_ACCOUNT_NETWORKS["Северсталь-Инфоком"])]
    assert all(
        hit.url.startswith("/ru/") for hit in severstal if not hit.url.startswith(("/static/", "/img/", "/favicon"))
    )
    assert min(hit.day for hit in severstal if hit.url.startswith("/ru/pricing")) >= 28


def test_there_is_traffic_for_cleaning_to_drop(hits: list[LogHit]) -> None:
    googlebot = [hit for hit in hits if "Googlebot" in hit.user_agent]
    assert googlebot and all(hit.is_from("66.249.64.0/20") for hit in googlebot)
    assert any(hit.is_from("212.0.10.0/28") for hit in hits)  # our own office
    assert any(hit.url.startswith("/static/") for hit in hits)
    assert any(hit.method == "HEAD" for hit in hits) and any(hit.status == 404 for hit in hits)
    scraper_minutes = Counter(
        (hit.ip, hit.time.replace(second=0))
        for hit in hits
        if hit.is_from("159.89.0.0/16") and "Chrome/" in hit.user_agent
    )
    assert max(scraper_minutes.values()) >= 80


def test_scale_multiplies_the_background_traffic(tmp_path: Path, lines: list[str]) -> None:
    scaled = write_sample_hits(tmp_path / "scaled.log", scale=3.0)
    scaled_lines = scaled.read_text(encoding="utf-8").count("\n")
    assert 2.2 * len(lines) < scaled_lines < 3.2 * len(lines)


def test_a_shorter_span_keeps_to_its_days(tmp_path: Path) -> None:
    week = write_sample_hits(tmp_path / "week.log", start=date(2027, 1, 4), days=7)
    parsed = [hit for hit in map(_parse, week.read_text(encoding="utf-8").splitlines(keepends=True)) if hit]
    assert {hit.time.date() for hit in parsed} == {date(2027, 1, 4) + timedelta(days=n) for n in range(7)}

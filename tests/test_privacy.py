"""Privacy rules: truncated addresses and keyed visitor hashes (people named as organizations: test_people.py)."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrichment.errors import ConfigError
from enrichment.privacy import (
    DEMO_VISITOR_SALT,
    IPV4_PREFIX,
    IPV6_PREFIX,
    ip_networks_in,
    redact_ips_in_text,
    truncate_ip,
    truncate_ips,
    visitor_key,
    visitor_keys,
    visitor_salt,
)

SALT = "a-test-salt-of-sufficient-length"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

# --- truncating addresses --------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "kept"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1:2::5", "2001:db8:1::/48"),
        ("::ffff:203.0.113.77", "203.0.113.0/24"),  # an IPv4 address written as IPv6
        ("203.0.113.76/30", "203.0.113.0/24"),  # a network smaller than the kept prefix
        ("203.0.113.77/30", "203.0.113.0/24"),  # an address with its prefix, as interfaces are written
        ("::ffff:203.0.113.0/120", "203.0.113.0/24"),  # an IPv4 network written as IPv6
        ("::ffff:0:0/96", "0.0.0.0/0"),  # all IPv4-mapped addresses: all of IPv4, not an IPv6 /48
        ("203.0.113.0/24", "203.0.113.0/24"),  # already truncated
        ("10.0.0.0/8", "10.0.0.0/8"),  # already coarser
    ],
)
def test_an_address_is_kept_as_its_network(stored: str, kept: str) -> None:
    assert truncate_ip(stored) == kept


def test_text_that_is_not_an_address_cannot_be_truncated() -> None:
    with pytest.raises(ValueError):
        truncate_ip("www.example.com")


def test_truncate_ips_works_per_value_and_keeps_missing_values() -> None:
    truncated = truncate_ips(pd.Series(["198.51.100.10", "198.51.100.10", None, "198.51.100.23:443"], dtype="str"))
    assert truncated.tolist()[:2] == ["198.51.100.0/24", "198.51.100.0/24"]
    assert pd.isna(truncated[2])
    assert truncated[3] == "198.51.100.0/24:443"  # not an address, but one is in it


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (
            f'203.0.113.77 - - [05/Oct/2026:09:00:00 +0000] "GET /pricing HTTP/1.1" 200 512 "-" "{CHROME}"',
            f'203.0.113.0/24 - - [05/Oct/2026:09:00:00 +0000] "GET /pricing HTTP/1.1" 200 512 "-" "{CHROME}"',
        ),
        (  # AWS ALB: client and target with their ports
            "https 2026-10-05T09:00:00.000Z app/web/50dc6c495c0c9188 198.51.100.23:51234 10.0.1.17:80 0.001",
            "https 2026-10-05T09:00:00.000Z app/web/50dc6c495c0c9188 198.51.100.0/24:51234 10.0.1.0/24:80 0.001",
        ),
        (
            '{"remote_addr":"2001:db8:abcd:12::1","x_forwarded_for":"192.0.2.7, [2001:db8::7]:443"}',
            '{"remote_addr":"2001:db8:abcd::/48","x_forwarded_for":"192.0.2.0/24, [2001:db8::/48]:443"}',
        ),
        (  # a time has the shape of an IPv6 address but is none: it stays
            "2026-10-05 09:00:00 client 203.0.113.77",
            "2026-10-05 09:00:00 client 203.0.113.0/24",
        ),
    ],
)
def test_addresses_in_log_lines_are_truncated_and_nothing_else_changes(line: str, redacted: str) -> None:
    assert redact_ips_in_text(line) == redacted


ADDRESSES = st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str)
LINES = st.sampled_from(
    [
        '{ip} - - [05/Oct/2026:09:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "Safari"',
        '{{"remote_addr":"{ip}","status":200}}',
        "client={ip}, via 192.0.2.1",
        "{ip}",
    ]
)


@given(address=ADDRESSES, line=LINES)
def test_no_address_survives_redaction_anywhere_in_a_line(address: str, line: str) -> None:
    redacted = redact_ips_in_text(line.format(ip=address))
    found = ip_networks_in(redacted)
    assert truncate_ip(address) in map(str, found)
    assert all(network.prefixlen <= (IPV4_PREFIX if network.version == 4 else IPV6_PREFIX) for network in found)
    assert redact_ips_in_text(redacted) == redacted


# --- visitor keys -----------------------------------------------------------------------


def test_a_visitor_key_is_a_short_keyed_hash() -> None:
    key = visitor_key("203.0.113.77", "Edge", SALT)
    assert re.fullmatch("[0-9a-f]{16}", key)
    assert key == visitor_key("203.0.113.77", "Edge", SALT)
    assert key != visitor_key("203.0.113.77", "Edge", "another-salt-of-sufficient-length")
    # Not the unsalted hash anyone could recompute from the address and browser:
    assert key != hashlib.sha256(b"203.0.113.77|Edge").hexdigest()[:16]


def test_visitor_keys_are_per_address_and_browser() -> None:
    hits = pd.DataFrame(
        {
            "ip": ["203.0.113.77", "203.0.113.77", "203.0.113.77", "198.51.100.10"],
            "user_agent": ["Edge", "Edge", None, "Edge"],
        },
        index=[10, 11, 12, 13],
    )
    keys = visitor_keys(hits, SALT)
    assert keys.index.tolist() == [10, 11, 12, 13]
    assert keys.tolist() == [
        visitor_key("203.0.113.77", "Edge", SALT),
        visitor_key("203.0.113.77", "Edge", SALT),
        visitor_key("203.0.113.77", "", SALT),
        visitor_key("198.51.100.10", "Edge", SALT),
    ]


PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_a_configured_salt_is_used() -> None:
    assert visitor_salt("  4f1c9a0d2b7e4c1f9a8b  ") == "4f1c9a0d2b7e4c1f9a8b"
    assert visitor_salt("16-characters-ok") == "16-characters-ok"  # the shortest accepted


@pytest.mark.parametrize("configured", [None, "", "short", "15-characters!!"])
def test_a_real_run_without_a_long_salt_stops_naming_the_variable(configured: str | None) -> None:
    with pytest.raises(ConfigError, match="VISITOR_INTENT_VISITOR_SALT"):
        visitor_salt(configured)


def test_the_demo_falls_back_to_a_public_salt_with_one_warning_per_process() -> None:
    """Dagster resets the warning filters around each step; the demo asked for the salt 42 times."""
    script = (
        "import warnings; from enrichment.privacy import visitor_salt\n"
        "for _ in range(42):\n"
        "    with warnings.catch_warnings():\n"
        "        print(visitor_salt(None, allow_demo_salt=True))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == [DEMO_VISITOR_SALT] * 42
    assert ran.stderr.count("VISITOR_INTENT_VISITOR_SALT is not set") == 1


def test_the_demo_keys_visitors_with_the_public_salt() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said once per process: see the test above
        assert visitor_salt("  ", allow_demo_salt=True) == DEMO_VISITOR_SALT


def test_a_too_short_salt_is_a_mistake_even_in_the_demo() -> None:
    with pytest.raises(ConfigError, match="shorter than"):
        visitor_salt("short", allow_demo_salt=True)

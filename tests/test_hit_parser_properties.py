"""Properties of the hit parsers: they never raise on junk, every record line is accounted
for, and a well-formed combined line comes back as it went in."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import string
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from connectors.hits import read_hits
from connectors.hits.compression import codec_of
from enrichment.scrubbing import scrub_url

SETTINGS = settings(max_examples=100, deadline=None)
URL_CHARACTERS = string.ascii_letters + string.digits + "-._~/?=&%+:@,;"

ip_addresses = st.ip_addresses()
timestamps = st.datetimes(
    min_value=dt.datetime(1971, 1, 1),
    max_value=dt.datetime(2200, 1, 1),
    timezones=st.integers(-14 * 60, 14 * 60).map(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))),
).map(lambda moment: moment.replace(microsecond=0))
paths = st.text(URL_CHARACTERS, max_size=40).map(lambda tail: "/blog/" + tail)
quoted_text = st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters='"\\'), max_size=60)
referrers = st.one_of(st.just("-"), paths.map(lambda path: "https://example.com" + path))
methods = st.sampled_from(["GET", "POST", "HEAD", "PUT", "OPTIONS"])
statuses = st.integers(100, 599)

# Junk: any text or bytes without a line break (the file's lines are what we join).
junk_text = st.text(max_size=80).map(lambda text: text.replace("\n", " ").encode("utf-8", "surrogatepass"))
junk_bytes = st.binary(max_size=80).map(lambda data: data.replace(b"\n", b""))
junk_lines = st.one_of(junk_text, junk_bytes)


@st.composite
def combined_lines(draw: st.DrawFn) -> dict:
    hit = {
        "ip": draw(ip_addresses),
        "time": draw(timestamps),
        "method": draw(methods),
        "url": draw(paths),
        "status": draw(statuses),
        "referrer": draw(referrers),
        "user_agent": draw(quoted_text),
    }
    hit["line"] = (
        f'{hit["ip"]} - - [{hit["time"]:%d/%b/%Y:%H:%M:%S %z}] "{hit["method"]} {hit["url"]} HTTP/1.1" '
        f'{hit["status"]} {draw(st.integers(0, 10**6))} "{hit["referrer"]}" "{hit["user_agent"]}"'
    )
    return hit


@st.composite
def w3c_lines(draw: st.DrawFn) -> str:
    fields = [
        f"{draw(timestamps).astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}",
        str(draw(ip_addresses)),
        draw(methods),
        draw(paths),
        str(draw(statuses)),
        draw(st.text(URL_CHARACTERS, min_size=1, max_size=30)),
    ]
    return " ".join(fields)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
any_json_lines = json_values.map(lambda value: json.dumps(value).encode())
json_keys = st.sampled_from(
    [
        "ip",
        "remote_addr",
        "time_iso8601",
        "time_local",
        "date",
        "ts",
        "path",
        "request",
        "request_uri",
        "status",
        "http_user_agent",
        "http_referer",
        "http_x_forwarded_for",
        "host",
    ]
)


@st.composite
def nginx_json_lines(draw: st.DrawFn) -> str:
    record = {
        "remote_addr": str(draw(ip_addresses)),
        "time_iso8601": draw(timestamps).isoformat(),
        "request": f"{draw(methods)} {draw(paths)} HTTP/1.1",
        "status": str(draw(statuses)),
        "http_user_agent": draw(quoted_text),
    }
    record.update(draw(st.dictionaries(json_keys, json_values, max_size=3)))  # odd types in known keys
    return json.dumps(record)


def record_line_count(lines: list[bytes]) -> int:
    """Lines that are records: not blank, not a # comment or directive."""
    texts = [line.decode("utf-8", "replace").rstrip("\r\n") for line in lines]
    return sum(1 for text in texts if text.strip() and not text.startswith("#"))


def parse_counts(path: Path, log_format: str, **read_hits_kwargs: bool) -> tuple[int, int, int]:
    """Hits, quarantined lines and lines read, over small chunks."""
    chunks = list(read_hits(path, log_format=log_format, chunk_size=7, **read_hits_kwargs))
    return (
        sum(len(chunk.hits) for chunk in chunks),
        sum(len(chunk.quarantine) for chunk in chunks),
        sum(chunk.lines_read for chunk in chunks),
    )


def write(directory: Path, lines: list[bytes], final_newline: bool) -> Path:
    content = b"\n".join(lines) + (b"\n" if final_newline else b"")
    assume(codec_of(content) is None)  # that is a (broken) compressed file, not a text log
    path = directory / "hits.log"
    path.write_bytes(content)
    return path


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


@SETTINGS
@given(
    lines=st.lists(st.one_of(combined_lines().map(lambda hit: hit["line"]), junk_lines), max_size=25),
    final_newline=st.booleans(),
)
def test_combined_log_with_junk_never_raises_and_counts_every_record(
    workdir: Path, lines: list[str | bytes], final_newline: bool
) -> None:
    valid_lines = sum(isinstance(line, str) for line in lines)
    lines = [line.encode() if isinstance(line, str) else line for line in lines]

    hits, quarantined, lines_read = parse_counts(write(workdir, lines, final_newline), "apache_combined")

    assert hits + quarantined == lines_read == record_line_count(lines)
    assert hits >= valid_lines  # junk next to a good line does not spoil it


@SETTINGS
@given(hit=combined_lines())
def test_a_valid_combined_line_round_trips(workdir: Path, hit: dict) -> None:
    chunks = list(read_hits(write(workdir, [hit["line"].encode()], True), log_format="apache_combined"))
    parsed = chunks[0].hits.iloc[0]

    address = hit["ip"]
    expected_ip = str(getattr(address, "ipv4_mapped", None) or address)
    assert parsed["ip"] == expected_ip == str(ipaddress.ip_address(parsed["ip"]))
    scrubbed_url = scrub_url(hit["url"]).url  # what the hit keeps of the url (see test_scrubbing)
    assert (parsed["method"], parsed["url"], parsed["status"]) == (hit["method"], scrubbed_url, hit["status"])
    assert parsed["timestamp"] == pd.Timestamp(hit["time"]).tz_convert("UTC")
    referrer = _unless_empty(hit["referrer"])
    assert _or_none(parsed["referrer"]) == (referrer and scrub_url(referrer).url)
    assert _or_none(parsed["user_agent"]) == _unless_empty(hit["user_agent"])


@SETTINGS
@given(
    lines=st.lists(st.one_of(w3c_lines().map(str.encode), junk_lines), max_size=25),
    final_newline=st.booleans(),
)
def test_w3c_log_with_junk_never_raises_and_counts_every_record(
    workdir: Path, lines: list[bytes], final_newline: bool
) -> None:
    lines = [b"#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)", *lines]

    hits, quarantined, lines_read = parse_counts(write(workdir, lines, final_newline), "w3c")

    assert hits + quarantined == lines_read == record_line_count(lines)


@SETTINGS
@given(
    lines=st.lists(st.one_of(nginx_json_lines().map(str.encode), any_json_lines, junk_lines), max_size=25),
    final_newline=st.booleans(),
    trust_forwarded_for=st.booleans(),
)
def test_json_log_with_junk_never_raises_and_counts_every_record(
    workdir: Path, lines: list[bytes], final_newline: bool, trust_forwarded_for: bool
) -> None:
    path = write(workdir, lines, final_newline)

    hits, quarantined, lines_read = parse_counts(path, "json_lines", trust_forwarded_for=trust_forwarded_for)

    assert hits + quarantined == lines_read == record_line_count(lines)


def _or_none(value: object) -> object:
    return None if pd.isna(value) else value


def _unless_empty(logged: str) -> str | None:
    return None if logged in ("", "-") else logged


# Every other format: real record lines from the shared samples (directives kept first),
# or a small export written here, shuffled with junk. Never an exception; every record
# line is either a hit or quarantined.
SAMPLE_OF_FORMAT = {
    "apache_common": "apache-common_matomo-common.log",
    "apache_vhost_combined": "apache-vhost-combined_matomo-static_ignores.log",
    "aws_elb": "aws-elb-classic_matomo-elb.log",
    "aws_alb": "aws-alb_matomo-alb.log",
    "cloudfront": "cloudfront-web-26f_matomo.log",
    "snowplow_enriched": "snowplow-enriched_js-sdk-fixture.tsv",
}
EXPORTS = {
    "csv": ([b"timestamp,ip,url,user_agent"], [b"2026-10-05T10:00:00Z,203.0.113.9,/pricing,Mozilla/5.0"]),
    "jsonl": ([], [b'{"timestamp": "2026-10-05T10:00:00Z", "ip": "203.0.113.9", "url": "/pricing"}']),
}


def _header_and_records(log_format: str, sample_hits_dir: Path) -> tuple[list[bytes], list[bytes]]:
    if log_format in EXPORTS:
        return EXPORTS[log_format]
    lines = [
        line for line in (sample_hits_dir / SAMPLE_OF_FORMAT[log_format]).read_bytes().splitlines() if line.strip()
    ]
    return [line for line in lines if line.startswith(b"#")], [line for line in lines if not line.startswith(b"#")]


@pytest.mark.parametrize("log_format", [*SAMPLE_OF_FORMAT, *EXPORTS])
@SETTINGS
@given(data=st.data())
def test_every_format_with_junk_never_raises_and_counts_every_record(
    log_format: str, sample_hits_dir: Path, workdir: Path, data: st.DataObject
) -> None:
    header, records = _header_and_records(log_format, sample_hits_dir)
    body = data.draw(st.lists(st.one_of(st.sampled_from(records), junk_lines), max_size=20), label="lines")
    path = write(workdir, [*header, *body], final_newline=data.draw(st.booleans()))

    parsed, quarantined, lines_read = parse_counts(path, log_format)

    assert parsed + quarantined == lines_read == record_line_count(body)

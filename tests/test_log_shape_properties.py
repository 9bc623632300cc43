"""Properties of every log shape added for real logs: a generated record comes back with the
values it was written with, and junk around records never raises and loses no line."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import string
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from connectors.hits import read_hits
from connectors.hits.compression import codec_of
from enrichment.scrubbing import mask_personal_data, scrub_url

SETTINGS = settings(max_examples=60, deadline=None)
URL_CHARACTERS = string.ascii_letters + string.digits + "-._~/?=&:@,;"
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]

addresses = st.ip_addresses()
moments = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))
paths = st.text(URL_CHARACTERS, max_size=30).map(lambda tail: "/p/" + tail)
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,8}(\.[a-z][a-z0-9-]{0,8}){1,3}", fullmatch=True)
methods = st.sampled_from(["GET", "POST", "HEAD"])
statuses = st.integers(100, 599)
# Quoted header text as servers write it: no quote or backslash (those are escaped).
header_text = st.text(st.characters(exclude_categories=("Cs", "Cc"), exclude_characters='"\\'), min_size=1, max_size=40)
# Text without separators, for unquoted W3C values (IIS writes a space in the UA as "+").
w3c_user_agents = st.text(string.ascii_letters + string.digits + "/.;()_ ", min_size=1, max_size=30).filter(
    lambda text: text.strip() == text and "  " not in text
)
junk_lines = st.one_of(
    st.text(max_size=60).map(lambda text: text.replace("\n", " ").encode("utf-8", "surrogatepass")),
    st.binary(max_size=60).map(lambda data: data.replace(b"\n", b"")),
)


def canonical(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return str(getattr(address, "ipv4_mapped", None) or address)


def clf_time(moment: dt.datetime) -> str:
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000")


def seconds(moment: dt.datetime) -> dt.datetime:
    return moment.replace(microsecond=0)


@st.composite
def apache_family(draw: st.DrawFn, log_format: str) -> dict:
    moment, ip, host = seconds(draw(moments)), draw(addresses), draw(hosts)
    method, url, status = draw(methods), draw(paths), draw(statuses)
    referrer, user_agent = draw(header_text), draw(header_text)
    request = f'[{clf_time(moment)}] "{method} {url} HTTP/1.1" {status} {draw(st.integers(0, 10**6))}'
    headers = f'"{referrer}" "{user_agent}"'
    expected = {"timestamp": moment, "ip": canonical(ip), "method": method, "url": url, "status": status}
    if log_format == "nginx_main":
        forwarded = draw(addresses)
        line = f'{ip} - - {request} {headers} "{forwarded}"'
        expected["forwarded_ip"] = canonical(forwarded) if forwarded.is_global else canonical(ip)
    elif log_format == "apache_combined":  # with trailing fields, quoted or not
        trailing = draw(
            st.lists(
                st.one_of(header_text.map(lambda text: f'"{text}"'), st.from_regex(r"[0-9.]{1,6}", fullmatch=True)),
                max_size=3,
            )
        )
        line = " ".join([f"{ip} - - {request} {headers}", *trailing])
    elif log_format == "ovh":
        line = f"{ip} {host} - {request} {headers}"
        expected["host"] = host
    elif log_format == "gandi":
        line = (
            f"{host} {ip} - - [{clf_time(moment)}] ({draw(st.integers(0, 99))} s) {request.split('] ', 1)[1]} {headers}"
        )
        expected["host"] = host
    elif log_format == "apache_vhost_common":
        line = f"{host} {ip} - - {request}"
        expected["host"] = host
        return {"line": line, "expected": expected}
    if log_format != "apache_vhost_common":
        expected |= {"referrer": referrer, "user_agent": user_agent}
    return {"line": line, "expected": expected}


@st.composite
def haproxy_lines(draw: st.DrawFn, zone: str) -> dict:
    local = draw(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)))
    local = local.replace(microsecond=local.microsecond // 1000 * 1000)
    exact = local.replace(tzinfo=ZoneInfo(zone))
    assume(exact.astimezone(dt.UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local)  # not in a DST gap
    ip, method, url, status = draw(addresses), draw(methods), draw(paths), draw(statuses)
    prefix = draw(st.sampled_from(["", "Sep 25 06:05:27 lb1 haproxy[6801]: "]))
    stamp = local.strftime("%d/%b/%Y:%H:%M:%S.%f")[:-3]
    line = (
        f'{prefix}{ip}:4711 [{stamp}] fe be/s1 0/0/1/2/3 {status} 512 - - ---- 1/1/0/0/0 0/0 "{method} {url} HTTP/1.1"'
    )
    expected = {
        "timestamp": exact.astimezone(dt.UTC),
        "ip": canonical(ip),
        "method": method,
        "url": url,
        "status": status,
    }
    return {"line": line, "expected": expected}


@st.composite
def s3_lines(draw: st.DrawFn) -> dict:
    moment, ip, bucket = seconds(draw(moments)), draw(addresses), draw(hosts)
    method, url, status, user_agent = draw(methods), draw(paths), draw(statuses), draw(header_text)
    line = (
        f'owner {bucket} [{clf_time(moment)}] {ip} - REQ1 REST.GET.OBJECT key "{method} {url} HTTP/1.1" {status} - '
        f'512 512 10 9 "-" "{user_agent}" - hostid SigV4 - AuthHeader {bucket}.s3.amazonaws.com TLSv1.2'
    )
    expected = {"timestamp": moment, "ip": canonical(ip), "host": bucket, "method": method, "url": url}
    return {"line": line, "expected": expected | {"status": status, "user_agent": user_agent}}


W3C_FIELDS = "#Fields: date-local time-local c-ip cs-method cs-uri-stem sc-status cs(User-Agent) cs(Host)"


@st.composite
def w3c_lines(draw: st.DrawFn, zone: str) -> dict:
    """IIS Advanced Logging: local time with milliseconds, values quoted or not."""
    local = draw(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)))
    local = local.replace(microsecond=local.microsecond // 1000 * 1000)
    exact = local.replace(tzinfo=ZoneInfo(zone))
    assume(exact.astimezone(dt.UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local)
    ip, method, url, status = draw(addresses), draw(methods), draw(paths), draw(statuses)
    user_agent, host = draw(w3c_user_agents), draw(hosts)
    quote = draw(st.booleans())
    values = [local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S.%f")[:-3], str(ip), method, url, str(status)]
    values += [f'"{user_agent}"' if quote else user_agent.replace(" ", "+"), f'"{host}"' if quote else host]
    expected = {"timestamp": exact.astimezone(dt.UTC), "ip": canonical(ip), "method": method, "url": url}
    return {"line": " ".join(values), "expected": expected | {"status": status, "user_agent": user_agent, "host": host}}


INCAPSULA_FIELDS = "#Fields: date time c-ip cs(User-Agent) cs-uri cs(Referrer) cs-method cs-uri-query sc-status"


@st.composite
def incapsula_lines(draw: st.DrawFn) -> dict:
    moment, ip, host, url = seconds(draw(moments)), draw(addresses), draw(hosts), draw(paths).split("?")[0]
    query = draw(st.text(string.ascii_letters + "=&", max_size=10))
    user_agent, method, status = draw(w3c_user_agents), draw(methods), draw(statuses)
    values = [moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S"), str(ip), user_agent, host + url, "", method]
    line = " ".join(f'"{value}"' for value in [*values, query, str(status)])
    expected = {"timestamp": moment, "ip": canonical(ip), "host": host, "url": f"{url}?{query}" if query else url}
    return {"line": line, "expected": expected | {"status": status, "user_agent": user_agent, "method": method}}


CLOUDFRONT_FIELDS = (
    "#Fields: date time x-edge-location c-ip cs-method x-host-header cs-uri-stem sc-status cs(User-Agent)"
)


@st.composite
def cloudfront_lines(draw: st.DrawFn) -> dict:
    moment, ip, host, url = seconds(draw(moments)), draw(addresses), draw(hosts), draw(paths).split("?")[0]
    method, status, user_agent = draw(methods), draw(statuses), draw(w3c_user_agents)
    encoded = user_agent.replace(" ", "%2520")  # CloudFront encodes the user agent twice
    values = [
        moment.strftime("%Y-%m-%d"),
        moment.strftime("%H:%M:%S"),
        "FRA2",
        str(ip),
        method,
        host,
        url,
        str(status),
        encoded,
    ]
    trailing = "\t" * draw(st.integers(0, 3))  # a trailing tab, or trailing empty fields
    expected = {"timestamp": moment, "ip": canonical(ip), "host": host, "url": url, "method": method}
    return {"line": "\t".join(values) + trailing, "expected": expected | {"status": status, "user_agent": user_agent}}


@st.composite
def traefik_lines(draw: st.DrawFn) -> dict:
    moment, ip, host = draw(moments), draw(addresses), draw(hosts)
    method, url, status, user_agent = draw(methods), draw(paths), draw(statuses), draw(header_text)
    record = {
        "ClientHost": str(ip),
        "RequestHost": host,
        "RequestMethod": method,
        "RequestPath": url,
        "DownstreamStatus": status,
        "StartUTC": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "request_User-Agent": user_agent,
        "time": "2023-08-11T11:41:25",
    }
    expected = {"timestamp": moment, "ip": canonical(ip), "host": host, "method": method, "url": url}
    return {"line": json.dumps(record), "expected": expected | {"status": status, "user_agent": user_agent}}


# format name → (directive lines, record strategy, read options)
SHAPES = {
    "nginx_main": ([], apache_family("nginx_main"), {"trust_forwarded_for": True}),
    "apache_combined": ([], apache_family("apache_combined"), {}),
    "ovh": ([], apache_family("ovh"), {}),
    "gandi": ([], apache_family("gandi"), {}),
    "apache_vhost_common": ([], apache_family("apache_vhost_common"), {}),
    "s3": ([], s3_lines(), {}),
    "json_lines": ([], traefik_lines(), {}),
    "cloudfront": (["#Version: 1.0", CLOUDFRONT_FIELDS], cloudfront_lines(), {}),
    "w3c": ([INCAPSULA_FIELDS], incapsula_lines(), {}),
    **{f"haproxy in {zone}": ([], haproxy_lines(zone), {"timezone": zone}) for zone in ZONES[:3]},
    **{f"w3c local time in {zone}": ([W3C_FIELDS], w3c_lines(zone), {"timezone": zone}) for zone in ZONES},
}


def log_format_of(shape: str) -> str:
    return shape.split(" ")[0]


def write(directory: Path, lines: list[bytes], final_newline: bool = True) -> Path:
    content = b"\n".join(lines) + (b"\n" if final_newline else b"")
    assume(codec_of(content) is None)  # that is a (broken) compressed file, not a text log
    path = directory / "hits.log"
    path.write_bytes(content)
    return path


def as_scrubbed(expected: dict) -> dict:
    """What the hit holds of the values a line says: urls and referrers scrubbed, titles masked."""
    for name in ("url", "referrer"):
        if expected.get(name, "-") != "-":
            expected[name] = scrub_url(expected[name]).url
    if expected.get("page_title", "-") != "-":
        expected["page_title"] = mask_personal_data(expected["page_title"])
    return expected


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shape-properties")


@pytest.mark.parametrize("shape", sorted(SHAPES))
@SETTINGS
@given(data=st.data())
def test_a_generated_record_comes_back_as_written(shape: str, workdir: Path, data: st.DataObject) -> None:
    header, records, options = SHAPES[shape]
    record = data.draw(records, label="record")
    path = write(workdir, [line.encode() for line in [*header, record["line"]]])

    [chunk] = read_hits(path, log_format=log_format_of(shape), **options)

    assert chunk.quarantine.empty, chunk.quarantine["reason"].tolist()
    hit = chunk.hits.iloc[0]
    expected = as_scrubbed(dict(record["expected"]))
    assert hit["ip"] == expected.pop("forwarded_ip", expected.pop("ip"))
    assert hit["timestamp"] == pd.Timestamp(expected.pop("timestamp"))
    for name, value in expected.items():
        if value == "-":  # a lone dash is how servers write "no value"
            assert pd.isna(hit[name]), name
        else:
            assert hit[name] == value, name


@pytest.mark.parametrize("shape", sorted(SHAPES))
@SETTINGS
@given(data=st.data())
def test_junk_among_records_never_raises_and_every_line_is_counted(
    shape: str, workdir: Path, data: st.DataObject
) -> None:
    header, records, options = SHAPES[shape]
    body = data.draw(
        st.lists(st.one_of(records.map(lambda record: record["line"].encode()), junk_lines), max_size=15), label="lines"
    )
    path = write(workdir, [line.encode() for line in header] + body, final_newline=data.draw(st.booleans()))

    chunks = list(read_hits(path, log_format=log_format_of(shape), chunk_size=4, **options))

    texts = [line.decode("utf-8", "replace").rstrip("\r") for line in body]
    records_written = sum(1 for text in texts if text.strip() and not text.startswith("#"))
    hits, quarantined = sum(len(c.hits) for c in chunks), sum(len(c.quarantine) for c in chunks)
    assert hits + quarantined == sum(chunk.lines_read for chunk in chunks) == records_written

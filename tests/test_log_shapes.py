"""Log shapes met in the wild: nginx's main format, trailing fields, hosting variants, HAProxy,
S3, W3C with local time and fractions, CloudFront's trailing tab, compressed files, and files
without records. Small inline logs; the public yardstick is test_matomo_log_suite.py."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
from pathlib import Path

import pandas as pd
import pytest
import zstandard

from connectors.hits import EMPTY_LOG, UnknownLogFormat, detect_format, inspect_log, read_hits
from enrichment.scrubbing import ScrubRules

KEEP_EVERY_PARAMETER = ScrubRules(("*",))

COMBINED = (
    '{ip} - - [10/Oct/2023:13:55:36 +0000] "GET {url} HTTP/1.1" 200 512 "https://example.com/" "Mozilla/5.0 (X11)"'
)


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_all(path: Path, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Every query parameter kept: these tests are about log shapes (scrubbing has its own).
    chunks = list(read_hits(path, scrub_rules=KEEP_EVERY_PARAMETER, **kwargs))
    if not chunks:
        return pd.DataFrame(), pd.DataFrame()
    return (
        pd.concat([chunk.hits for chunk in chunks], ignore_index=True),
        pd.concat([chunk.quarantine for chunk in chunks], ignore_index=True),
    )


def combined(ip: str = "198.51.100.7", url: str = "/pricing") -> str:
    return COMBINED.format(ip=ip, url=url)


def values(frame: pd.DataFrame, *columns: str) -> list[list]:
    selected = frame[list(columns)].astype(object)
    return selected.where(selected.notna(), None).values.tolist()


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# --- nginx main and trailing fields ------------------------------------------------------


def test_nginx_main_is_detected_and_its_forwarded_for_used_when_trusted(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "access.log",
        combined(ip="10.0.0.5") + ' "192.168.1.4, 8.8.8.8"',
        combined(ip="10.0.0.5") + ' "-"',
        combined(ip="10.0.0.6") + ' "2001:4860:4860::8888"',
    )

    trusted, _ = read_all(path, trust_forwarded_for=True)
    untrusted, _ = read_all(path)

    assert detect_format(path) == "nginx_main"
    assert trusted["ip"].tolist() == ["8.8.8.8", "10.0.0.5", "2001:4860:4860::8888"]
    assert untrusted["ip"].tolist() == ["10.0.0.5", "10.0.0.5", "10.0.0.6"]
    assert trusted["user_agent"].tolist() == ["Mozilla/5.0 (X11)"] * 3


@pytest.mark.parametrize(
    "trailing",
    [
        " 1807",  # Icecast's session time
        ' "www.example.com" 0.004 "-"',  # $host $request_time $upstream_addr
        ' "a cookie with spaces" "another"',
        "\t",
    ],
)
def test_combined_with_any_trailing_fields_reads_the_combined_part(tmp_path: Path, trailing: str) -> None:
    path = write_lines(tmp_path / "access.log", combined() + trailing, combined(url="/second") + trailing)

    hits, quarantine = read_all(path)

    assert detect_format(path) == "apache_combined"
    assert values(hits, "ip", "url", "status", "referrer", "user_agent") == [
        ["198.51.100.7", "/pricing", 200, "https://example.com/", "Mozilla/5.0 (X11)"],
        ["198.51.100.7", "/second", 200, "https://example.com/", "Mozilla/5.0 (X11)"],
    ]
    assert quarantine.empty


def test_an_ordinary_combined_log_is_neither_nginx_main_nor_ovh(sample_hits_dir: Path) -> None:
    assert detect_format(sample_hits_dir / "apache-combined_basjes-hackers-access.log") == "apache_combined"


def test_ovh_takes_the_site_from_the_identity_field(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "ovh.log", combined().replace(" - - ", " www.example.org - ", 1))

    hits, _ = read_all(path)

    assert detect_format(path) == "ovh"
    assert values(hits, "ip", "host", "url") == [["198.51.100.7", "www.example.org", "/pricing"]]


def test_vhost_common_and_gandi(tmp_path: Path) -> None:
    vhost_common = write_lines(
        tmp_path / "vhost.log",
        'shop.example.com:443 198.51.100.7 - - [10/Oct/2023:13:55:36 +0200] "GET / HTTP/1.1" 200 9',
    )
    gandi = write_lines(tmp_path / "gandi.log", "www.example.com " + combined().replace("] ", "] (2 s) ", 1))

    assert detect_format(vhost_common) == "apache_vhost_common"
    assert values(read_all(vhost_common)[0], "host", "ip", "url") == [["shop.example.com:443", "198.51.100.7", "/"]]
    assert read_all(vhost_common)[0].loc[0, "timestamp"] == utc("2023-10-10 11:55:36")
    assert detect_format(gandi) == "gandi"
    assert values(read_all(gandi)[0], "host", "ip", "url", "user_agent") == [
        ["www.example.com", "198.51.100.7", "/pricing", "Mozilla/5.0 (X11)"]
    ]


# --- HAProxy and S3 ----------------------------------------------------------------------

HAPROXY = (
    "{prefix}{client}:55008 [25/Sep/2018:06:05:27.584] ft_https~ bk_https/abc 0/0/0/72/72 200 7456 - - ---- "
    '5/4/0/1/0 0/0 {{www.example.com|Mozilla/5.0}} "GET /pricing?plan=pro HTTP/1.1"'
)


def test_haproxy_with_and_without_syslog_header_and_with_an_ipv6_client(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "haproxy.log",
        HAPROXY.format(prefix="Sep 25 06:05:27 lb1 haproxy[6801]: ", client="198.51.100.7"),
        HAPROXY.format(prefix="2018-09-25T06:05:27+02:00 lb1 haproxy[6801]: ", client="2001:db8::7"),
        HAPROXY.format(prefix="", client="198.51.100.8"),
        "Sep 25 06:05:28 lb1 haproxy[6801]: 198.51.100.9:4711 [25/Sep/2018:06:05:28.001] ft_tcp bk_tcp/s1 0/0/5007 212 -- 0/0/0/0/3 0/0",
    )

    hits, quarantine = read_all(path, timezone="Europe/Berlin")  # CEST: UTC+2

    assert detect_format(path) == "haproxy"
    assert values(hits, "ip", "method", "url", "status") == [
        ["198.51.100.7", "GET", "/pricing?plan=pro", 200],
        ["2001:db8::7", "GET", "/pricing?plan=pro", 200],
        ["198.51.100.8", "GET", "/pricing?plan=pro", 200],
    ]
    assert set(hits["timestamp"]) == {utc("2018-09-25 04:05:27.584")}
    assert values(quarantine, "line_no", "reason") == [[4, "no_http_request"]]  # a TCP-mode connection


def test_s3_server_access_log_with_newer_trailing_fields(tmp_path: Path) -> None:
    line = (
        "79a5 www.example.com [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57427F3EXAMPLE {operation} "
        '{key} "{request}" 200 - 2662992 3462992 70 10 "-" "curl/8.4.0" - s9lzHYrFp= SigV4 '
        "ECDHE-RSA-AES128-GCM-SHA256 AuthHeader www.example.com.s3.amazonaws.com TLSv1.2 - -"
    )
    path = write_lines(
        tmp_path / "s3.log",
        line.format(operation="WEBSITE.GET.OBJECT", key="docs/a.html", request="GET /docs/a.html HTTP/1.1"),
        line.format(operation="S3.EXPIRE.OBJECT", key="old.log", request="-"),
    )

    hits, quarantine = read_all(path)

    assert detect_format(path) == "s3"
    assert values(hits, "host", "ip", "url", "user_agent") == [
        ["www.example.com", "192.0.2.3", "/docs/a.html", "curl/8.4.0"]
    ]
    assert values(quarantine, "line_no", "reason") == [[2, "no_http_request"]]  # a lifecycle action


# --- W3C and CloudFront ------------------------------------------------------------------


def test_w3c_fractional_seconds_quoted_values_and_a_missing_client(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "u_ex.log",
        "#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent) cs(Referer)",
        '2023-10-10 08:00:00.363 198.51.100.7 GET /a 200 "Mozilla/5.0 (X11; Linux)" ""',
        '"2023-10-10" "08:00:01" "-" "GET" "/b" "304" "curl/8.4.0" "https://example.com/"',
        "2023-10-10 08:00:02 proxy.example.com GET /c 200 - -",
    )

    hits, quarantine = read_all(path)

    assert values(hits, "ip", "url", "status", "user_agent", "referrer") == [
        ["198.51.100.7", "/a", 200, "Mozilla/5.0 (X11; Linux)", None],
        [None, "/b", 304, "curl/8.4.0", "https://example.com/"],  # "-": the line names no client
    ]
    assert hits["timestamp"].tolist() == [utc("2023-10-10 08:00:00.363"), utc("2023-10-10 08:00:01")]
    assert values(quarantine, "line_no", "reason") == [[4, "invalid_ip"]]  # a host name is no client address


def test_w3c_local_time_follows_the_timezone_across_daylight_saving(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "u_ex.log",
        "#Fields: date-local time-local c-ip cs-uri-stem",
        "2023-03-26 01:30:00 198.51.100.7 /winter",  # CET, UTC+1
        "2023-03-26 02:30:00 198.51.100.7 /gap",  # does not exist in Berlin: the moment after the gap
        "2023-03-26 03:30:00 198.51.100.7 /summer",  # CEST, UTC+2
        "2023-10-29 02:30:00 198.51.100.7 /twice",  # comes twice: the first (CEST) is taken
    )

    berlin = list(read_hits(path, timezone="Europe/Berlin"))
    default = list(read_hits(path))

    assert berlin[0].hits["timestamp"].tolist() == [
        utc("2023-03-26 00:30:00"),
        utc("2023-03-26 01:00:00"),
        utc("2023-03-26 01:30:00"),
        utc("2023-10-29 00:30:00"),
    ]
    assert default[0].hits["timestamp"].tolist()[0] == utc("2023-03-26 01:30:00")  # read as UTC
    assert berlin[0].local_times == default[0].local_times == 4
    assert inspect_log(path, timezone="Europe/Berlin").local_times == 4


def test_w3c_utc_fields_ignore_the_timezone(sample_hits_dir: Path) -> None:
    path = sample_hits_dir / "w3c-iis6_matomo-iis.log"

    [chunk] = read_hits(path, timezone="Asia/Tokyo")

    assert chunk.hits.loc[0, "timestamp"] == utc("2012-04-01 00:00:13")
    assert chunk.local_times == 0


def test_an_unknown_timezone_is_refused_at_the_call(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        read_hits(write_lines(tmp_path / "a.log", combined()), timezone="Mars/Olympus")


def test_cloudfront_with_a_trailing_tab_and_trailing_empty_fields(tmp_path: Path) -> None:
    fields = "date time x-edge-location c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent)"
    record = "2023-10-10\t08:00:00\tFRA2\t198.51.100.7\tGET\td1.cloudfront.net\t/a\t200\t-\tcurl/8.4.0"
    path = write_lines(tmp_path / "cf.log", "#Version: 1.0", f"#Fields: {fields}", record + "\t", record + "\t\t\t")

    hits, quarantine = read_all(path)

    assert detect_format(path) == "cloudfront"
    assert values(hits, "ip", "url", "user_agent") == [["198.51.100.7", "/a", "curl/8.4.0"]] * 2
    assert quarantine.empty


def test_cloudfront_line_with_an_extra_value_is_still_refused(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "cf.log",
        "#Fields: date time x-edge-location c-ip cs-uri-stem",
        "2023-10-10\t08:00:00\tFRA2\t198.51.100.7\t/a\tsurprise",
    )

    _, quarantine = read_all(path)

    assert values(quarantine, "line_no", "reason") == [[2, "unparseable"]]


# --- times without a zone elsewhere ------------------------------------------------------


def test_a_csv_export_without_zones_is_read_in_the_timezone_and_one_with_zones_is_not(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "export.csv",
        "timestamp,ip,url",
        "2023-10-10 10:00:00,198.51.100.7,/local",
        "2023-10-10T10:00:00+00:00,198.51.100.7,/utc",
        "1696932000,198.51.100.7,/epoch",
    )

    [chunk] = read_hits(path, timezone="Europe/Berlin")

    assert chunk.hits["timestamp"].tolist() == [
        utc("2023-10-10 08:00:00"),
        utc("2023-10-10 10:00:00"),
        utc("2023-10-10 10:00:00"),
    ]
    assert chunk.local_times == 1


def test_snowplow_collector_time_is_utc_whatever_the_timezone(sample_hits_dir: Path) -> None:
    [chunk] = read_hits(sample_hits_dir / "snowplow-enriched_js-sdk-fixture.tsv", timezone="Asia/Tokyo")

    assert chunk.hits.loc[0, "timestamp"] == utc("2013-11-26 00:02:05")


# --- compressed files --------------------------------------------------------------------

COMPRESSORS = {
    "gz": gzip.compress,
    "bz2": bz2.compress,
    "xz": lzma.compress,
    "zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


def _varied_log(lines: int) -> bytes:
    # Varied paths, so that the compressed stream is long and a cut lands inside the data.
    generator = random.Random(7)
    return "".join(combined(url=f"/p/{generator.getrandbits(64):x}") + "\n" for _ in range(lines)).encode()


@pytest.mark.parametrize("extension", sorted(COMPRESSORS))
def test_compressed_logs_read_like_their_content_whatever_their_name(tmp_path: Path, extension: str) -> None:
    content = _varied_log(50)
    plain = tmp_path / "access.log"
    plain.write_bytes(content)
    misnamed = tmp_path / "access.txt"  # told by its first bytes, not its name
    misnamed.write_bytes(COMPRESSORS[extension](content))

    expected, _ = read_all(plain)
    hits, _ = read_all(misnamed)

    assert detect_format(misnamed) == "apache_combined"
    pd.testing.assert_frame_equal(hits.drop(columns="source_file"), expected.drop(columns="source_file"))


def test_zstandard_frames_one_after_another_are_one_log(tmp_path: Path) -> None:
    compressor = zstandard.ZstdCompressor()
    path = tmp_path / "access.log.zst"
    path.write_bytes(compressor.compress(combined(url="/first").encode() + b"\n") + compressor.compress(b"\n"))
    path.write_bytes(path.read_bytes() + compressor.compress(combined(url="/second").encode() + b"\n"))

    hits, _ = read_all(path)

    assert hits["url"].tolist() == ["/first", "/second"]


@pytest.mark.parametrize(("extension", "codec"), [("gz", "gzip"), ("bz2", "bz2"), ("xz", "xz"), ("zst", "zstd")])
def test_a_truncated_compressed_log_keeps_what_was_read_and_says_where_it_broke(
    tmp_path: Path, extension: str, codec: str
) -> None:
    content = _varied_log(40_000)  # several bzip2 blocks and Zstandard blocks
    compressed = COMPRESSORS[extension](content)
    path = tmp_path / f"access.log.{extension}"
    path.write_bytes(compressed[: len(compressed) * 3 // 4])

    hits, quarantine = read_all(path, log_format="apache_combined")

    assert 0 < len(hits) < 40_000
    assert hits["line_no"].tolist() == list(range(1, len(hits) + 1))
    assert values(quarantine, "line_no", "reason") == [[len(hits) + 1, f"truncated_{codec}"]]


@pytest.mark.parametrize(("extension", "codec"), [("gz", "gzip"), ("bz2", "bz2"), ("xz", "xz")])
def test_a_damaged_compressed_log_is_quarantined_not_raised(tmp_path: Path, extension: str, codec: str) -> None:
    compressed = bytearray(COMPRESSORS[extension](_varied_log(2000)))
    compressed[len(compressed) // 2 : len(compressed) // 2 + 64] = bytes(64)
    path = tmp_path / f"access.log.{extension}"
    path.write_bytes(bytes(compressed))

    _, quarantine = read_all(path, log_format="apache_combined")

    assert quarantine["reason"].iloc[-1] == f"corrupt_{codec}"


# --- files without records ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("access.log", b""),
        ("access.log", b"\n\n   \n"),
        ("u_ex.log", b"#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"),
        ("access.log.gz", gzip.compress(b"")),
    ],
)
def test_a_file_without_records_is_empty_not_an_error(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    inspection = inspect_log(path)

    assert detect_format(path) == EMPTY_LOG
    assert list(read_hits(path)) == []
    assert (inspection.format, inspection.lines, inspection.parsed, inspection.quarantined) == (EMPTY_LOG, 0, 0, 0)


@pytest.mark.parametrize(
    ("name", "content", "log_format"),
    [
        ("u_ex.log", "#Version: 1.0\n#Fields: date time c-ip cs-uri-stem\n", "w3c"),
        ("cf.log", "#Version: 1.0\n#Fields: date time x-edge-location c-ip cs-uri-stem\n", "cloudfront"),
        ("export.csv", "timestamp,ip,url\n", "csv"),
    ],
)
def test_a_header_only_file_has_its_format_and_no_records(
    tmp_path: Path, name: str, content: str, log_format: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    inspection = inspect_log(path)

    assert (inspection.format, inspection.lines, inspection.parsed) == (log_format, 0, 0)


def test_an_undetectable_file_still_raises_with_its_first_line(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "notes.txt", "dear diary")

    with pytest.raises(UnknownLogFormat) as error:
        detect_format(path)

    assert error.value.first_line == "dear diary"
    assert "dear diary" not in error.value.why  # the reason can be kept where log lines may not

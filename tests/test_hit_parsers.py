"""Hit parsers: the real samples in ../shared/sample-hits and small inline logs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from connectors.hits import (
    HIT_COLUMNS,
    LOG_FORMATS,
    QUARANTINE_COLUMNS,
    ColumnMapping,
    ColumnMappingError,
    UnknownLogFormat,
    detect_format,
    inspect_log,
    read_hits,
)
from connectors.hits.lines import BLOCK_BYTES
from enrichment.scrubbing import ScrubRules

# file → (format, hits, quarantined), as documented in the samples' README.
SAMPLES = {
    "apache-combined_basjes-hackers-access.log": ("apache_combined", 3456, 0),
    "apache-combined_matomo-tracking-hits.log": ("apache_combined", 4, 0),
    "apache-combined_matomo-ncsa_extended.log": ("apache_combined", 1, 0),
    "apache-common_matomo-common.log": ("apache_common", 1, 0),
    "apache-common_matomo-common.log.gz": ("apache_common", 1, 0),
    "apache-vhost-combined_matomo-common_complete.log": ("apache_vhost_combined", 1, 0),
    "apache-vhost-combined_matomo-static_ignores.log": ("apache_vhost_combined", 4, 0),
    "apache-combined_lnav-private-ip.log": ("apache_combined", 3, 0),
    "apache-combined_lnav-bad-request.log": ("apache_combined", 0, 1),
    "w3c-iis6_matomo-iis.log": ("w3c", 1, 0),
    "cloudfront-web-26f_matomo.log": ("cloudfront", 1, 0),
    "aws-elb-classic_matomo-elb.log": ("aws_elb", 1, 1),
    "aws-alb_matomo-alb.log": ("aws_alb", 1, 0),
    "nginx-json_matomo-nginx_json.log": ("json_lines", 2, 0),
    "snowplow-enriched_js-sdk-fixture.tsv": ("snowplow_enriched", 1, 0),
}
COMBINED_LINE = '{ip} - - [{time}] "GET {url} HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11)"'


def read_all(path: Path, **kwargs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All hits and all quarantined lines of a file, checking the per-chunk invariant.

    Every query parameter is kept: these tests are about parsing (scrubbing has its own).
    """
    chunks = list(read_hits(path, **{"scrub_rules": ScrubRules(("*",)), **kwargs}))
    for chunk in chunks:
        assert len(chunk.hits) + len(chunk.quarantine) == chunk.lines_read
        assert list(chunk.hits.columns) == HIT_COLUMNS
        assert list(chunk.quarantine.columns) == QUARANTINE_COLUMNS
    hits = pd.concat([chunk.hits for chunk in chunks], ignore_index=True)
    quarantine = pd.concat([chunk.quarantine for chunk in chunks], ignore_index=True)
    return hits, quarantine


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def combined(ip: str = "203.0.113.9", time: str = "10/Oct/2023:13:55:36 +0000", url: str = "/pricing") -> str:
    return COMBINED_LINE.format(ip=ip, time=time, url=url)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def rows(frame: pd.DataFrame, *columns: str) -> list[list]:
    """The frame's rows as lists, missing values as None."""
    selected = frame[list(columns)].astype(object)
    return selected.where(selected.notna(), None).values.tolist()


def quarantined(quarantine: pd.DataFrame) -> list[tuple[int, str]]:
    return list(zip(quarantine["line_no"].tolist(), quarantine["reason"].tolist()))


# --- the real samples -------------------------------------------------------------------


def test_every_sample_file_is_covered(sample_hits_dir: Path) -> None:
    files = {path.name for path in sample_hits_dir.iterdir()} - {"README.md"}
    assert files == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_are_detected_and_counted(sample_hits_dir: Path, name: str) -> None:
    log_format, hit_count, quarantine_count = SAMPLES[name]
    path = sample_hits_dir / name

    hits, quarantine = read_all(path)

    assert detect_format(path) == log_format
    assert (len(hits), len(quarantine)) == (hit_count, quarantine_count)
    if len(hits):
        assert str(hits["timestamp"].dtype) == "datetime64[us, UTC]"
        assert hits["url"].str.startswith("/").all()
        assert (hits["source_file"] == str(path)).all()


def test_basjes_sample_matches_its_readme_statistics(sample_hits_dir: Path) -> None:
    hits, _ = read_all(sample_hits_dir / "apache-combined_basjes-hackers-access.log")

    ipv6 = hits[hits["ip"].str.contains(":")]
    assert ipv6["line_no"].tolist() == [*range(2577, 2583), *range(2654, 2660)]
    assert hits["ip"].nunique() == 520
    assert hits["method"].value_counts().to_dict() == {"GET": 2376, "POST": 1080}
    assert hits["referrer"].isna().sum() == 21
    assert hits["timestamp"].min() == utc("2015-10-25 03:11:25")
    assert hits["timestamp"].max() == utc("2015-10-30 14:59:39")
    assert hits["line_no"].tolist() == list(range(1, 3457))


def test_tracking_pixel_hits_describe_the_tracked_page(sample_hits_dir: Path) -> None:
    hits, _ = read_all(sample_hits_dir / "apache-combined_matomo-tracking-hits.log")

    assert hits["line_no"].tolist() == [1, 2, 3, 6]  # blank line 4 and comment line 5 are not records
    pixels = hits.iloc[:3]
    assert pixels["url"].tolist() == [
        "/",
        "/case/adviserbrief-track-your-investments-and-plan-financial-future/",
        "/case/atl-apps-mobile-android-ios-games/",
    ]
    assert set(pixels["host"]) == {"clearcode.cc"}
    assert set(pixels["referrer"]) == {"http://clearcode.cc/welcome"}
    assert set(pixels["visitor_id"]) == {"1da79fc743e8bcc4"}
    assert pixels["page_title"].iloc[0] == "Clearcode - Web and Mobile Development | Technology With Passion"
    assert hits["ip"].nunique() == 2
    head_request = hits.iloc[3]
    assert (head_request["method"], head_request["url"], head_request["status"]) == ("HEAD", "/", 403)
    assert pd.isna(head_request["referrer"]) and pd.isna(head_request["user_agent"])
    # +0000 and +0100 in the file: both end as UTC
    assert hits["timestamp"].tolist() == [
        utc("2013-02-05 07:01:26"),
        utc("2013-02-05 07:01:41"),
        utc("2013-02-05 07:01:46"),
        utc("2013-10-28 23:48:46"),
    ]


def test_vhost_log_takes_the_host_from_the_first_field(sample_hits_dir: Path) -> None:
    hits, _ = read_all(sample_hits_dir / "apache-vhost-combined_matomo-static_ignores.log")

    assert set(hits["host"]) == {"www.example.com"}
    assert hits["ip"].tolist() == ["1.2.3.4", "2.2.3.4", "3.2.3.4", "4.2.3.4"]
    assert hits["url"].tolist() == ["/", "/robots.txt", "/image.png", "/font.woff2"]


def test_gzip_reads_like_its_decompressed_content(sample_hits_dir: Path, tmp_path: Path) -> None:
    compressed = (sample_hits_dir / "apache-common_matomo-common.log.gz").read_bytes()
    plain = tmp_path / "common.log"
    plain.write_bytes(gzip.decompress(compressed))
    misnamed = tmp_path / "common.txt"  # gzip is recognised by its magic bytes, not its name
    misnamed.write_bytes(compressed)

    from_plain, _ = read_all(plain)
    from_gzip, _ = read_all(misnamed)

    pd.testing.assert_frame_equal(from_gzip.drop(columns="source_file"), from_plain.drop(columns="source_file"))
    assert from_gzip.loc[0, ["ip", "method", "url", "status"]].tolist() == ["1.2.3.5", "POST", "/form", 200]
    assert from_gzip.loc[0, "timestamp"] == utc("2012-02-10 23:42:07")


def test_iis_quoted_cookie_with_spaces_keeps_the_columns_aligned(sample_hits_dir: Path) -> None:
    hits, _ = read_all(sample_hits_dir / "w3c-iis6_matomo-iis.log")

    hit = hits.iloc[0]
    assert hit["line_no"] == 5
    assert hit["timestamp"] == utc("2012-04-01 00:00:13")
    assert (hit["ip"], hit["method"], hit["host"], hit["status"]) == ("1.2.3.4", "GET", "example.com", 200)
    assert hit["url"] == "/foo/bar?topCat1=divinity&submit=Search"
    assert hit["user_agent"] == "Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9.2.7) Gecko/20100722 Firefox/3.6.7"
    assert pd.isna(hit["referrer"])


def test_cloudfront_user_agent_is_decoded_and_host_is_the_site(sample_hits_dir: Path) -> None:
    hits, _ = read_all(sample_hits_dir / "cloudfront-web-26f_matomo.log")

    hit = hits.iloc[0]
    assert hit["user_agent"] == (
        "Mozilla/5.0 (Windows; U; Windows NT 6.1; de-DE) AppleWebKit/534.17 (KHTML, like Gecko) "
        "Chrome/10.0.649.0 Safari/534.17"
    )
    assert (hit["ip"], hit["host"], hit["line_no"]) == ("192.0.2.10", "example.com", 3)
    assert hit["url"] == "/view/my/file.html"
    assert hit["timestamp"] == utc("2014-05-23 01:13:11")


def test_alb_splits_client_port_and_reduces_the_absolute_url(sample_hits_dir: Path) -> None:
    hits, _ = read_all(sample_hits_dir / "aws-alb_matomo-alb.log")

    hit = hits.iloc[0]
    assert (hit["ip"], hit["status"]) == ("1.2.3.4", 200)
    assert (hit["url"], hit["host"]) == ("/path/index.html", "www.example.com")
    assert hit["timestamp"] == utc("2020-01-01 00:55:04.127531")


def test_elb_tcp_entry_is_quarantined_with_its_line_number(sample_hits_dir: Path) -> None:
    hits, quarantine = read_all(sample_hits_dir / "aws-elb-classic_matomo-elb.log")

    assert hits["ip"].tolist() == ["1.2.3.4"]
    assert quarantined(quarantine) == [(3, "no_http_request")]


def test_apache_request_without_request_line_is_quarantined(sample_hits_dir: Path) -> None:
    _, quarantine = read_all(sample_hits_dir / "apache-combined_lnav-bad-request.log")

    assert quarantined(quarantine) == [(1, "no_http_request")]
    assert quarantine.loc[0, "raw"].startswith("10.112.81.15 - - [15/Feb/2013:06:00:31 +0000]")


def test_nginx_json_status_is_an_integer_and_time_is_utc(sample_hits_dir: Path) -> None:
    hits, _ = read_all(sample_hits_dir / "nginx-json_matomo-nginx_json.log")

    assert str(hits["status"].dtype) == "Int64"
    assert hits["status"].tolist() == [200, 200]
    assert hits["timestamp"].tolist() == [utc("2013-10-10 14:52:00")] * 2
    assert hits["url"].tolist()[0] == "/"  # a tracking-pixel path, reduced to the tracked page


def test_snowplow_page_view(sample_hits_dir: Path) -> None:
    hits, _ = read_all(sample_hits_dir / "snowplow-enriched_js-sdk-fixture.tsv")

    hit = hits.iloc[0]
    assert (hit["ip"], hit["visitor_id"]) == ("92.231.54.234", "bc2e92ec6c204a14")
    assert hit["url"] == "/product/index.html?id=GTM-DLRG"
    assert hit["host"] == "www.snowplowanalytics.com"
    assert hit["timestamp"] == utc("2013-11-26 00:02:05")
    assert pd.isna(hit["user_agent"]) and pd.isna(hit["status"])


def test_inspect_log_summarises_a_file(sample_hits_dir: Path) -> None:
    path = sample_hits_dir / "aws-elb-classic_matomo-elb.log"

    inspection = inspect_log(path)

    assert (inspection.format, inspection.lines, inspection.parsed, inspection.quarantined) == ("aws_elb", 2, 1, 1)
    assert inspection.reasons == {"no_http_request": 1}
    assert [error[:2] for error in inspection.first_errors] == [(3, "no_http_request")]
    as_json = json.loads(json.dumps(inspection.to_dict()))
    assert as_json["first_errors"][0]["line_no"] == 3


# --- small inline logs ------------------------------------------------------------------


def test_malformed_lines_are_quarantined_with_their_line_numbers(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "access.log",
        combined(),
        "this is not a log line",
        "",
        "# a comment",
        combined(time="31/Feb/2023:13:55:36 +0000"),
        combined(ip="proxy.example.com"),
        '203.0.113.9 - - [10/Oct/2023:13:55:36 +0000] "\\x16\\x03\\x01" 400 0 "-" "-"',
        combined(url="/last"),
    )

    hits, quarantine = read_all(path)

    assert hits["line_no"].tolist() == [1, 8]
    assert quarantined(quarantine) == [
        (2, "unparseable"),
        (5, "bad_timestamp"),
        (6, "invalid_ip"),
        (7, "invalid_url"),
    ]
    assert quarantine.loc[0, "raw"] == "this is not a log line"


def test_undecodable_bytes_are_replaced_and_the_line_still_parses(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_bytes(combined().replace("X11", "X\xff11").encode("latin-1") + b"\n")

    hits, _ = read_all(path)

    assert hits.loc[0, "user_agent"] == "Mozilla/5.0 (X\ufffd11)"


def test_windows_line_endings_are_not_part_of_the_line(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    path.write_bytes(f"{combined()}\r\n\r\n{combined(url='/second')}\r\n".encode())

    hits, quarantine = read_all(path)

    assert rows(hits, "line_no", "url", "user_agent") == [
        [1, "/pricing", "Mozilla/5.0 (X11)"],
        [3, "/second", "Mozilla/5.0 (X11)"],
    ]
    assert quarantine.empty


def test_a_line_over_64_kib_is_quarantined_and_reading_goes_on(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "access.log", combined(url="/" + "page-" * 14_000), combined(url="/after"))

    hits, quarantine = read_all(path)

    assert quarantined(quarantine) == [(1, "line_too_long")]
    assert len(quarantine.loc[0, "raw"]) == 1000
    assert rows(hits, "line_no", "url") == [[2, "/after"]]


def test_a_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    lines = [combined(url=f"/page-{number}") for number in range(2000)]
    compressed = gzip.compress("\n".join(lines).encode())
    path = tmp_path / "access.log.gz"
    path.write_bytes(compressed[: len(compressed) // 2])

    hits, quarantine = read_all(path, log_format="apache_combined")

    assert 0 < len(hits) < 2000
    assert hits["line_no"].tolist() == list(range(1, len(hits) + 1))
    assert quarantined(quarantine) == [(len(hits) + 1, "truncated_gzip")]


def test_mixed_offsets_in_one_chunk_become_utc(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "access.log",
        combined(time="10/Oct/2023:13:55:36 +0200"),
        combined(time="10/Oct/2023:13:55:36 -0530"),
    )

    hits, _ = read_all(path)

    assert hits["timestamp"].tolist() == [utc("2023-10-10 11:55:36"), utc("2023-10-10 19:25:36")]


def test_ipv6_is_canonical_and_ipv4_mapped_becomes_ipv4(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "access.log", combined(ip="2001:DB8:0:0::1"), combined(ip="::ffff:198.51.100.7"))

    hits, _ = read_all(path)

    assert hits["ip"].tolist() == ["2001:db8::1", "198.51.100.7"]


def test_absolute_request_url_gives_path_and_host(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "access.log", combined(url="https://shop.example.com:8443/cart?item=3"))

    hits, _ = read_all(path)

    assert (hits.loc[0, "url"], hits.loc[0, "host"]) == ("/cart?item=3", "shop.example.com")


def test_chunking_yields_the_same_rows_as_one_chunk(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "access.log", *(combined(url=f"/page-{number}") for number in range(5)), "garbage", combined()
    )

    chunks = list(read_hits(path, chunk_size=2))
    small_hits, small_quarantine = read_all(path, chunk_size=2)
    whole_hits, whole_quarantine = read_all(path)

    assert [chunk.lines_read for chunk in chunks] == [2, 2, 2, 1]
    pd.testing.assert_frame_equal(small_hits, whole_hits)
    pd.testing.assert_frame_equal(small_quarantine, whole_quarantine)


def test_line_numbers_and_chunks_hold_across_read_blocks(tmp_path: Path) -> None:
    lines = [combined(url=f"/page-{number}/" + "x" * 400) for number in range(6000)]
    lines[4500] = "garbage"
    path = write_lines(tmp_path / "access.log", *lines)
    assert path.stat().st_size > 2 * BLOCK_BYTES  # the file is read in several blocks

    chunks = list(read_hits(path, chunk_size=2500))
    hits, quarantine = read_all(path, chunk_size=2500)

    assert [chunk.lines_read for chunk in chunks] == [2500, 2500, 1000]
    assert quarantined(quarantine) == [(4501, "unparseable")]
    assert hits["line_no"].tolist() == [*range(1, 4501), *range(4502, 6001)]
    assert hits["url"].str.extract(r"/page-(\d+)/")[0].astype(int).tolist() == [n for n in range(6000) if n != 4500]


def test_w3c_columns_may_change_mid_file(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "u_ex231010.log",
        "#Software: Microsoft Internet Information Services 10.0",
        "#Fields: date time c-ip cs-method cs-uri-stem sc-status",
        "2023-10-10 08:00:00 203.0.113.9 GET /first 200",
        "#Fields: date time cs-uri-stem cs-uri-query c-ip cs(User-Agent) cs(Referer)",
        '2023-10-10 08:00:01 /second a=1 203.0.113.10 Mozilla/5.0+(X11) "https://example.com/a b"',
    )

    hits, _ = read_all(path)

    assert detect_format(path) == "w3c"
    assert rows(hits, "url", "ip", "line_no") == [
        ["/first", "203.0.113.9", 3],
        ["/second?a=1", "203.0.113.10", 5],
    ]
    assert hits.loc[1, "user_agent"] == "Mozilla/5.0 (X11)"
    assert hits.loc[1, "referrer"] == "https://example.com/a b"
    assert hits.loc[1, "timestamp"] == utc("2023-10-10 08:00:01")


def test_w3c_record_before_any_fields_directive_is_quarantined(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "u_ex.log", "2023-10-10 08:00:00 203.0.113.9 GET /first 200")

    _, quarantine = read_all(path, log_format="w3c")

    assert quarantined(quarantine) == [(1, "no_fields_directive")]


def test_json_forwarded_for_uses_the_left_most_public_address_when_trusted(tmp_path: Path) -> None:
    def nginx(forwarded_for: str) -> str:
        return json.dumps(
            {
                "remote_addr": "10.0.0.5",
                "time_iso8601": "2023-10-10T08:00:00+00:00",
                "request": "GET /pricing HTTP/1.1",
                "status": 200,
                "http_x_forwarded_for": forwarded_for,
            }
        )

    path = write_lines(
        tmp_path / "access.json",
        nginx("192.168.1.4, 203.0.113.7, 8.8.8.8, 1.1.1.1"),  # 203.0.113.0/24 is documentation space
        nginx("10.1.1.1, 172.16.0.3"),
    )

    trusted, _ = read_all(path, trust_forwarded_for=True)
    untrusted, _ = read_all(path)

    assert trusted["ip"].tolist() == ["8.8.8.8", "10.0.0.5"]
    assert untrusted["ip"].tolist() == ["10.0.0.5", "10.0.0.5"]
    assert trusted["method"].tolist() == ["GET", "GET"]
    assert trusted["url"].tolist() == ["/pricing", "/pricing"]


def test_caddy_json_log(tmp_path: Path) -> None:
    record = {
        "level": "info",
        "ts": 1696924800.25,
        "request": {
            "remote_ip": "10.0.0.2",
            "client_ip": "2001:db8::7",
            "method": "GET",
            "host": "www.example.com",
            "uri": "/docs?page=2",
            "headers": {"User-Agent": ["curl/8.4.0"], "X-Forwarded-For": ["2001:db8::7"]},
        },
        "status": 404,
    }
    path = write_lines(tmp_path / "caddy.log", json.dumps(record))

    hits, _ = read_all(path)

    assert detect_format(path) == "json_lines"
    hit = hits.iloc[0]
    assert (hit["ip"], hit["method"]) == ("2001:db8::7", "GET")
    assert (hit["host"], hit["url"]) == ("www.example.com", "/docs?page=2")
    assert (hit["status"], hit["user_agent"]) == (404, "curl/8.4.0")
    assert hit["timestamp"] == utc("2023-10-10 08:00:00.25")


def test_json_lines_that_are_not_objects_are_quarantined(tmp_path: Path) -> None:
    good = json.dumps({"remote_addr": "198.51.100.4", "time_iso8601": "2023-10-10T08:00:00Z", "request_uri": "/"})
    path = write_lines(tmp_path / "access.json", good, "[1, 2]", "{broken", "[" * 10_000, good)

    hits, quarantine = read_all(path)

    assert hits["line_no"].tolist() == [1, 5]
    assert quarantined(quarantine) == [(2, "unparseable"), (3, "unparseable"), (4, "unparseable")]


def test_csv_export_with_a_custom_mapping(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "export.csv",
        "When;Client;Page;Browser;Visitor",
        '10.10.2023 08:00:00;198.51.100.4;https://www.example.com/pricing?plan=pro;"Mozilla/5.0 (X11; Linux)";v-1',
        "10.10.2023 08:05:00;198.51.100.5;/about;;",
        "not;enough",
    )
    mapping = ColumnMapping(
        timestamp="When",
        ip="Client",
        url="Page",
        user_agent="Browser",
        visitor_id="Visitor",
        timestamp_format="%d.%m.%Y %H:%M:%S",
        delimiter=";",
    )

    hits, quarantine = read_all(path, column_mapping=mapping)

    assert rows(hits, "url", "host", "visitor_id", "line_no") == [
        ["/pricing?plan=pro", "www.example.com", "v-1", 2],
        ["/about", None, None, 3],
    ]
    assert hits.loc[0, "user_agent"] == "Mozilla/5.0 (X11; Linux)"
    assert hits["timestamp"].tolist() == [utc("2023-10-10 08:00:00"), utc("2023-10-10 08:05:00")]
    assert quarantined(quarantine) == [(4, "unparseable")]


def test_csv_with_canonical_headers_needs_no_mapping(tmp_path: Path) -> None:
    # Excel starts its UTF-8 CSV files with a byte order mark.
    path = write_lines(tmp_path / "export.csv", "\ufefftimestamp,ip,url", "1696924800,198.51.100.4,/pricing")

    hits, _ = read_all(path)

    assert detect_format(path) == "csv"
    assert hits.loc[0, "timestamp"] == utc("2023-10-10 08:00:00")


def test_csv_missing_a_mapped_column_names_it(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "export.csv", "time,ip,url", "2023-10-10T08:00:00Z,198.51.100.4,/")

    with pytest.raises(ColumnMappingError, match=r"export\.csv: the CSV header has no column 'timestamp'"):
        read_all(path, log_format="csv")


def test_jsonl_export_with_a_custom_mapping(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "export.jsonl",
        json.dumps({"at": 1696924800, "client": "198.51.100.4", "page": "/a", "title": "A", "sid": "s1"}),
        json.dumps({"at": "2023-10-10T10:00:00+02:00", "client": "198.51.100.5", "page": "/b"}),
        json.dumps(["not", "an", "object"]),
    )
    mapping = ColumnMapping(timestamp="at", ip="client", url="page", page_title="title", session_id="sid")

    hits, quarantine = read_all(path, column_mapping=mapping)

    assert rows(hits, "url", "page_title", "session_id") == [["/a", "A", "s1"], ["/b", None, None]]
    assert hits["timestamp"].tolist() == [utc("2023-10-10 08:00:00")] * 2
    assert quarantined(quarantine) == [(3, "unparseable")]


def test_snowplow_events_other_than_page_views_are_quarantined(tmp_path: Path) -> None:
    columns = [""] * 131
    columns[3], columns[5], columns[13], columns[35] = "2023-10-10 08:00:00", "page_ping", "198.51.100.4", "/a"
    path = write_lines(tmp_path / "enriched.tsv", "\t".join(columns))

    _, quarantine = read_all(path)

    assert quarantined(quarantine) == [(1, "not_a_page_view")]


def test_an_unknown_format_names_the_file_and_the_formats_tried(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "notes.txt", "dear diary", "today I parsed logs")

    with pytest.raises(UnknownLogFormat) as error:
        detect_format(path)

    assert str(path) in str(error.value)
    assert all(name in str(error.value) for name in LOG_FORMATS)


def test_bad_arguments_fail_at_the_call(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "access.log", combined())

    with pytest.raises(ValueError, match="unknown log format 'nginx'"):
        read_hits(path, log_format="nginx")
    with pytest.raises(ValueError, match="column_mapping applies to the csv and jsonl"):
        read_hits(path, log_format="apache_combined", column_mapping=ColumnMapping())
    with pytest.raises(ValueError, match="chunk_size"):
        read_hits(path, chunk_size=0)

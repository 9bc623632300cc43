"""Matomo's log importer test logs (../shared/peer-suites/matomo-log-analytics), read as they are.

Every web log listed in the folder's README is detected and gives every HTTP record as a
hit, with the key fields the line says. The expected values below are read off each line
by hand (times converted to UTC), not produced by the parser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from connectors.hits import detect_format, read_hits
from enrichment.scrubbing import ScrubRules

# Not web page logs, as the README says: RTMP streaming events, and a log that needs a user-written regex.
LEFT_OUT = {"amazon_cloudfront_rtmp.log", "custom_regex_custom_date.log"}
CHROME_17 = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/535.11 (KHTML, like Gecko) Chrome/17.0.963.56"
CLEARCODE_UA = "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.17"
CADDY_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0"
NS_PLAYER = "NSPlayer/10.0.0.3702 WMFSDK/10.0"  # percent-encoded in the line

# file → format and per hit: (line number, UTC time, client IP, url, status, user agent starts with)
EXPECTED: dict[str, tuple[str, list[tuple]]] = {
    "alb.log": (
        "aws_alb",
        [(1, "2020-01-01 00:55:04.127531", "1.2.3.4", "/path/index.html", 200, CHROME_17)],
    ),
    "amazon_cloudfront_web.log": (
        "cloudfront",
        [
            (
                3,
                "2014-05-23 01:13:11",
                "192.0.2.10",
                "/view/my/file.html",
                200,
                "Mozilla/5.0 (Windows; U; Windows NT 6.1;",
            )
        ],
    ),
    "caddy_json.log": (
        "json_lines",
        [
            (1, "2023-12-23 23:17:54.815560", "1.2.3.4", "/beta/", 200, CADDY_UA),
            (2, "2023-12-23 23:17:54.901119", "1.2.3.4", "/beta/assets/index-mMaLXldj.css", 200, CADDY_UA),
            (3, "2023-12-23 23:17:55.141868", "1.2.3.4", "/beta/assets/index-HIcRLzdf.js", 200, CADDY_UA),
        ],
    ),
    "common.log": ("apache_common", [(1, "2012-02-10 21:42:07", "1.2.3.4", "/", 301, None)]),
    "common.log.bz2": ("apache_common", [(1, "2012-02-19 23:42:07", "1.2.3.7", "/", 200, None)]),
    "common.log.gz": ("apache_common", [(1, "2012-02-10 23:42:07", "1.2.3.5", "/form", 200, None)]),
    "common_complete.log": ("apache_vhost_combined", [(1, "2012-02-10 21:42:07", "1.2.3.4", "/", 301, CHROME_17)]),
    # The path is Big5 text; logs are read as UTF-8, so its characters are replaced (url None:
    # see test_a_path_in_another_encoding_keeps_its_line).
    "common_encoding_big5.log": (
        "apache_vhost_combined",
        [(1, "2012-02-10 21:42:07", "1.2.3.4", None, 301, CHROME_17)],
    ),
    "common_vhost.log": ("apache_vhost_common", [(1, "2012-02-10 21:42:07", "1.2.3.4", "/", 301, None)]),
    "elb.log": ("aws_elb", [(1, "2015-05-13 23:39:43.945958", "1.2.3.4", "/path/index.html", 200, CHROME_17)]),
    "gandi.log": (
        "gandi",
        [
            (1, "2012-02-10 21:42:07", "1.2.3.4", "/", 301, CHROME_17),
            (2, "2012-02-10 21:42:07", "125.125.125.125", "/", 200, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.13"),
        ],
    ),
    # HAProxy writes local time without a zone: read as UTC unless the source says otherwise.
    "haproxy.log": ("haproxy", [(1, "2018-09-25 06:05:27.584", "4.3.2.1", "/user/", 200, None)]),
    "icecast2.log": ("apache_combined", [(1, "2012-02-10 21:42:07", "1.2.3.4", "/", 301, CHROME_17)]),
    "iis.log": (
        "w3c",
        [(5, "2012-04-01 00:00:13", "1.2.3.4", "/foo/bar?topCat1=divinity&submit=Search", 200, "Mozilla/5.0 (X11; U;")],
    ),
    # date-local/time-local with milliseconds, quoted values; line 9 names no client ("-").
    "iis_custom.log": (
        "w3c",
        [
            (8, "2012-08-15 17:00:00.363", "70.95.0.0", "/Products/theProduct", 200, "Mozilla/5.0 (Linux; Android"),
            (9, "2012-08-15 17:00:00.660", None, "/Topic/hw43061", 301, "Mozilla/5.0 (Macintosh;"),
            (10, "2012-08-15 17:00:00.675", "173.5.0.0", "/hello/world/6,681965", 404, "Mozilla/5.0 (Macintosh;"),
        ],
    ),
    # Host and path in cs-uri; the second request's status is logged empty.
    "incapsula_w3c.log": (
        "w3c",
        [
            (5, "2017-06-28 07:26:35", "123.123.123.123", "/page.php?variable=test", 200, "Mozilla/5.0 (Windows NT"),
            (6, "2017-06-26 18:21:17", "125.125.125.125", "/rss/news", None, "Mozilla/5.0 (Macintosh;"),
        ],
    ),
    # Tracking-pixel requests: the hit is the tracked page.
    "logs_to_tests.log": (
        "apache_combined",
        [
            (1, "2013-02-05 07:01:26", "203.38.78.246", "/", 200, CLEARCODE_UA),
            (
                2,
                "2013-02-05 07:01:41",
                "203.38.78.246",
                "/case/adviserbrief-track-your-investments-and-plan-financial-future/",
                200,
                CLEARCODE_UA,
            ),
            (3, "2013-02-05 07:01:46", "203.38.78.246", "/case/atl-apps-mobile-android-ios-games/", 200, CLEARCODE_UA),
            (6, "2013-10-28 23:48:46", "95.81.66.139", "/", 403, None),
        ],
    ),
    "ncsa_extended.log": ("apache_combined", [(1, "2012-02-10 21:42:07", "1.2.3.4", "/", 301, CHROME_17)]),
    "netscaler.log": (
        "w3c",
        [
            (
                5,
                "2012-08-16 11:55:13",
                "172.20.1.0",
                "/Citrix/XenApp/Wan/auth/login.jsp",
                302,
                "Mozilla/4.0 (compatible;",
            )
        ],
    ),
    "nginx_json.log": (
        "json_lines",
        [
            (1, "2013-10-10 14:52:00", "1.2.3.4", "/", 200, CLEARCODE_UA),
            (
                2,
                "2013-10-10 14:52:00",
                "1.2.3.4",
                "/case/adviserbrief-track-your-investments-and-plan-financial-future/",
                200,
                CLEARCODE_UA,
            ),
        ],
    ),
    "ovh.log": ("ovh", [(1, "2012-02-10 21:42:07", "1.2.3.4", "/", 301, CHROME_17)]),
    "s3.log": ("s3", [(1, "2012-02-10 21:42:07", "1.2.3.4", "/index", 200, CHROME_17)]),
    "shoutcast.log": ("w3c", [(4, "2015-12-07 10:37:05", "1.2.3.4", "/stream?title=UKR%20Nights", 200, NS_PLAYER)]),
    "splitted_date_and_time.log": (
        "w3c",
        [(2, "2015-12-07 10:37:05", "1.2.3.4", "/stream?title=UKR%20Nights", 200, NS_PLAYER)],
    ),
    "static_ignores.log": (
        "apache_vhost_combined",
        [
            (1, "2012-02-10 21:41:07", "1.2.3.4", "/", 200, "Mozilla/5.0 (X11; Linux x86_64)"),
            (2, "2012-02-10 21:42:07", "2.2.3.4", "/robots.txt", 200, "Mozilla/5.0 (X11; Linux x86_64)"),
            (3, "2012-02-10 21:43:07", "3.2.3.4", "/image.png", 200, "Mozilla/5.0 (X11; Linux x86_64)"),
            (4, "2012-02-10 21:44:07", "4.2.3.4", "/font.woff2", 200, "Mozilla/5.0 (X11; Linux x86_64)"),
        ],
    ),
    "traefik_json.log": (
        "json_lines",
        [(1, "2023-08-11 11:39:21.773360", "1.2.3.4", "/my/app/auth?id=1234&user=dude", 200, "Prometheus/2.40.5")],
    ),
}
HOSTS = {  # where the log names the site
    "common_vhost.log": "www.example.com",
    "gandi.log": "www.example.com",
    "ovh.log": "www.example.com",
    "s3.log": "www.example.com",
    "incapsula_w3c.log": "www.example.com",
    "traefik_json.log": "localhost",
}


def readme_record_counts(readme: Path) -> dict[str, int]:
    """The README's table: file → HTTP records ("2 (1 HTTP)" counts 1; "a.log, .gz" names two files)."""
    counts = {}
    for row in re.finditer(r"^\| ([^|]+?) \| ([^|]+?) \|", readme.read_text(encoding="utf-8"), re.MULTILINE):
        names, records = row.groups()
        number = re.search(r"(\d+) HTTP", records) or re.match(r"\d+", records)
        if number is None:
            continue  # the header and its rule
        first, *suffixes = [name.strip() for name in names.split(",")]
        for name in [first, *(first + suffix for suffix in suffixes)]:
            counts[name] = int(number.group(1) if number.groups() else number.group(0))
    return counts


def read_all(path: Path) -> pd.DataFrame:
    # Every query parameter kept: the suite checks what each line says (scrubbing has its own tests).
    return pd.concat([chunk.hits for chunk in read_hits(path, scrub_rules=ScrubRules(("*",)))], ignore_index=True)


def test_the_readme_lists_every_web_log_in_the_folder(matomo_logs_dir: Path) -> None:
    logs = {path.name for path in matomo_logs_dir.iterdir()} - {"README.md", "LICENSE.txt"}
    counts = readme_record_counts(matomo_logs_dir / "README.md")

    assert set(counts) == logs - LEFT_OUT == set(EXPECTED)
    assert len(counts) == 26
    assert all(name in (matomo_logs_dir / "README.md").read_text(encoding="utf-8") for name in LEFT_OUT)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_http_record_is_a_hit_with_what_its_line_says(matomo_logs_dir: Path, name: str) -> None:
    path = matomo_logs_dir / name
    log_format, expected = EXPECTED[name]

    hits = read_all(path)

    assert detect_format(path) == log_format
    assert len(hits) == readme_record_counts(matomo_logs_dir / "README.md")[name] == len(expected)
    for hit, (line_no, utc, ip, url, status, user_agent) in zip(hits.itertuples(), expected, strict=True):
        assert hit.line_no == line_no
        assert hit.timestamp == pd.Timestamp(utc, tz="UTC")
        assert _value(hit.ip) == ip
        assert url is None or hit.url == url
        assert _value(hit.status) == status
        if user_agent is None:
            assert _value(hit.user_agent) is None
        else:
            assert hit.user_agent.startswith(user_agent)
    if name in HOSTS:
        assert set(hits["host"]) == {HOSTS[name]}


def test_a_path_in_another_encoding_keeps_its_line(matomo_logs_dir: Path) -> None:
    hits = read_all(matomo_logs_dir / "common_encoding_big5.log")

    assert hits.loc[0, "url"].startswith("/") and "\ufffd" in hits.loc[0, "url"]


def test_iis_advanced_logging_local_time_is_read_in_the_sources_timezone(matomo_logs_dir: Path) -> None:
    path = matomo_logs_dir / "iis_custom.log"

    chunks = list(read_hits(path, timezone="America/Los_Angeles"))  # PDT in August: UTC-7

    assert chunks[0].hits["timestamp"].tolist() == [
        pd.Timestamp("2012-08-16 00:00:00.363", tz="UTC"),
        pd.Timestamp("2012-08-16 00:00:00.660", tz="UTC"),
        pd.Timestamp("2012-08-16 00:00:00.675", tz="UTC"),
    ]
    assert chunks[0].local_times == 3
    assert list(read_hits(matomo_logs_dir / "iis.log", timezone="America/Los_Angeles"))[0].local_times == 0


def _value(value: object) -> object:
    return None if pd.isna(value) else value

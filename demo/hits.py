"""Six weeks of sample traffic for the demo, as an nginx/Apache ``combined`` access log.

The story, told over 42 "story days" (stretched or squeezed to ``days``):

- target accounts read their way through the funnel: Northwind goes from blog posts to
  product pages to pricing with a surge in the last two weeks, Contoso evaluates steadily,
  Северсталь-Инфоком reads the Russian site up to /ru/pricing, Fabrikam checks security
  from week 3, Globex goes quiet after week 3, Initech appears in the last ten days and
  races to pricing, Tyrell skims the blog, Umbrella Health never comes;
- prospects (identified companies not on the list) read a little;
- the bulk is background: people at home and on mobile networks, VPN users, job seekers,
  customers in the app, our own office, scripts on cloud hosts, an uptime monitor,
  Googlebot, and a scraper with a browser user agent that fetches ~100 pages a minute;
- about 0.5% of lines are broken (truncated, garbage, impossible timestamps).

Addresses come from ``demo/networks.yaml``, so they resolve in the demo MaxMind database;
URLs (``demo.site``) match ``config/taxonomy.yaml`` except a few pages left untagged on purpose.
Who visits and how often is in ``demo.visitors``; the log line format in ``demo.combined_log``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from demo.combined_log import Hit, format_hit
from demo.mmdb import DemoNetwork, load_demo_networks
from demo.site import ASSETS, CRAWLED, FAVICON, SITE, response
from demo.visitors import (
    AUDIENCES,
    DESKTOP,
    ENTRIES,
    GOOGLEBOT,
    GOOGLEBOT_HITS_PER_DAY,
    JOURNEYS,
    SCRAPER_PAGES,
    SCRAPER_STORY_DAYS,
    SCRAPER_USER_AGENT,
    UPTIME_CHECKS_PER_DAY,
    UPTIME_MONITOR,
    Audience,
    Journey,
)

STORY_DAYS = 42
MALFORMED_SHARE = 0.005

# The visitor's local time by country (standard time is close enough for a demo).
UTC_OFFSET_HOURS = {"US": -5, "GB": 0, "DE": 1, "CH": 1, "RU": 3}
# The site runs behind servers in several zones, so the log carries several offsets.
SERVER_UTC_OFFSETS_MINUTES = (0, 60, 180, -300)
COMPANY_WEEKEND_FACTOR = 0.1  # companies barely read at weekends
# Visits start before this (half an hour before midnight), so every hit falls on the day it was generated for.
LATEST_VISIT_START = 86_400 - 1_800
_CLOCK = re.compile(r":\d\d:\d\d:\d\d ")


class Person(NamedTuple):
    ip: str
    user_agent: str


def write_sample_hits(
    path: Path, *, seed: int = 7, start: date = date(2026, 10, 5), days: int = 42, scale: float = 1.0
) -> Path:
    """Write the demo access log to ``path`` and return it.

    The same arguments always give the same bytes. ``scale`` multiplies the background
    traffic (the accounts' journeys stay as they are): about 6,000 lines at 1.0.
    """
    traffic = SampleTraffic(random.Random(seed), load_demo_networks(), start=start, days=days, scale=scale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as log:
        for day_index in range(days):
            hits = sorted(traffic.day(day_index), key=attrgetter("time"))
            log.writelines(traffic.with_mishaps(map(format_hit, hits)))
    return path


class SampleTraffic:
    """The demo's hits, day by day, from one seeded random source (call ``day`` in order)."""

    def __init__(
        self, rng: random.Random, networks: Iterable[DemoNetwork], *, start: date, days: int, scale: float
    ) -> None:
        self.rng = rng
        self.start = start
        self.days = days
        self.scale = scale
        self.scraper_days = {story_day * days // STORY_DAYS for story_day in SCRAPER_STORY_DAYS}
        self.networks = {network.organization: network for network in networks}
        self.people = {journey.organization: self._staff(journey) for journey in JOURNEYS}
        self.monitor_ip = self.address("Amazon.com, Inc.")

    def day(self, day_index: int) -> list[Hit]:
        """Every hit of the day ``day_index`` days after the start, unsorted, all within that UTC day."""
        day = self.start + timedelta(days=day_index)
        midnight = (day - date(1970, 1, 1)).days * 86_400
        story_day = day_index * STORY_DAYS // self.days
        workday = day.weekday() < 5
        hits: list[Hit] = []
        for journey in JOURNEYS:
            hits += self._company_visits(journey, story_day, workday, midnight)
        for audience in AUDIENCES:
            hits += self._anonymous_visits(audience, workday, midnight)
        hits += self._googlebot(midnight)
        hits += self._uptime_checks(midnight)
        if day_index in self.scraper_days:
            hits += self._scraper(midnight)
        return hits

    def with_mishaps(self, lines: Iterable[str]) -> Iterator[str]:
        """The lines, about ``MALFORMED_SHARE`` of them broken the ways real logs break."""
        for line in lines:
            if self.rng.random() >= MALFORMED_SHARE:
                yield line
                continue
            mishap = self.rng.random()
            if mishap < 0.5:  # the writer died mid-line (disk full, rotation, crash)
                yield line[: self.rng.randrange(len(line) // 3, len(line) - 2)] + "\n"
            elif mishap < 0.8:  # bytes that were never a log line
                yield self._garbage() + "\n"
                yield line
            else:  # a clock that cannot exist
                yield _CLOCK.sub(":25:61:61 ", line, count=1)

    def address(self, organization: str) -> str:
        """A host address in the organization's network."""
        network = self.networks[organization].network
        return str(network[self.rng.randrange(1, network.num_addresses - 1)])

    def _staff(self, journey: Journey) -> list[Person]:
        return [Person(self.address(journey.organization), self.rng.choice(DESKTOP)) for _ in range(journey.people)]

    def _company_visits(self, journey: Journey, story_day: int, workday: bool, midnight: int) -> list[Hit]:
        country = self.networks[journey.organization].country
        hits: list[Hit] = []
        for phase in journey.phases:
            if not phase.days[0] <= story_day < phase.days[1]:
                continue
            expected = phase.visits_per_workday * (1.0 if workday else COMPANY_WEEKEND_FACTOR)
            for _ in range(self._occurrences(expected)):
                start = midnight + self._start_second(country, (8, 18))
                pages = self._pages(phase.pages, phase.pages_per_visit)
                hits += self._visit(
                    start,
                    self.rng.choice(self.people[journey.organization]),
                    pages,
                    pause=phase.seconds_between_pages,
                    browser=True,
                )
        return hits

    def _anonymous_visits(self, audience: Audience, workday: bool, midnight: int) -> list[Hit]:
        expected = audience.visits_per_day * self.scale * (1.0 if workday else audience.weekend_factor)
        hits: list[Hit] = []
        for _ in range(self._occurrences(expected)):
            organization = self.rng.choice(audience.organizations)
            person = Person(self.address(organization), self.rng.choice(audience.user_agents))
            start = midnight + self._start_second(self.networks[organization].country, audience.local_hours)
            pages = self._pages(audience.pages, audience.pages_per_visit)
            hits += self._visit(start, person, pages, pause=(15, 200), browser=audience.browser)
        return hits

    def _visit(
        self, start: int, person: Person, pages: Sequence[str], *, pause: tuple[int, int], browser: bool
    ) -> list[Hit]:
        """One visit: pages a pause apart, each referred by the one before; a browser loads assets too."""
        rng = self.rng
        offset = rng.choice(SERVER_UTC_OFFSETS_MINUTES)
        protocol = "HTTP/2.0" if browser else "HTTP/1.1"
        landing, referrer = self._landing(pages[0]) if browser else (pages[0], "-")
        hits = [
            Hit(
                start,
                person.ip,
                "GET",
                landing,
                protocol,
                *response(pages[0], rng),
                referrer,
                person.user_agent,
                offset,
            )
        ]
        if browser and rng.random() < 0.4:  # the others have them cached
            hits += self._assets(start, person, SITE + landing, protocol, offset)
        time = start
        for previous, url in zip([landing, *pages[1:]], pages[1:]):
            time += rng.randint(*pause)
            referrer = SITE + previous if browser else "-"
            hits.append(
                Hit(time, person.ip, "GET", url, protocol, *response(url, rng), referrer, person.user_agent, offset)
            )
        return hits

    def _landing(self, url: str) -> tuple[str, str]:
        """The first page's URL (with campaign parameters if a campaign brought the visitor) and referrer."""
        if url.startswith(("/login", "/app")):  # customers come straight to the app
            return url, "-"
        _, referrer, campaign = self.rng.choices(ENTRIES, weights=[entry[0] for entry in ENTRIES])[0]
        if url.startswith("/ru") and referrer == "https://www.google.com/":
            referrer = "https://yandex.ru/"  # Russian readers mostly search with Yandex
        return (f"{url}?{campaign}" if campaign else url), referrer

    def _assets(self, time: int, person: Person, page: str, protocol: str, offset: int) -> list[Hit]:
        assets = ASSETS + ((FAVICON,) if self.rng.random() < 0.3 else ())
        return [
            Hit(time + 1, person.ip, "GET", asset, protocol, 200, size, page, person.user_agent, offset)
            for asset, size in assets
        ]

    def _googlebot(self, midnight: int) -> list[Hit]:
        rng = self.rng
        hits: list[Hit] = []
        for _ in range(self._occurrences(GOOGLEBOT_HITS_PER_DAY * self.scale)):
            url = rng.choice(CRAWLED)
            hits.append(
                Hit(
                    midnight + rng.randrange(86_400),
                    self.address("Google LLC"),
                    "GET",
                    url,
                    "HTTP/1.1",
                    *response(url, rng),
                    "-",
                    rng.choice(GOOGLEBOT),
                    rng.choice(SERVER_UTC_OFFSETS_MINUTES),
                )
            )
        return hits

    def _uptime_checks(self, midnight: int) -> list[Hit]:
        return [
            Hit(
                midnight + self.rng.randrange(86_400),
                self.monitor_ip,
                "HEAD",
                "/",
                "HTTP/1.1",
                200,
                0,
                "-",
                UPTIME_MONITOR,
                0,
            )
            for _ in range(self._occurrences(UPTIME_CHECKS_PER_DAY * self.scale))
        ]

    def _scraper(self, midnight: int) -> list[Hit]:
        """Bursts of ~100 pages a minute from one cloud address posing as Chrome."""
        rng = self.rng
        hits: list[Hit] = []
        for _ in range(max(1, self._occurrences(self.scale))):
            ip, start = self.address("DigitalOcean, LLC"), midnight + rng.randrange(LATEST_VISIT_START)
            per_minute, minutes = rng.randint(90, 110), rng.randint(2, 4)
            for n in range(per_minute * minutes):
                url = SCRAPER_PAGES[n % len(SCRAPER_PAGES)]
                hits.append(
                    Hit(
                        start + n * 60 // per_minute,
                        ip,
                        "GET",
                        url,
                        "HTTP/1.1",
                        *response(url, rng),
                        "-",
                        SCRAPER_USER_AGENT,
                        0,
                    )
                )
        return hits

    def _start_second(self, country: str | None, local_hours: tuple[int, int]) -> int:
        """A visit start (seconds after UTC midnight) within local hours of the visitor's country."""
        local = self.rng.randrange(local_hours[0] * 3_600, local_hours[1] * 3_600)
        utc = (local - UTC_OFFSET_HOURS.get(country or "", 0) * 3_600) % 86_400
        # A visit that would start in the day's last half hour starts in its first instead.
        return utc % LATEST_VISIT_START

    def _pages(self, pool: Sequence[str], count: tuple[int, int]) -> list[str]:
        return self.rng.sample(pool, min(self.rng.randint(*count), len(pool)))

    def _occurrences(self, expected: float) -> int:
        """A whole number of events averaging ``expected``."""
        whole = int(expected)
        return whole + (self.rng.random() < expected - whole)

    def _garbage(self) -> str:
        characters = "abcdefghijklmnopqrstuvwxyz0123456789{}[]<>|#%&*~ "
        return "".join(self.rng.choices(characters, k=self.rng.randint(8, 120)))

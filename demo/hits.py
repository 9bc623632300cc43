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
URLs match ``config/taxonomy.yaml`` except a few pages left untagged on purpose.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from demo.mmdb import DemoNetwork, load_demo_networks

SITE = "https://www.acme-routes.example"
STORY_DAYS = 42
MALFORMED_SHARE = 0.005

# --- the site ----------------------------------------------------------------------

ROUTE_BLOG = (
    "/blog/last-mile-delivery-costs",
    "/blog/route-planning-mistakes",
    "/blog/delivery-windows-customers-want",
    "/whitepapers/state-of-last-mile-2026",
    "/guides/route-optimization-101",
)
FLEET_BLOG = ("/blog/fleet-fuel-savings", "/blog/telematics-buyers-guide")
WAREHOUSE_BLOG = ("/blog/warehouse-slotting-basics", "/blog/inventory-accuracy-kpis")
GENERAL = ("/", "/blog/", "/blog/logistics-trends-2027")
ROUTE_PRODUCT = (
    "/product/route-optimizer",
    "/case-studies/nordic-freight",
    "/integrations/",
    "/integrations/sap",
    "/compare/routific-alternative",
    "/webinars/route-optimization-live",
)
DEVELOPER = ("/docs/api", "/docs/api/authentication", "/docs/api/webhooks", "/docs/getting-started")
WAREHOUSE_PRODUCT = ("/product/warehouse-insights", "/case-studies/metro-grocer", "/integrations/sap")
SECURITY = ("/security", "/compliance/gdpr", "/trust/soc2", "/case-studies/alpine-bank-logistics")
DECISION = ("/pricing", "/request-demo", "/contact-sales")
RU_AWARENESS = (
    "/ru/",
    "/ru/blog/fleet-telematics-basics",
    "/ru/blog/fuel-cost-control",
    "/ru/blog/%D0%BB%D0%BE%D0%B3%D0%B8%D1%81%D1%82%D0%B8%D0%BA%D0%B0-2027",  # /ru/blog/логистика-2027
)
RU_CONSIDERATION = ("/ru/product/fleet-tracker", "/ru/case-studies/severtrans", "/ru/blog/fleet-telematics-basics")
CAREERS = ("/careers/", "/careers/senior-data-engineer", "/careers/account-executive-dach", "/jobs/route-analyst")
APP = (
    "/login",
    "/app/dashboard",
    "/app/routes/today",
    "/app/reports/weekly",
    "/app/fleet/live",
    "/help/importing-orders",
)
# Real pages no taxonomy rule covers: they show up in the "untagged pages" table.
UNTAGGED = ("/about", "/partners", "/events/transport-logistic-2027", "/legal/privacy")
# Dead links and typos: the site answers 404.
MISSING = ("/blog/2019/route-planning-tips", "/pricng", "/product/route-optimiser-old")
SCANNER_PROBES = ("/wp-login.php", "/.env", "/xmlrpc.php", "/.git/config", "/phpmyadmin/")

MARKETING = ROUTE_BLOG + FLEET_BLOG + WAREHOUSE_BLOG + GENERAL + ROUTE_PRODUCT + WAREHOUSE_PRODUCT + SECURITY + DECISION
EVERYTHING = MARKETING + DEVELOPER + RU_AWARENESS + RU_CONSIDERATION + ("/ru/pricing",) + CAREERS + UNTAGGED
CRAWLED = EVERYTHING + ("/robots.txt", "/sitemap.xml")

ASSETS = (("/static/site.css", 18_432), ("/static/app.js", 96_120), ("/img/logo.png", 7_310))
FAVICON = ("/favicon.ico", 1_150)

# --- who visits --------------------------------------------------------------------

DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36",
)
MOBILE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
)
SCRIPTS = ("python-requests/2.32.3", "curl/8.5.0", "Go-http-client/1.1")
GOOGLEBOT = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.6723.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)
UPTIME_MONITOR = "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)"

# How visitors arrive on their first page: (weight, referrer, campaign parameters).
ENTRIES = (
    (35, "-", ""),
    (30, "https://www.google.com/", ""),
    (8, "https://www.bing.com/", ""),
    (15, "https://www.linkedin.com/", "utm_source=linkedin&utm_medium=social&utm_campaign=route-planning-2026"),
    (12, "-", "utm_source=newsletter&utm_medium=email&utm_campaign=october-digest"),
)


@dataclass(frozen=True)
class Phase:
    """A stretch of a company's journey: when, how often its people come, and what they read."""

    days: tuple[int, int]  # story days, first included, last excluded
    visits_per_workday: float
    pages: tuple[str, ...]
    pages_per_visit: tuple[int, int] = (1, 4)
    seconds_between_pages: tuple[int, int] = (20, 180)


@dataclass(frozen=True)
class Journey:
    """The people of one company network and the phases of their reading."""

    organization: str  # as in networks.yaml
    people: int
    phases: tuple[Phase, ...]


@dataclass(frozen=True)
class Audience:
    """Anonymous visitors of one kind: each visit from a fresh address in one of the networks."""

    organizations: tuple[str, ...]
    visits_per_day: float  # at scale 1.0
    pages: tuple[str, ...]
    user_agents: tuple[str, ...]
    pages_per_visit: tuple[int, int] = (1, 3)
    local_hours: tuple[int, int] = (7, 23)
    weekend_factor: float = 1.0
    browser: bool = True


JOURNEYS = (
    Journey(
        "Northwind Logistics, Inc.",
        people=4,
        phases=(
            Phase((0, 14), 0.5, ROUTE_BLOG, (1, 3)),
            Phase((14, 28), 0.8, ROUTE_PRODUCT, (2, 5)),
            Phase((28, 42), 3.0, ("/pricing", "/pricing", "/request-demo", *ROUTE_PRODUCT), (3, 8)),
        ),
    ),
    Journey(
        "Contoso Manufacturing GmbH",
        people=3,
        phases=(
            Phase(
                (0, 42), 0.8, ("/integrations/sap", "/integrations/", "/product/warehouse-insights") + DEVELOPER, (2, 5)
            ),
        ),
    ),
    Journey(
        "ООО «Северсталь-Инфоком»",
        people=3,
        phases=(
            Phase((0, 14), 0.5, RU_AWARENESS, (1, 3)),
            Phase((14, 28), 0.7, RU_CONSIDERATION, (2, 4)),
            Phase((28, 42), 1.2, ("/ru/pricing", "/ru/pricing") + RU_CONSIDERATION, (2, 5)),
        ),
    ),
    Journey(
        "Fabrikam Banking Services",
        people=2,
        phases=(Phase((14, 42), 0.6, SECURITY + ("/case-studies/nordic-freight",), (1, 4)),),
    ),
    # Globex, matched by its IP range: its office sits in an Equinix network.
    Journey(
        "Equinix Managed Office Services",
        people=3,
        phases=(Phase((0, 21), 0.9, ROUTE_BLOG[:2] + ROUTE_PRODUCT + ("/product/fleet-tracker",), (1, 5)),),
    ),
    Journey(
        "Initech Solutions Ltd.",
        people=4,
        phases=(
            Phase((32, 35), 2.0, ROUTE_BLOG + FLEET_BLOG, (3, 6), (10, 45)),
            Phase((35, 38), 3.0, ROUTE_PRODUCT + ("/product/fleet-tracker",), (4, 8), (10, 45)),
            Phase(
                (38, 42),
                3.0,
                (*DECISION, "/pricing", "/product/route-optimizer", "/case-studies/nordic-freight"),
                (4, 8),
                (10, 45),
            ),
        ),
    ),
    Journey("Tyrell Corp.", people=2, phases=(Phase((0, 42), 0.3, ROUTE_BLOG + FLEET_BLOG, (1, 2)),)),
    # Prospects: identified companies that are not target accounts.
    Journey("Wayne Enterprises", people=2, phases=(Phase((0, 42), 0.4, ROUTE_BLOG + ROUTE_PRODUCT[:2], (1, 4)),)),
    Journey("Globochem AG", people=2, phases=(Phase((7, 42), 0.3, WAREHOUSE_BLOG + WAREHOUSE_PRODUCT, (1, 4)),)),
    Journey(
        "АО «Балтийский Терминал»", people=2, phases=(Phase((0, 42), 0.3, RU_AWARENESS + RU_CONSIDERATION[:1], (1, 3)),)
    ),
)

RESIDENTIAL_EN = ("Comcast Cable Communications, LLC", "Deutsche Telekom AG", "Vodafone GmbH")
AUDIENCES = (
    Audience(
        RESIDENTIAL_EN,
        8.0,
        (*GENERAL, *ROUTE_BLOG, *FLEET_BLOG, *WAREHOUSE_BLOG, "/pricing", *UNTAGGED, *MISSING),
        DESKTOP,
    ),
    Audience(("Rostelecom",), 3.0, RU_AWARENESS + ("/ru/pricing",), DESKTOP),
    Audience(("T-Mobile USA, Inc.",), 4.0, GENERAL + ROUTE_BLOG + ("/pricing",), MOBILE, (1, 2)),
    Audience(("MTS PJSC",), 2.0, RU_AWARENESS, MOBILE, (1, 2)),
    Audience(("Proton AG",), 1.0, MARKETING, DESKTOP),
    Audience(RESIDENTIAL_EN + ("MTS PJSC",), 1.0, CAREERS, DESKTOP + MOBILE, (1, 4)),
    # Customers in the app: excluded from intent, but their hits are real traffic.
    Audience(
        RESIDENTIAL_EN + ("T-Mobile USA, Inc.",),
        2.0,
        APP,
        DESKTOP + MOBILE,
        (2, 5),
        local_hours=(7, 20),
        weekend_factor=0.3,
    ),
    # Our own office reads everything; cleaning drops it.
    Audience(("Acme Route Analytics",), 2.0, EVERYTHING, DESKTOP, (2, 6), local_hours=(8, 19), weekend_factor=0.1),
    # Scripts on cloud hosts: feed readers, link checkers, vulnerability scanners.
    Audience(
        ("Amazon.com, Inc.", "DigitalOcean, LLC"),
        1.0,
        GENERAL + ("/pricing",) + SCANNER_PROBES,
        SCRIPTS,
        local_hours=(0, 24),
        browser=False,
    ),
)
GOOGLEBOT_HITS_PER_DAY = 12.0
UPTIME_CHECKS_PER_DAY = 6.0
SCRAPER_STORY_DAYS = (9, 23, 37)  # one scraping spree in each two-week report window
SCRAPER_PAGES = MARKETING + tuple(f"/blog/page/{n}" for n in range(2, 30))
SCRAPER_USER_AGENT = DESKTOP[0]  # an ordinary Chrome on Windows

# The visitor's local time by country (standard time is close enough for a demo).
UTC_OFFSET_HOURS = {"US": -5, "GB": 0, "DE": 1, "CH": 1, "RU": 3}
# The site runs behind servers in several zones, so the log carries several offsets.
SERVER_UTC_OFFSETS_MINUTES = (0, 60, 180, -300)
COMPANY_WEEKEND_FACTOR = 0.1  # companies barely read at weekends
# Visits start before this (half an hour before midnight), so every hit falls on the day it was generated for.
LATEST_VISIT_START = 86_400 - 1_800
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CLOCK = re.compile(r":\d\d:\d\d:\d\d ")


class Hit(NamedTuple):
    """One log line before formatting; ``time`` is seconds since the epoch (UTC)."""

    time: int
    ip: str
    method: str
    url: str
    protocol: str
    status: int
    size: int
    referrer: str
    user_agent: str
    server_offset_minutes: int


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
                *_response(pages[0], rng),
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
                Hit(time, person.ip, "GET", url, protocol, *_response(url, rng), referrer, person.user_agent, offset)
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
                    *_response(url, rng),
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
                        *_response(url, rng),
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


def _response(url: str, rng: random.Random) -> tuple[int, int]:
    """Status and body size the site answers with."""
    if url in MISSING or url in SCANNER_PROBES:
        return 404, 4_120
    return 200, rng.randint(9_000, 64_000)


def format_hit(hit: Hit) -> str:
    """The hit as nginx's default ``combined`` format writes it."""
    return (
        f'{hit.ip} - - [{_clf_time(hit.time, hit.server_offset_minutes)}] "{hit.method} {hit.url} {hit.protocol}" '
        f'{hit.status} {hit.size} "{hit.referrer}" "{hit.user_agent}"\n'
    )


def _clf_time(utc_seconds: int, offset_minutes: int) -> str:
    """``05/Oct/2026:14:03:07 +0100``: local time of a server ``offset_minutes`` east of UTC."""
    day_number, second_of_day = divmod(utc_seconds + offset_minutes * 60, 86_400)
    hours, rest = divmod(second_of_day, 3_600)
    offset_hours, offset_rest = divmod(abs(offset_minutes), 60)
    sign = "+" if offset_minutes >= 0 else "-"
    return f"{_clf_date(day_number)}:{hours:02d}:{rest // 60:02d}:{rest % 60:02d} {sign}{offset_hours:02d}{offset_rest:02d}"


@cache
def _clf_date(day_number: int) -> str:
    day = date(1970, 1, 1) + timedelta(days=day_number)
    return f"{day.day:02d}/{MONTHS[day.month - 1]}/{day.year}"

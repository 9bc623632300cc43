"""Who visits the demo site: browsers and bots, how they arrive, and the companies' and anonymous audiences' habits."""

from __future__ import annotations

from dataclasses import dataclass

from demo.site import (
    APP,
    CAREERS,
    DECISION,
    DEVELOPER,
    EVERYTHING,
    FLEET_BLOG,
    GENERAL,
    MARKETING,
    MISSING,
    ROUTE_BLOG,
    ROUTE_PRODUCT,
    RU_AWARENESS,
    RU_CONSIDERATION,
    SCANNER_PROBES,
    SECURITY,
    UNTAGGED,
    WAREHOUSE_BLOG,
    WAREHOUSE_PRODUCT,
)

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

"""The demo site: its URLs by section, its assets, and what it answers."""

from __future__ import annotations

import random

SITE = "https://www.acme-routes.example"

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


def response(url: str, rng: random.Random) -> tuple[int, int]:
    """Status and body size the site answers with."""
    if url in MISSING or url in SCANNER_PROBES:
        return 404, 4_120
    return 200, rng.randint(9_000, 64_000)

"""What the benchmark's visitors request: demo site URLs (Zipf-ranked), static files, statuses, referrers, user agents."""

from __future__ import annotations

import numpy as np

from bench.sampling import weighted_choice, zipf_cumulative
from demo.site import (
    APP,
    ASSETS,
    CAREERS,
    DEVELOPER,
    FAVICON,
    MARKETING,
    MISSING,
    RU_AWARENESS,
    RU_CONSIDERATION,
    SCANNER_PROBES,
    SITE,
    UNTAGGED,
)
from demo.visitors import DESKTOP, GOOGLEBOT, MOBILE, SCRIPTS, UPTIME_MONITOR

STATIC_SHARE = 0.25  # of human hits: scripts, styles, images
CAMPAIGN_SHARE = 0.05  # of human page hits: ?utm_... on the URL
PAGE_ZIPF = 1.1

BOT_USER_AGENTS = (
    *GOOGLEBOT,
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
    "Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    UPTIME_MONITOR,
    *SCRIPTS,
    "Wget/1.21.4",
    "Apache-HttpClient/4.5.14 (Java/17.0.9)",
)
_STATIC = (
    *(asset for asset, _ in ASSETS),
    FAVICON[0],
    "/static/fonts/inter-var.woff2",
    "/img/hero-routes.webp",
    "/static/vendor.js",
)
_REFERRERS = (
    "-",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://www.linkedin.com/",
    "https://yandex.ru/",
)
_CAMPAIGNS = (
    "?utm_source=linkedin&utm_medium=social&utm_campaign=route-planning-2026",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=october-digest",
    "?utm_source=google&utm_medium=cpc&utm_campaign=brand",
    "?gclid=Cj0KCQjw",
)
_BLOG_TOPICS = ("route", "last-mile", "delivery", "fleet", "telematics", "fuel", "warehouse", "inventory", "logistics")
_LANDINGS = 60  # the most read pages are where campaigns land


class Site:
    """The demo site's URLs (Zipf-ranked), static files, statuses, sizes and referrers."""

    def __init__(self, rng: np.random.Generator) -> None:
        pages = list(
            dict.fromkeys(
                (
                    "/",
                    "/pricing",
                    "/product/route-optimizer",
                    *MARKETING,
                    *DEVELOPER,
                    *RU_AWARENESS,
                    *RU_CONSIDERATION,
                    "/ru/pricing",
                    *CAREERS,
                    *APP,
                    *UNTAGGED,
                    *MISSING,
                )
            )
        )
        # The long tail: a blog archive that taxonomy rules still tag by topic words.
        words = rng.choice(_BLOG_TOPICS, 2_000)
        pages += [f"/blog/{word}-notes-{n}" for n, word in enumerate(words.tolist())]
        self.n_pages = len(pages)
        self.page_p = zipf_cumulative(self.n_pages, PAGE_ZIPF)
        static_first = self.n_pages
        campaign_first = static_first + len(_STATIC)
        landings = pages[:_LANDINGS]
        campaign_urls = [page + campaign for page in landings for campaign in _CAMPAIGNS]
        crawler_extra = ["/robots.txt", "/sitemap.xml", *SCANNER_PROBES]
        self.crawler_first = campaign_first + len(campaign_urls)
        self.urls = np.array([*pages, *_STATIC, *campaign_urls, *crawler_extra], dtype=object)
        self.static_first, self.campaign_first = static_first, campaign_first
        self.n_campaigns = len(campaign_urls)
        missing = set(MISSING) | set(SCANNER_PROBES)
        self.url_missing = np.array([u in missing for u in self.urls.tolist()])
        self.statuses = np.array(["200", "304", "404", "301", "500"], dtype=object)
        self.sizes = np.array([str(s) for s in rng.integers(300, 80_000, 4_096).tolist()], dtype=object)
        self.methods = np.array(["GET", "HEAD", "POST"], dtype=object)
        self.n_fixed_referrers = len(_REFERRERS)
        self.referrers = np.array([*_REFERRERS, *(SITE + page for page in pages[:200])], dtype=object)

    def draw(self, rng: np.random.Generator, is_bot: np.ndarray) -> tuple[np.ndarray, ...]:
        """Indices into ``urls``, ``statuses``, ``referrers`` and ``methods`` for one request per ``is_bot`` entry."""
        n = len(is_bot)
        url = weighted_choice(rng, self.page_p, n)
        roll = rng.random(n)
        static = ~is_bot & (roll < STATIC_SHARE)
        url = np.where(static, self.static_first + rng.integers(0, len(_STATIC), n), url)
        campaign = ~is_bot & ~static & (roll > 1 - CAMPAIGN_SHARE) & (url < _LANDINGS)
        with_campaign = self.campaign_first + url * len(_CAMPAIGNS) + rng.integers(0, len(_CAMPAIGNS), n)
        url = np.where(campaign, with_campaign, url)
        crawler_files = is_bot & (roll < 0.05)
        url = np.where(crawler_files, self.crawler_first + rng.integers(0, len(self.urls) - self.crawler_first, n), url)

        status = np.zeros(n, dtype=np.int64)  # 200
        status[static & (rng.random(n) < 0.3)] = 1  # 304 from the browser cache
        rare = rng.random(n)
        status[rare < 0.004] = 3  # 301
        status[rare > 0.9995] = 4  # 500
        status[self.url_missing[url]] = 2  # 404

        referrer = np.zeros(n, dtype=np.int64)  # "-"
        people = ~is_bot
        source = rng.random(n)
        referrer[people & (source < 0.25)] = 1
        referrer[people & (source >= 0.25) & (source < 0.3)] = 2
        referrer[people & (source >= 0.3) & (source < 0.33)] = 3
        referrer[people & (source >= 0.33) & (source < 0.35)] = 4
        internal = people & (source >= 0.6)
        referrer[internal] = (
            self.n_fixed_referrers + rng.integers(0, len(self.referrers) - self.n_fixed_referrers, n)[internal]
        )

        method = np.zeros(n, dtype=np.int64)  # GET
        method[is_bot & (rare > 0.98)] = 1  # HEAD
        method[people & ~static & (rare > 0.995)] = 2  # POST
        return url, status, referrer, method


def draw_user_agents(rng: np.random.Generator, browsers: int) -> np.ndarray:
    """``browsers`` browser user agents (real templates, varied build numbers), then the bots'."""
    templates = (*DESKTOP, *MOBILE)
    agents = []
    for n in range(browsers):
        template = templates[n % len(templates)]
        major = int(rng.integers(118, 132))
        build = f"{major}.0.{int(rng.integers(5000, 6800))}.{int(rng.integers(0, 200))}"
        agents.append(template.replace("130.0.0.0", build).replace("131.0", f"{major}.0", 1))
    return np.array([*dict.fromkeys(agents), *BOT_USER_AGENTS], dtype=object)

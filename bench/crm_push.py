"""Benchmark: push many accounts through the HubSpot sink against the local HubSpot fake.

The fake answers ``429 TEN_SECONDLY_ROLLING`` (without Retry-After, as HubSpot often does)
once more than ``--burst`` requests arrived within the last ``--window`` seconds: HubSpot's
burst limit for Professional and Enterprise portals is 190 requests per 10 seconds. Half
the accounts carry a ``crm_id``, the other half are found by domain. It prints the HTTP
calls per account, the 429s and the wall time of one delivery.

    .venv/bin/python bench/crm_push.py                 # 10,000 accounts, 190 requests / 10 s
    .venv/bin/python bench/crm_push.py --accounts 1000 --burst 100
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import logging
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.crm.hubspot import HubSpotClient, HubSpotSink  # noqa: E402  (after the path above)
from connectors.crm.ledger import DeliveryLedger  # noqa: E402
from connectors.crm.transport import RetryPolicy  # noqa: E402
from connectors.sinks.base import WindowReport  # noqa: E402
from enrichment.summary import WindowSummary  # noqa: E402
from tests.crm_fakes.hubspot_server import FakeHubSpot  # noqa: E402

TOKEN = "pat-na1-bench-0000-0000-0000-000000000000"
WINDOW_START, WINDOW_END = dt.date(2026, 11, 2), dt.date(2026, 11, 15)


class BurstLimitedHubSpot(FakeHubSpot):
    """The HubSpot fake with HubSpot's rolling burst limit in front of it."""

    def __init__(self, httpserver: HTTPServer, *, token: str, burst: int, window: float) -> None:
        self.burst = burst
        self.window = window
        self.throttled = 0
        self._recent: collections.deque[float] = collections.deque()
        self._burst_lock = threading.Lock()
        super().__init__(httpserver, token=token)

    def _handle(self, request: Request) -> Response:
        with self._burst_lock:
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= self.window:
                self._recent.popleft()
            limited = len(self._recent) >= self.burst
            if limited:
                self.throttled += 1
            else:
                self._recent.append(now)
        if limited:
            return self._answer(
                request,
                429,
                {
                    "status": "error",
                    "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": str(uuid.uuid4()),
                    "policyName": "TEN_SECONDLY_ROLLING",
                    "requestId": str(uuid.uuid4()),
                },
            )
        return super()._handle(request)


@dataclass(frozen=True)
class BenchResult:
    accounts: int
    delivered: int
    calls: int  # answered requests, 429s not counted
    throttled: int
    seconds: float
    notes_per_company: set[int]

    @property
    def calls_per_account(self) -> float:
        return (self.calls + self.throttled) / self.accounts


def run(accounts: int, *, burst: int = 190, window: float = 10.0, retry: RetryPolicy = RetryPolicy()) -> BenchResult:
    """Deliver ``accounts`` accounts once through a fresh fake portal and ledger; time the delivery only."""
    server = HTTPServer(threaded=True)
    server.start()
    try:
        hubspot = BurstLimitedHubSpot(server, token=TOKEN, burst=burst, window=window)
        rows, domains = [], {}
        for n in range(accounts):
            company_id = hubspot.add_company(f"Company {n}", f"c{n}.example")
            rows.append(_account(f"ACC-{n}", company_id if n % 2 else None, score=n % 100))
            if not n % 2:
                domains[f"ACC-{n}"] = [f"c{n}.example"]
        with tempfile.TemporaryDirectory() as folder:
            ledger = DeliveryLedger(f"sqlite:///{Path(folder) / 'ledger.db'}")
            sink = HubSpotSink(HubSpotClient(TOKEN, base_url=hubspot.url, retry=retry), ledger, domains)
            started = time.perf_counter()
            result = sink.deliver(_report(rows))
            seconds = time.perf_counter() - started
            ledger.engine.dispose()
        if hubspot.violations:
            raise AssertionError(f"requests outside HubSpot's API description: {hubspot.violations[:3]}")
        return BenchResult(
            accounts=accounts,
            delivered=result.delivered,
            calls=len(hubspot.requests),
            throttled=hubspot.throttled,
            seconds=seconds,
            notes_per_company={len(hubspot.notes_of(company_id)) for company_id in hubspot.companies},
        )
    finally:
        server.stop()


def _account(account_id: str, crm_id: str | None, score: float) -> dict[str, object]:
    return {
        "account_id": account_id,
        "name": f"{account_id} Inc.",
        "crm_id": crm_id,
        "owner": None,
        "matched_by": "domain",
        "organizations": f"{account_id} Inc.",
        "countries": "DE",
        "visits": 3,
        "pageviews": 7,
        "visitors": 2,
        "first_seen": pd.Timestamp("2026-11-03 10:00", tz="UTC"),
        "last_seen": pd.Timestamp("2026-11-14 09:12", tz="UTC"),
        "furthest_stage": "decision",
        "top_topics": "pricing (4); integrations (2)",
        "top_pages": "/pricing (3); /docs (1)",
        "intent_score": score,
        "window_start": WINDOW_START,
        "window_end": WINDOW_END,
    }


def _report(rows: list[dict[str, object]]) -> WindowReport:
    empty = pd.DataFrame()
    path = pd.DataFrame(
        columns=[
            "account_id",
            "timestamp",
            "visit_id",
            "url",
            "topics",
            "stage",
            "content_type",
            "excluded_from_intent",
            "referrer",
        ]
    )
    return WindowReport(
        WINDOW_START, WINDOW_END, pd.DataFrame(rows), path, WindowSummary(empty, empty, empty, empty, empty), empty
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=190, help="requests allowed per rolling window")
    parser.add_argument("--window", type=float, default=10.0, help="the rolling window, seconds")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's access log, one line per request
    result = run(args.accounts, burst=args.burst, window=args.window)
    print(f"accounts            {result.accounts:>10,}")
    print(f"delivered           {result.delivered:>10,}")
    print(f"HTTP calls          {result.calls + result.throttled:>10,}  ({result.throttled:,} answered 429)")
    print(f"calls per account   {result.calls_per_account:>10.4f}")
    print(f"wall time           {result.seconds:>10.1f} s")
    print(f"notes per company   {sorted(result.notes_per_company)}")


if __name__ == "__main__":
    main()

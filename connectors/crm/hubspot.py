"""HubSpot: each target account's window activity on its company record, plus one note.

The sink finds each account's company (by ``crm_id``, else by domain), writes the
``website_intent`` properties on it and logs one note per account and window on its
timeline; a re-run of the window updates that note instead of adding another. A
delivery ledger makes re-runs cheap (unchanged accounts are skipped) and crash-safe.

HubSpot's date-versioned CRM API, the version being one setting (``2026-09``; the
``/crm/v3/`` paths take the same bodies), authenticated with a Service Key or a legacy
private-app token as a Bearer token:

    POST /crm/properties/{v}/companies/batch/read    which of our properties exist
    POST /crm/properties/{v}/companies/groups        the "website_intent" group (409: exists)
    POST /crm/properties/{v}/companies/batch/create  the missing properties
    POST /crm/objects/{v}/companies/batch/read       companies by record id (crm_id)
    POST /crm/objects/{v}/companies/search           companies by domain, IN up to 100 values
    POST /crm/objects/{v}/companies/batch/update     the intent properties, 100 per call
    POST /crm/objects/{v}/notes/search               a note a stopped run may have left
    POST /crm/objects/{v}/notes/batch/create         new notes, associated to their company
    POST /crm/objects/{v}/notes/batch/update         the window's note on a re-run
    POST /crm/objects/{v}/companies/batch/create     only with create_missing_companies

The access token is never logged, put in an exception or returned.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
import requests

from connectors.crm.common import (
    REDACTED,
    DryRunRecorder,
    Redactor,
    Retrier,
    RetryPolicy,
    Transient,
    chunks,
    crm_text,
    is_in_flight,
    json_body,
    normalize_domain,
    records,
    report_url,
    retry_after,
    utc_iso,
)
from connectors.crm.ledger import Attempt, DeliveryLedger, LedgerEntry
from connectors.crm.note import NOTE_MAX_CHARS, Trend, intent_trend, note_marker, render_note
from connectors.sinks.base import SinkResult, WindowReport
from enrichment.tagging import STAGES

log = logging.getLogger(__name__)

TOKEN_ENV_VAR = "HUBSPOT_ACCESS_TOKEN"
DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_API_VERSION = "2026-09"

BATCH_LIMIT = 100  # inputs per batch call, and values per IN filter
SEARCH_PAGE_LIMIT = 200
SEARCH_FILTER_GROUPS = 5  # OR-ed filter groups per search request
# HubSpot allows five search requests per second per account; stay a little below.
SEARCH_INTERVAL_SECONDS = 0.25
NOTE_TO_COMPANY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 190}

PROPERTY_GROUP = {"name": "website_intent", "label": "Website intent", "displayOrder": -1}


def _property(name: str, label: str, kind: str, field_type: str, description: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": kind,
        "fieldType": field_type,
        "groupName": PROPERTY_GROUP["name"],
        "description": description,
        "formField": False,
        **extra,
    }


def _options(values: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"label": value.capitalize(), "value": value, "displayOrder": order, "hidden": False}
        for order, value in enumerate(values)
    ]


COMPANY_PROPERTIES: tuple[dict[str, Any], ...] = (
    _property(
        "vi_intent_score",
        "Intent score",
        "number",
        "number",
        "Website buying intent in the last report window, 0 to 100 (Visitor Intent).",
        numberDisplayHint="unformatted",
    ),
    _property(
        "vi_intent_trend",
        "Intent trend",
        "enumeration",
        "select",
        "How the intent score moved since the account's previous report window.",
        options=_options(trend.value for trend in Trend),
    ),
    _property(
        "vi_furthest_stage",
        "Furthest funnel stage",
        "enumeration",
        "select",
        "The furthest funnel stage of the pages the company read in the window.",
        options=_options(STAGES),
    ),
    _property(
        "vi_top_topics",
        "Top topics",
        "string",
        "textarea",
        "The topics the company read most in the window, with page views.",
    ),
    _property(
        "vi_visits",
        "Website visits in window",
        "number",
        "number",
        "Visits from the company in the report window.",
        numberDisplayHint="unformatted",
    ),
    _property(
        "vi_pageviews",
        "Website pageviews in window",
        "number",
        "number",
        "Page views from the company in the report window.",
        numberDisplayHint="unformatted",
    ),
    _property(
        "vi_last_visit", "Last website visit", "datetime", "date", "When the company last visited the website (UTC)."
    ),
    _property(
        "vi_report_window",
        "Intent report window",
        "string",
        "text",
        "The report window the website intent properties describe.",
    ),
)


class HubSpotError(Exception):
    """HubSpot refused or failed a request; the message never contains the access token."""


class HubSpotAuthError(HubSpotError):
    """401 or 403: the token is wrong, revoked or lacks a scope. Nothing more can be sent."""


class HubSpotDailyLimitReached(HubSpotError):
    """The account's daily API limit is used up: stop now, resume with the next run."""


class HubSpotUnavailable(HubSpotError):
    """HubSpot kept failing (5xx, timeouts, rate limits) through every retry."""


class HubSpotRequestError(HubSpotError):
    """HubSpot rejected a request (4xx other than auth and rate limits)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class BatchOutcome:
    """What HubSpot said about a batch write, by each input's ``objectWriteTraceId``.

    An input neither confirmed nor rejected has an unknown fate (HubSpot did not say).
    """

    confirmed: dict[str, str] = field(default_factory=dict)  # trace id -> record id
    rejected: dict[str, str] = field(default_factory=dict)  # trace id -> HubSpot's reason


class HubSpotClient:
    """The few HubSpot CRM calls the sink needs, batched, retried and rate-limited.

    With ``dry_run_dir`` set, requests that would change data are written there as JSON
    files (method, url, headers with the token redacted, body) instead of being sent;
    reads (lookups) are still sent, so the files hold exactly what a real run would send.
    """

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        search_interval: float = SEARCH_INTERVAL_SECONDS,
        dry_run_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not access_token:
            raise ValueError(f"no HubSpot access token: set {TOKEN_ENV_VAR} to a Service Key or private-app token")
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.timeout = timeout
        self.retry = retry
        self.search_interval = search_interval
        self.dry_run_dir = dry_run_dir
        self._sleep = sleep
        self._clock = clock
        self._retrier = Retrier("HubSpot", retry, sleep, log)
        self._redact = Redactor(access_token)
        self._recorder = DryRunRecorder(dry_run_dir) if dry_run_dir is not None else None
        self._last_search: float | None = None
        self._session = requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"})

    def __repr__(self) -> str:
        return f"HubSpotClient(base_url={self.base_url!r}, api_version={self.api_version!r}, access_token={REDACTED!r})"

    @property
    def dry_run(self) -> bool:
        return self.dry_run_dir is not None

    def ensure_company_properties(self) -> list[str]:
        """Create the ``website_intent`` group and whichever of our properties are missing; returns their names."""
        missing = self._missing_properties()
        if not missing:
            return []
        self._write(self._properties_path("groups"), PROPERTY_GROUP, accepted=(409,))
        definitions = [definition for definition in COMPANY_PROPERTIES if definition["name"] in missing]
        response = self._write(self._properties_path("batch/create"), {"inputs": definitions}, accepted=(207, 409))
        # A property another run created meanwhile ("already exists") is fine: check the result.
        if response is not None and response.status_code != 201 and self._missing_properties():
            raise HubSpotRequestError(
                response.status_code, f"could not create company properties: {self._reason(response)}"
            )
        log.info("created HubSpot company properties %s", ", ".join(sorted(missing)))
        return sorted(missing)

    def read_companies(self, company_ids: Sequence[str]) -> set[str]:
        """Those of the given company record ids that exist (archived ones don't)."""
        found: set[str] = set()
        for chunk in chunks(sorted(set(company_ids)), BATCH_LIMIT):
            body = {
                "inputs": [{"id": company_id} for company_id in chunk],
                "properties": ["domain"],
                "propertiesWithHistory": [],
            }
            # Unknown ids come back as a 207 with OBJECT_NOT_FOUND errors: simply not found.
            response = self._request("POST", self._objects_path("companies", "batch/read"), body, accepted=(207,))
            found.update(result["id"] for result in response.json()["results"])
        return found

    def find_companies_by_domain(self, domains: Sequence[str]) -> dict[str, str]:
        """Company record id by normalized domain, for the domains some company has.

        When several companies share a domain, the oldest record (lowest id) wins.
        """
        matches: dict[str, str] = {}
        for chunk in chunks(sorted(set(domains)), BATCH_LIMIT):
            filters = [{"filters": [{"propertyName": "domain", "operator": "IN", "values": chunk}]}]
            for company in self._search("companies", filters, ["domain"]):
                domain = normalize_domain(company["properties"].get("domain") or "")
                if domain and (domain not in matches or int(company["id"]) < int(matches[domain])):
                    matches[domain] = company["id"]
        return matches

    def find_notes(self, markers: Sequence[str]) -> dict[str, str]:
        """Note record id by marker, for markers some note's body contains."""
        found: dict[str, str] = {}
        for chunk in chunks(list(markers), SEARCH_FILTER_GROUPS):
            filters = [
                {"filters": [{"propertyName": "hs_note_body", "operator": "CONTAINS_TOKEN", "value": marker}]}
                for marker in chunk
            ]
            for note in self._search("notes", filters, ["hs_note_body"]):
                body = note["properties"].get("hs_note_body") or ""
                found.update({marker: note["id"] for marker in chunk if marker in body})
        return found

    def update_companies(self, inputs: Sequence[dict[str, Any]]) -> BatchOutcome:
        """Batch-update companies; each input is ``{"id", "properties", "objectWriteTraceId"}``."""
        return self._write_batches(self._objects_path("companies", "batch/update"), inputs)

    def create_companies(self, inputs: Sequence[dict[str, Any]]) -> BatchOutcome:
        """Batch-create companies; each input is ``{"properties", "associations", "objectWriteTraceId"}``."""
        return self._write_batches(self._objects_path("companies", "batch/create"), inputs)

    def create_notes(self, inputs: Sequence[dict[str, Any]]) -> BatchOutcome:
        """Batch-create notes; each input is ``{"properties", "associations", "objectWriteTraceId"}``."""
        return self._write_batches(self._objects_path("notes", "batch/create"), inputs)

    def update_notes(self, inputs: Sequence[dict[str, Any]]) -> BatchOutcome:
        """Batch-update notes; each input is ``{"id", "properties", "objectWriteTraceId"}``."""
        return self._write_batches(self._objects_path("notes", "batch/update"), inputs)

    def _missing_properties(self) -> set[str]:
        body = {
            "archived": False,
            "dataSensitivity": "non_sensitive",
            "inputs": [{"name": definition["name"]} for definition in COMPANY_PROPERTIES],
        }
        response = self._request("POST", self._properties_path("batch/read"), body, accepted=(207,))
        existing = {result["name"] for result in response.json()["results"]}
        return {definition["name"] for definition in COMPANY_PROPERTIES} - existing

    def _search(
        self, object_type: str, filter_groups: list[dict[str, Any]], properties: list[str]
    ) -> Iterator[dict[str, Any]]:
        after = "0"
        while True:
            body = {
                "filterGroups": filter_groups,
                "properties": properties,
                "sorts": [],
                "limit": SEARCH_PAGE_LIMIT,
                "after": after,
            }
            page = self._request("POST", self._objects_path(object_type, "search"), body).json()
            yield from page["results"]
            after = page.get("paging", {}).get("next", {}).get("after")
            if not after:
                return

    def _write_batches(self, path: str, inputs: Sequence[dict[str, Any]]) -> BatchOutcome:
        outcome = BatchOutcome()
        for chunk in chunks(list(inputs), BATCH_LIMIT):
            try:
                response = self._write(path, {"inputs": chunk}, accepted=(207,))
            except HubSpotRequestError as error:
                # The whole batch was refused (e.g. 400): none of its inputs was written.
                outcome.rejected.update({item["objectWriteTraceId"]: str(error) for item in chunk})
                continue
            if response is not None:
                self._sort_batch_answer(response.json(), chunk, outcome)
        return outcome

    def _sort_batch_answer(self, answer: dict[str, Any], inputs: list[dict[str, Any]], outcome: BatchOutcome) -> None:
        """File a batch answer's results and errors under the inputs' ``objectWriteTraceId``."""
        trace_by_id = {item["id"]: item["objectWriteTraceId"] for item in inputs if "id" in item}
        for result in answer.get("results", []):
            trace = result.get("objectWriteTraceId") or trace_by_id.get(result["id"])
            if trace:
                outcome.confirmed[trace] = result["id"]
        for error in answer.get("errors", []):
            context = error.get("context") or {}
            traces = [
                *context.get("objectWriteTraceId", []),
                *(trace_by_id[i] for i in context.get("ids", []) if i in trace_by_id),
            ]
            reason = " ".join(
                filter(
                    None,
                    [
                        error.get("category"),
                        error.get("message"),
                        *(detail.get("message") for detail in error.get("errors", [])),
                    ],
                )
            )
            outcome.rejected.update({trace: self._redact(reason) for trace in traces})

    def _write(self, path: str, body: dict[str, Any], *, accepted: tuple[int, ...] = ()) -> requests.Response | None:
        """POST a request that changes data; in a dry run, write it to a file instead (and return None)."""
        if self._recorder is not None:
            self._recorder.record(
                {
                    "method": "POST",
                    "url": self.base_url + path,
                    "headers": {"Authorization": f"Bearer {REDACTED}", "Content-Type": "application/json"},
                    "json": body,
                },
                label=path,
            )
            return None
        return self._request("POST", path, body, accepted=accepted)

    def _request(
        self, method: str, path: str, body: dict[str, Any], *, accepted: tuple[int, ...] = ()
    ) -> requests.Response:
        """Send with retries: 5xx, timeouts and short-term 429s are retried, everything else raises."""
        try:
            return self._retrier(self._attempt, method, path, body, accepted)
        except Transient as error:
            raise HubSpotUnavailable(
                f"HubSpot did not answer {method} {path} after {self.retry.attempts} attempts: {error}"
            ) from None

    def _attempt(self, method: str, path: str, body: dict[str, Any], accepted: tuple[int, ...]) -> requests.Response:
        if path.endswith("/search"):
            self._throttle_search()
        try:
            response = self._session.request(method, self.base_url + path, json=body, timeout=self.timeout)
        except requests.Timeout:
            raise Transient(f"no answer within {self.timeout:g}s") from None
        except requests.ConnectionError as error:
            raise Transient(f"connection failed ({type(error).__name__})") from None
        status = response.status_code
        if status == 429:
            self._raise_rate_limited(response, method, path)
        if status >= 500:
            raise Transient(f"{status} {self._reason(response)}")
        if status in (401, 403):
            raise HubSpotAuthError(self._auth_message(response))
        if status >= 400 and status not in accepted:
            raise HubSpotRequestError(status, f"{method} {path} was refused: {status} {self._reason(response)}")
        return response

    def _raise_rate_limited(self, response: requests.Response, method: str, path: str) -> NoReturn:
        policy = json_body(response).get("policyName", "")
        if policy == "DAILY":
            raise HubSpotDailyLimitReached(
                f"HubSpot's daily API limit is used up ({method} {path}); the rest is delivered by the next run"
            )
        raise Transient(f"429 rate limit {policy or 'unspecified'}", retry_after=retry_after(response))

    def _throttle_search(self) -> None:
        now = self._clock()
        if self._last_search is not None and now - self._last_search < self.search_interval:
            self._sleep(self.search_interval - (now - self._last_search))
            now = self._clock()
        self._last_search = now

    def _auth_message(self, response: requests.Response) -> str:
        what = "was rejected" if response.status_code == 401 else "lacks a scope this connector needs"
        return (
            f"HubSpot access token {what} ({response.status_code} {self._reason(response)}). "
            f"Check {TOKEN_ENV_VAR}: it must be a valid Service Key or private-app token with the scopes "
            "crm.objects.companies.read/write, crm.schemas.companies.read/write and crm.objects.contacts.read/write (notes)."
        )

    def _reason(self, response: requests.Response) -> str:
        details = json_body(response)
        reason = " ".join(str(part) for part in (details.get("category"), details.get("message")) if part)
        return self._redact(reason or response.reason or "")

    def _objects_path(self, object_type: str, action: str) -> str:
        return f"/crm/objects/{self.api_version}/{object_type}/{action}"

    def _properties_path(self, action: str) -> str:
        return f"/crm/properties/{self.api_version}/companies/{action}"


@dataclass(frozen=True)
class _Account:
    """One account's payload for this window, as the sink sends it."""

    account_id: str
    name: str
    crm_id: str | None
    domains: tuple[str, ...]
    intent_score: float
    marker: str
    properties: dict[str, str]
    note: dict[str, str]  # hs_timestamp and hs_note_body
    payload_hash: str

    def attempt(self, company_id: str | None = None) -> Attempt:
        return Attempt(self.account_id, self.payload_hash, self.intent_score, company_id)


@dataclass(frozen=True)
class _Target:
    """An account whose company was found, with the note it already has, if any."""

    account: _Account
    company_id: str
    note_id: str | None


@dataclass
class _Plan:
    """What a delivery will do, decided from the ledger and HubSpot's answers to lookups."""

    unchanged: int
    missing: list[_Account]
    targets: list[_Target]
    conflicts: list[tuple[_Account, str]]  # accounts that cannot be delivered, and why


class HubSpotSink:
    """Delivers a window's accounts to HubSpot companies and notes (the ``ReportSink`` protocol).

    ``domains`` maps account ids to their target-account domains, used when an account
    has no ``crm_id``. Accounts whose company isn't found are reported as ``not_found``
    and looked up again next run; companies are created only with ``create_missing_companies``.
    ``report_base_url`` (where the file sink's reports are served) lets a cut note link
    to the account's full report.
    """

    name = "hubspot"

    def __init__(
        self,
        client: HubSpotClient,
        ledger: DeliveryLedger,
        domains: Mapping[str, Sequence[str]] | None = None,
        *,
        create_missing_companies: bool = False,
        report_base_url: str | None = None,
        note_max_chars: int = NOTE_MAX_CHARS,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.domains = {account_id: tuple(values) for account_id, values in (domains or {}).items()}
        self.create_missing_companies = create_missing_companies
        self.report_base_url = report_base_url.rstrip("/") if report_base_url else None
        self.note_max_chars = note_max_chars

    def deliver(self, report: WindowReport) -> SinkResult:
        """Deliver every changed account; details count delivered, updated, unchanged, not_found, failed.

        ``delivered`` in the result is the number of accounts written (new and updated notes).
        Raises ``HubSpotAuthError`` and ``HubSpotDailyLimitReached`` after recording state.
        """
        entries = self.ledger.entries(self.name, report.window_end)
        plan = self._plan(self._accounts(report), entries)
        if self.client.dry_run:
            return self._rehearse(plan)
        counts = self._apply(plan, report.window_end)
        return SinkResult(
            sink=self.name,
            location=self.client.base_url,
            delivered=counts["delivered"] + counts["updated"],
            details={key: counts[key] for key in ("delivered", "updated", "unchanged", "not_found", "failed")},
        )

    def _accounts(self, report: WindowReport) -> list[_Account]:
        rows = records(report.accounts)
        previous = self.ledger.previous_scores(self.name, report.window_end, [str(r["account_id"]) for r in rows])
        paths = dict(tuple(report.path.groupby("account_id", sort=False)))
        no_pages = report.path.head(0)
        return [
            self._account(
                record, paths.get(record["account_id"], no_pages), previous.get(str(record["account_id"])), report
            )
            for record in rows
        ]

    def _account(
        self, record: dict[str, Any], path: pd.DataFrame, previous_score: float | None, report: WindowReport
    ) -> _Account:
        account_id = str(record["account_id"])
        trend = intent_trend(record["intent_score"], previous_score)
        marker = note_marker(account_id, report.window_end)
        properties = {
            "vi_intent_score": str(round(record["intent_score"])),
            "vi_intent_trend": trend.value,
            "vi_furthest_stage": record["furthest_stage"] or "",
            "vi_top_topics": record["top_topics"] or "",
            "vi_visits": str(int(record["visits"])),
            "vi_pageviews": str(int(record["pageviews"])),
            "vi_last_visit": utc_iso(record["last_seen"]),
            "vi_report_window": f"{report.window_start.isoformat()} to {report.window_end.isoformat()}",
        }
        note = {
            # Deterministic, so a re-run's payload hash only changes when the content does.
            "hs_timestamp": f"{report.window_end.isoformat()}T23:59:59Z",
            "hs_note_body": render_note(
                record,
                path,
                trend=trend,
                marker=marker,
                report_url=self._report_url(account_id, report),
                max_chars=self.note_max_chars,
            ),
        }
        payload = json.dumps({"properties": properties, "note": note}, sort_keys=True)
        return _Account(
            account_id=account_id,
            name=str(record["name"]),
            crm_id=crm_text(record.get("crm_id")),
            domains=tuple(normalize_domain(domain) for domain in self.domains.get(account_id, ())),
            intent_score=float(record["intent_score"]),
            marker=marker,
            properties=properties,
            note=note,
            payload_hash=hashlib.sha256(payload.encode()).hexdigest(),
        )

    def _plan(self, accounts: list[_Account], entries: Mapping[str, LedgerEntry]) -> _Plan:
        pending = [
            a for a in accounts if not (a.account_id in entries and entries[a.account_id].is_delivered(a.payload_hash))
        ]
        companies = self._find_companies(pending)
        missing = [account for account in pending if account.account_id not in companies]
        found = [account for account in pending if account.account_id in companies]
        targets, conflicts = _claim_companies(found, companies, entries)
        stray = [t.account for t in targets if t.note_id is None and is_in_flight(entries.get(t.account.account_id))]
        if stray:
            # An earlier run died after HubSpot stored these notes but before the ledger did.
            notes = self.client.find_notes([account.marker for account in stray])
            targets = [_Target(t.account, t.company_id, t.note_id or notes.get(t.account.marker)) for t in targets]
        return _Plan(unchanged=len(accounts) - len(pending), missing=missing, targets=targets, conflicts=conflicts)

    def _find_companies(self, accounts: list[_Account]) -> dict[str, str]:
        """Company record id by account id: by crm_id, else (or if that record is gone) by domain."""
        existing = self.client.read_companies([a.crm_id for a in accounts if a.crm_id])
        companies = {a.account_id: a.crm_id for a in accounts if a.crm_id in existing}
        by_domain = [a for a in accounts if a.account_id not in companies and a.domains]
        if by_domain:
            ids = self.client.find_companies_by_domain([domain for a in by_domain for domain in a.domains])
            for account in by_domain:
                company_id = next((ids[domain] for domain in account.domains if domain in ids), None)
                if company_id:
                    companies[account.account_id] = company_id
        return companies

    def _apply(self, plan: _Plan, window_end: dt.date) -> Counter[str]:
        sink, ledger = self.name, self.ledger
        if self._writes_companies(plan):
            self.client.ensure_company_properties()
        targets = plan.targets + self._created_companies(plan.missing)
        created = {t.account.account_id for t in targets}
        missing = [account for account in plan.missing if account.account_id not in created]
        ledger.mark_not_found(sink, window_end, [account.attempt() for account in missing])
        ledger.mark_in_flight(
            sink,
            window_end,
            [t.account.attempt(t.company_id) for t in targets] + [account.attempt() for account, _ in plan.conflicts],
        )
        ledger.mark_failed(sink, window_end, {account.account_id: reason for account, reason in plan.conflicts})
        try:
            note_ids, failures = self._send_targets(targets)
        except HubSpotError as error:
            ledger.note_error(sink, window_end, [t.account.account_id for t in targets], str(error))
            raise
        ledger.mark_delivered(sink, window_end, note_ids)
        ledger.mark_failed(sink, window_end, failures)
        known_notes = {t.account.account_id for t in targets if t.note_id}
        return Counter(
            delivered=len(note_ids.keys() - known_notes),
            updated=len(note_ids.keys() & known_notes),
            unchanged=plan.unchanged,
            not_found=len(missing),
            failed=len(failures) + len(plan.conflicts),
        )

    def _writes_companies(self, plan: _Plan) -> bool:
        return bool(plan.targets or (plan.missing and self.create_missing_companies))

    def _send_targets(self, targets: list[_Target]) -> tuple[dict[str, str], dict[str, str]]:
        """Update the companies, then their notes; returns note ids and failures by account id.

        An account whose fate HubSpot left unknown is in neither: it stays in flight.
        """
        companies = self.client.update_companies([_company_update(t) for t in targets])
        accepted = [t for t in targets if t.account.marker in companies.confirmed]
        updates = self.client.update_notes([_note_update(t) for t in accepted if t.note_id])
        creates = self.client.create_notes([_note_create(t) for t in accepted if not t.note_id])
        by_marker = {t.account.marker: t.account.account_id for t in targets}
        note_ids = {by_marker[m]: note_id for m, note_id in (updates.confirmed | creates.confirmed).items()}
        failures = {
            by_marker[m]: reason for m, reason in (companies.rejected | updates.rejected | creates.rejected).items()
        }
        return note_ids, failures

    def _created_companies(self, missing: list[_Account]) -> list[_Target]:
        creatable = [account for account in missing if account.domains] if self.create_missing_companies else []
        if not creatable:
            return []
        created = self.client.create_companies(
            [
                {
                    "properties": {"name": a.name, "domain": a.domains[0]},
                    "associations": [],
                    "objectWriteTraceId": a.marker,
                }
                for a in creatable
            ]
        )
        return [_Target(a, created.confirmed[a.marker], None) for a in creatable if a.marker in created.confirmed]

    def _rehearse(self, plan: _Plan) -> SinkResult:
        """Dry run: write the requests a real delivery would send; the ledger stays untouched."""
        if self._writes_companies(plan):
            self.client.ensure_company_properties()
        self._created_companies(plan.missing)
        self.client.update_companies([_company_update(t) for t in plan.targets])
        self.client.update_notes([_note_update(t) for t in plan.targets if t.note_id])
        self.client.create_notes([_note_create(t) for t in plan.targets if not t.note_id])
        return SinkResult(
            sink=self.name,
            location=str(self.client.dry_run_dir),
            delivered=0,
            details={
                "delivered": 0,
                "updated": 0,
                "unchanged": plan.unchanged,
                "not_found": len(plan.missing),
                "failed": len(plan.conflicts),
                "would_write": len(plan.targets),
            },
        )

    def _report_url(self, account_id: str, report: WindowReport) -> str | None:
        return report_url(self.report_base_url, account_id, report)


def _claim_companies(
    accounts: list[_Account], companies: Mapping[str, str], entries: Mapping[str, LedgerEntry]
) -> tuple[list[_Target], list[tuple[_Account, str]]]:
    """Each company goes to one account, the one with the highest score; the others can't be delivered.

    One company has one set of intent properties: two accounts writing it would overwrite each other.
    """
    targets: list[_Target] = []
    conflicts: list[tuple[_Account, str]] = []
    owners: dict[str, str] = {}
    for account in sorted(accounts, key=lambda a: -a.intent_score):
        company_id = companies[account.account_id]
        if company_id in owners:
            conflicts.append(
                (
                    account,
                    (
                        f"HubSpot company {company_id} is already delivered for account {owners[company_id]}; "
                        "give each target account its own company (crm_id or domain)"
                    ),
                )
            )
            continue
        owners[company_id] = account.account_id
        entry = entries.get(account.account_id)
        targets.append(_Target(account, company_id, entry.note_id if entry else None))
    return targets, conflicts


def _company_update(target: _Target) -> dict[str, Any]:
    return {
        "id": target.company_id,
        "properties": target.account.properties,
        "objectWriteTraceId": target.account.marker,
    }


def _note_update(target: _Target) -> dict[str, Any]:
    return {"id": target.note_id, "properties": target.account.note, "objectWriteTraceId": target.account.marker}


def _note_create(target: _Target) -> dict[str, Any]:
    return {
        "properties": target.account.note,
        "associations": [{"to": {"id": target.company_id}, "types": [NOTE_TO_COMPANY]}],
        "objectWriteTraceId": target.account.marker,
    }

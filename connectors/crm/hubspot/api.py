"""The few HubSpot CRM calls the sink needs, batched, retried and rate-limited.

HubSpot's date-versioned CRM API, the version being one setting (``2026-09``; the
``/crm/v3/`` paths take the same bodies), authenticated with a Service Key or a legacy
private-app token as a Bearer token:

    POST /crm/properties/{v}/companies/batch/read    which of our properties exist
    POST /crm/properties/{v}/companies/groups        the "website_intent" group (409: exists)
    POST /crm/properties/{v}/companies/batch/create  the missing properties
    POST /crm/objects/{v}/companies/batch/read       companies by record id (crm_id)
    POST /crm/objects/{v}/companies/search           companies by domain, IN up to 100 values
    POST /crm/objects/{v}/companies/batch/update     the intent properties (or blanks, to forget), 100 per call
    POST /crm/objects/{v}/notes/search               a note a stopped run may have left
    POST /crm/objects/{v}/notes/batch/create         new notes, associated to their company
    POST /crm/objects/{v}/notes/batch/update         the window's note on a re-run
    POST /crm/objects/{v}/notes/batch/archive        notes to forget
    POST /crm/objects/{v}/companies/batch/create     only with create_missing_companies

A batch write answers each input by its ``objectWriteTraceId`` when HubSpot echoes it;
where it doesn't, an updated record is known by its id and a created note by the marker
in its returned body, or else by a search for that marker. The access token is never
logged, put in an exception or returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from connectors.crm.transport import REDACTED, CrmClient, CrmRequestError, RetryPolicy, chunks, json_body, pause_or_stop
from enrichment.matching import registrable_domain

log = logging.getLogger(__name__)

TOKEN_ENV_VAR = "HUBSPOT_ACCESS_TOKEN"
DEFAULT_BASE_URL = "https://api.hubapi.com"
DEFAULT_API_VERSION = "2026-09"

BATCH_LIMIT = 100  # inputs per batch call, and values per IN filter
SEARCH_PAGE_LIMIT = 200
SEARCH_FILTER_GROUPS = 5  # OR-ed filter groups per search request
# HubSpot allows five search requests per second per account; stay a little below.
SEARCH_INTERVAL_SECONDS = 0.25
NOTE_BODY = "hs_note_body"


@dataclass
class BatchOutcome:
    """What HubSpot said about a batch write, by each input's ``objectWriteTraceId``.

    An input neither confirmed nor rejected has an unknown fate (HubSpot did not say).
    """

    confirmed: dict[str, str] = field(default_factory=dict)  # trace id -> record id
    rejected: dict[str, str] = field(default_factory=dict)  # trace id -> HubSpot's reason


class HubSpotClient(CrmClient):
    """HubSpot's CRM endpoints the sink uses.

    With ``dry_run_dir`` set, requests that would change data are written there as JSON
    files (method, url, headers with the token redacted, body) instead of being sent, and
    answered as if HubSpot had accepted them; reads (lookups) are still sent, so the files
    hold exactly what a real run would send.
    """

    crm = "HubSpot"
    credentials_help = (
        f"Check {TOKEN_ENV_VAR}: it must be a valid Service Key or private-app token with the scopes "
        "crm.objects.companies.read/write, crm.schemas.companies.read/write and crm.objects.contacts.read/write (notes)."
    )

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
        super().__init__(secrets=[access_token], timeout=timeout, retry=retry, dry_run_dir=dry_run_dir, sleep=sleep)
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.search_interval = search_interval
        self._clock = clock
        self._last_search: float | None = None
        self._session.headers.update({"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"})

    @property
    def location(self) -> str:
        return self.base_url

    def __repr__(self) -> str:
        return f"HubSpotClient(base_url={self.base_url!r}, api_version={self.api_version!r}, access_token={REDACTED!r})"

    # --- properties -----------------------------------------------------------------

    def ensure_company_properties(
        self, group: Mapping[str, Any], definitions: Sequence[Mapping[str, Any]]
    ) -> list[str]:
        """Create the property group and whichever of the properties are missing; returns their names."""
        missing = self._missing_properties(definitions)
        if not missing:
            return []
        self._write(self._properties_path("groups"), dict(group), accepted=(409,))
        inputs = [dict(definition) for definition in definitions if definition["name"] in missing]
        response = self._write(self._properties_path("batch/create"), {"inputs": inputs}, accepted=(207, 409))
        # A property another run created meanwhile ("already exists") is fine: check the result.
        if response is not None and response.status_code != 201 and self._missing_properties(definitions):
            raise CrmRequestError(
                response.status_code, f"could not create HubSpot company properties: {self._reason(response)}"
            )
        log.info("created HubSpot company properties %s", ", ".join(sorted(missing)))
        return sorted(missing)

    def _missing_properties(self, definitions: Sequence[Mapping[str, Any]]) -> set[str]:
        body = {
            "archived": False,
            "dataSensitivity": "non_sensitive",
            "inputs": [{"name": definition["name"]} for definition in definitions],
        }
        response = self._request("POST", self._properties_path("batch/read"), body, accepted=(207,))
        existing = {result["name"] for result in response.json()["results"]}
        return {definition["name"] for definition in definitions} - existing

    # --- lookups --------------------------------------------------------------------

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
        """Company record id by registrable domain, for the domains some company has.

        When several companies share a domain, the oldest record (lowest id) wins.
        """
        matches: dict[str, str] = {}
        for chunk in chunks(sorted(set(domains)), BATCH_LIMIT):
            filters = [{"filters": [{"propertyName": "domain", "operator": "IN", "values": chunk}]}]
            for company in self._search("companies", filters, ["domain"]):
                domain = registrable_domain(company["properties"].get("domain") or "")
                if domain and (domain not in matches or int(company["id"]) < int(matches[domain])):
                    matches[domain] = company["id"]
        return matches

    def find_notes(self, markers: Sequence[str]) -> dict[str, str]:
        """Note record id by marker, for markers some note's body contains."""
        found: dict[str, str] = {}
        for chunk in chunks(list(markers), SEARCH_FILTER_GROUPS):
            filters = [
                {"filters": [{"propertyName": NOTE_BODY, "operator": "CONTAINS_TOKEN", "value": marker}]}
                for marker in chunk
            ]
            for note in self._search("notes", filters, [NOTE_BODY]):
                body = note["properties"].get(NOTE_BODY) or ""
                found.update({marker: note["id"] for marker in chunk if marker in body})
        return found

    # --- writes ---------------------------------------------------------------------

    def update_companies(self, inputs: Sequence[dict[str, Any]]) -> BatchOutcome:
        """Batch-update companies; each input is ``{"id", "properties", "objectWriteTraceId"}``."""
        return self._write_batches(self._objects_path("companies", "batch/update"), inputs)

    def create_companies(self, inputs: Sequence[dict[str, Any]]) -> BatchOutcome:
        """Batch-create companies; each input is ``{"properties", "associations", "objectWriteTraceId"}``.

        A company HubSpot did not echo a trace id for is known by its domain.
        """
        domains = {item["properties"]["domain"]: item["objectWriteTraceId"] for item in inputs}
        return self._write_batches(
            self._objects_path("companies", "batch/create"),
            inputs,
            identify=lambda result: domains.get(result["properties"].get("domain") or ""),
        )

    def create_notes(self, inputs: Sequence[dict[str, Any]]) -> BatchOutcome:
        """Batch-create notes; each input's ``objectWriteTraceId`` is its note's marker.

        A created note is confirmed by HubSpot's echo of the trace id, else by the marker
        in the body HubSpot returns, else by a search for the marker (a read-back).
        """
        markers = [item["objectWriteTraceId"] for item in inputs]

        def marker_in_body(result: dict[str, Any]) -> str | None:
            body = (result.get("properties") or {}).get(NOTE_BODY) or ""
            return next((marker for marker in markers if marker in body), None)

        outcome = self._write_batches(self._objects_path("notes", "batch/create"), inputs, identify=marker_in_body)
        unknown = [marker for marker in markers if marker not in outcome.confirmed and marker not in outcome.rejected]
        if unknown and not self.dry_run:
            outcome.confirmed.update(self.find_notes(unknown))
        return outcome

    def update_notes(self, inputs: Sequence[dict[str, Any]]) -> BatchOutcome:
        """Batch-update notes; each input is ``{"id", "properties", "objectWriteTraceId"}``."""
        return self._write_batches(self._objects_path("notes", "batch/update"), inputs)

    def archive_notes(self, note_ids: Sequence[str]) -> None:
        """Move notes to HubSpot's recycling bin (204 No Content; an already archived note is no error)."""
        for chunk in chunks(sorted(set(note_ids)), BATCH_LIMIT):
            self._write(self._objects_path("notes", "batch/archive"), {"inputs": [{"id": i} for i in chunk]})

    # --- requests -------------------------------------------------------------------

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

    def _write_batches(
        self,
        path: str,
        inputs: Sequence[dict[str, Any]],
        *,
        identify: Callable[[dict[str, Any]], str | None] = lambda result: None,
    ) -> BatchOutcome:
        outcome = BatchOutcome()
        for chunk in chunks(list(inputs), BATCH_LIMIT):
            try:
                response = self._write(path, {"inputs": chunk}, accepted=(207,))
            except CrmRequestError as error:
                # The whole batch was refused (e.g. 400): none of its inputs was written.
                outcome.rejected.update({item["objectWriteTraceId"]: str(error) for item in chunk})
                continue
            if response is None:  # a dry run: answered as if HubSpot had accepted every input
                outcome.confirmed.update({item["objectWriteTraceId"]: item.get("id", "") for item in chunk})
            else:
                self._sort_batch_answer(response.json(), chunk, identify, outcome)
        return outcome

    def _sort_batch_answer(
        self,
        answer: dict[str, Any],
        inputs: list[dict[str, Any]],
        identify: Callable[[dict[str, Any]], str | None],
        outcome: BatchOutcome,
    ) -> None:
        """File a batch answer's results and errors under the inputs' ``objectWriteTraceId``."""
        trace_by_id = {item["id"]: item["objectWriteTraceId"] for item in inputs if "id" in item}
        for result in answer.get("results", []):
            trace = result.get("objectWriteTraceId") or trace_by_id.get(result["id"]) or identify(result)
            if trace:
                outcome.confirmed[trace] = result["id"]
        for error in answer.get("errors", []):
            context = error.get("context") or {}
            traces = [
                *context.get("objectWriteTraceId", []),
                *(trace_by_id[i] for i in context.get("ids", []) if i in trace_by_id),
            ]
            details = (detail.get("message") for detail in error.get("errors", []))
            reason = " ".join(filter(None, [error.get("category"), error.get("message"), *details]))
            outcome.rejected.update({trace: self._redact(reason) for trace in traces})

    def _write(self, path: str, body: dict[str, Any], *, accepted: tuple[int, ...] = ()) -> requests.Response | None:
        """POST a request that changes data; in a dry run, write it to a file instead (and return None)."""
        if self.dry_run:
            headers = {"Authorization": f"Bearer {REDACTED}", "Content-Type": "application/json"}
            self._record("POST", self.base_url + path, label=path, headers=headers, json=body)
            return None
        return self._request("POST", path, body, accepted=accepted)

    def _request(
        self, method: str, path: str, body: dict[str, Any], *, accepted: tuple[int, ...] = ()
    ) -> requests.Response:
        """Send with retries: 5xx, timeouts and short-term 429s are retried, everything else raises."""
        return self._retried(self._attempt, method, path, body, accepted)

    def _attempt(self, method: str, path: str, body: dict[str, Any], accepted: tuple[int, ...]) -> requests.Response:
        if path.endswith("/search"):
            self._throttle_search()
        response = self._exchange(method, self.base_url + path, json=body)
        if response.status_code == 429 and json_body(response).get("policyName") == "DAILY":
            raise pause_or_stop(self.crm, f"daily API limit is used up ({method} {path})", None, self.retry)
        self._raise_for_status(response, f"{method} {path}", accepted=accepted)
        return response

    def _throttle_search(self) -> None:
        now = self._clock()
        if self._last_search is not None and now - self._last_search < self.search_interval:
            self._sleep(self.search_interval - (now - self._last_search))
            now = self._clock()
        self._last_search = now

    def _reason(self, response: requests.Response) -> str:
        details = json_body(response)
        details = details if isinstance(details, dict) else {}
        reason = " ".join(str(part) for part in (details.get("category"), details.get("message")) if part)
        return self._redact(reason or response.reason or "")

    def _objects_path(self, object_type: str, action: str) -> str:
        return f"/crm/objects/{self.api_version}/{object_type}/{action}"

    def _properties_path(self, action: str) -> str:
        return f"/crm/properties/{self.api_version}/companies/{action}"

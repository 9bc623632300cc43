"""The data inventory: where personal data may be, how long it stays, and the setting that says so.

Rendered from the schema's personal-data tags and the retention rules, so the README's
inventory (a test compares it with ``render_inventory()``) cannot drift from what the
warehouse holds. Files outside the warehouse are fixed rows.
"""

from __future__ import annotations

from collections import defaultdict

from connectors.privacy_store import RETENTION_RULES
from connectors.schema import WAREHOUSE, Personal, personal_columns
from enrichment.settings import PrivacySettings

WHAT = {
    Personal.IP_ADDRESS: "visitor IP addresses",
    Personal.NETWORK: "the MaxMind network of an address",
    Personal.RAW_LINE: "log lines as written (address, user agent, URL)",
    Personal.VISITOR_KEY: "pseudonymous visitor ids (the site's, or a keyed hash of IP and user agent)",
    Personal.VISIT_ID: "visit and session ids (a visitor id and a start time)",
    Personal.ORGANIZATION: "organization and ISP names (some are people: sole proprietors)",
    Personal.URL: "page and referrer URLs (a query string may name someone)",
}
# Kinds without a retention rule of their own.
NO_LIMIT = {
    Personal.ORGANIZATION: "no limit; `visitor-intent forget --organization` removes it",
    Personal.URL: "no limit; goes with the rows `visitor-intent forget` removes",
}

FILES = [
    (
        "spooled logs (`spool_directory`)",
        "every parsed hit: IP addresses, scrubbed URLs and referrers, user agents, visitor ids",
        "until every day in the file is past the raw-IP limit (a busy day's chunks: until the day is worked,"
        " or the next retention run if the process was killed); `forget` removes them all",
        "`privacy.raw_ip_retention_days`",
    ),
    (
        "report folders (`report.directory`)",
        "organization names (prospects), and per account its visits: visit ids, times, URLs, referrers",
        f"{PrivacySettings().report_retention_days} days after the window's last day, then removed; "
        "`forget` removes the forgotten accounts and organizations",
        "`privacy.report_retention_days`",
    ),
    (
        "CRM records and notes",
        "none: company-level figures, page paths, topics, stages and scores",
        "as the CRM keeps them; `forget` removes the forgotten accounts' notes and figures",
        "–",
    ),
]


def render_inventory() -> str:
    """The inventory as a markdown table: one row per table and kind of personal data, then the files."""
    kinds_by_table: dict[str, dict[Personal, list[str]]] = defaultdict(lambda: defaultdict(list))
    for column in personal_columns(WAREHOUSE):
        kinds_by_table[column.table.name][column.info["personal"]].append(f"`{column.name}`")
    lines = ["| where | personal data it may hold | kept | setting |", "|---|---|---|---|"]
    for table, kinds in kinds_by_table.items():
        for kind, columns in kinds.items():
            kept, settings = _retention(kind)
            lines.append(f"| `{table}` | {', '.join(columns)}: {WHAT[kind]} | {kept} | {settings} |")
    lines += [f"| {where} | {what} | {kept} | {setting} |" for where, what, kept, setting in FILES]
    return "\n".join(lines) + "\n"


def _retention(kind: Personal) -> tuple[str, str]:
    """How long ``kind`` is kept by default, and the settings that change it."""
    rules = [rule for rule in RETENTION_RULES if rule.kind is kind]
    if not rules:
        return NO_LIMIT[kind], "–"
    defaults = PrivacySettings()
    kept = "; ".join(f"{getattr(defaults, rule.setting)} days, then {rule.action.value}" for rule in rules)
    settings = ", ".join(dict.fromkeys(f"`privacy.{rule.setting}`" for rule in rules))
    return kept, settings

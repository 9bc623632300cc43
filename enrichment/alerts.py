"""Who hears what about their accounts: alerts and digests for account owners, per report window.

An account's owner (the ``owner`` column of the target accounts file) is alerted when, in a
window, the account

- **hot**: became hot (``enrichment.intent`` levels) and was not hot by score the window before;
- **mqa**: became marketing-qualified and was not the window before;
- **surging**: surges, reading well above its own baseline (a surge is news each time);
- **decision**: reached the decision stage, which it had not reached the window before.

The previous window is judged by its score and furthest stage (``previous_score``,
``previous_stage``): a level it owed to a surge alone is not known, so an account that was
hot only by surging and is now hot by score is alerted as newly hot.

Every owner also gets a digest of their accounts active in the window, best first. Accounts
without an owner alert nobody.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from enrichment.intent import IntentSettings, marketing_qualified

# In the order a message names them: the strongest reason to call first.
REASONS = ("hot", "mqa", "surging", "decision")
REASON_PHRASES = {
    "hot": "became hot",
    "mqa": "became marketing-qualified",
    "surging": "is surging",
    "decision": "reached the decision stage",
}
TOP_PAGES = 3  # an alert is read at a glance


@dataclass(frozen=True)
class AccountNews:
    """One account's window as its owner reads it; ``reasons`` are its alerts (none: digest only)."""

    account_id: str
    name: str
    owner: str
    intent_score: float
    level: str
    furthest_stage: str | None
    movement: str
    mqa: bool
    surge: float
    explanation: str
    top_pages: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class OwnerDigest:
    """An owner's accounts active in one window, best intent first."""

    owner: str
    window_start: dt.date
    window_end: dt.date
    accounts: tuple[AccountNews, ...]

    @property
    def alerts(self) -> tuple[AccountNews, ...]:
        """The accounts that earned an alert."""
        return tuple(account for account in self.accounts if account.reasons)


def alert_reasons(accounts: pd.DataFrame, settings: IntentSettings) -> pd.Series:
    """Per account (aligned with ``accounts``, a window's assessed accounts), its alert reasons in ``REASONS`` order."""
    previous_score = accounts["previous_score"].astype("float64").fillna(0.0)
    decision = accounts["furthest_stage"] == "decision"
    earned = pd.DataFrame(
        {
            "hot": (accounts["level"] == "hot") & (previous_score < settings.hot_score),
            "mqa": accounts["mqa"] & ~marketing_qualified(previous_score, accounts["previous_stage"], settings),
            "surging": accounts["surging"].astype(bool),
            "decision": decision & (accounts["previous_stage"] != "decision"),
        },
        index=accounts.index,
    )
    reasons = [tuple(reason for reason in REASONS if row[reason]) for row in earned.to_dict("records")]
    return pd.Series(reasons, index=accounts.index, dtype=object)


def owner_digests(
    accounts: pd.DataFrame, settings: IntentSettings, *, window_start: dt.date, window_end: dt.date
) -> list[OwnerDigest]:
    """One digest per owner of an active account, owners in name order; accounts best intent first."""
    owned = accounts[accounts["owner"].fillna("").astype("str").str.strip() != ""]
    if owned.empty:
        return []
    owned = owned.assign(reasons=alert_reasons(owned, settings)).sort_values(
        ["intent_score", "account_id"], ascending=[False, True]
    )
    return [
        OwnerDigest(
            owner=str(owner).strip(),
            window_start=window_start,
            window_end=window_end,
            accounts=tuple(_news(row) for row in rows.itertuples(index=False)),
        )
        for owner, rows in owned.groupby(owned["owner"].str.strip(), sort=True)
    ]


def _news(row: Any) -> AccountNews:
    """An account's row (a named tuple of the assessed columns and ``reasons``) as its owner reads it."""
    return AccountNews(
        account_id=str(row.account_id),
        name=str(row.name),
        owner=str(row.owner).strip(),
        intent_score=float(row.intent_score),
        level=str(row.level),
        furthest_stage=row.furthest_stage if isinstance(row.furthest_stage, str) else None,
        movement=str(row.movement),
        mqa=bool(row.mqa),
        surge=float(row.surge),
        explanation=str(row.explanation or ""),
        top_pages=tuple(page for page in str(row.top_contributions or "").split("; ") if page)[:TOP_PAGES],
        reasons=row.reasons,
    )

"""Which target account a CRM record carries when several accounts lead to the same record.

A CRM record has one set of intent fields: two accounts writing it would overwrite each
other's figures on every run. The account with the highest intent score claims the
record (on a tie, the lowest account id, so the choice never depends on row order); the
others are not delivered until each has a record of its own (a ``crm_id`` or a domain).
"""

from __future__ import annotations

from collections.abc import Iterable


def record_claims(candidates: Iterable[tuple[str, str, float]]) -> dict[str, str]:
    """The claiming account id of each record id, from ``(account_id, record_id, intent_score)`` triples."""
    claims: dict[str, str] = {}
    for account_id, record_id, _ in sorted(candidates, key=lambda c: (-c[2], c[0])):
        claims.setdefault(record_id, account_id)
    return claims

"""The `visitor-intent` commands that look into or change stored data: resolve, forget, db, inspect-log."""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from dataclasses import replace

import pandas as pd

from connectors.config_files import load_settings, rules_file, settings_file


def resolve_command(args: argparse.Namespace) -> int:
    """`visitor-intent resolve`: each IP's MaxMind records and the decision chain, as the pipeline decides."""
    from connectors.maxmind import MaxMindDatabases
    from enrichment.errors import ConfigError
    from enrichment.resolution import claim_account_ranges, classify, classify_lookups
    from pipelines.resources import resources_from_file

    for ip in args.ips:  # a typo is the user's to fix, not a row of "no record"
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise ConfigError(f"{ip!r} is not an IPv4 or IPv6 address") from None
    resources = resources_from_file(args.settings or settings_file())
    rules = resources["rules"].classification_rules()
    databases = MaxMindDatabases.from_directory(args.maxmind_dir) if args.maxmind_dir else resources["maxmind"].open()
    with databases:
        lookups = databases.lookup(args.ips)
        # What the pipeline does: a target account's own IP ranges win over MaxMind.
        claimed = claim_account_ranges(
            classify_lookups(lookups, rules), resources["rules"].target_accounts()
        ).set_index("ip")
        lookups = lookups.set_index("ip")
        for ip in args.ips:
            record = {k: (None if pd.isna(v) else v) for k, v in lookups.loc[ip].to_dict().items()}
            decision = classify(record, rules)
            if claimed.loc[ip, "reason"] == "account_ip_range":
                record["organization"] = claimed.loc[ip, "organization"]
                decision = replace(
                    decision,
                    classification="company",
                    reason="account_ip_range",
                    confidence=1.0,
                    rule="a target account's ip_ranges (the account list in the settings)",
                    evidence=[*decision.evidence[:-1], "decision: company (account_ip_range)"],
                )
            if args.json:
                args.out(
                    json.dumps(
                        {
                            "ip": ip,
                            **record,
                            "classification": decision.classification,
                            "reason": decision.reason,
                            "confidence": decision.confidence,
                            "rule": decision.rule,
                            "rules_version": decision.rules_version,
                            "evidence": decision.evidence,
                        },
                        default=str,
                    )
                )
            else:
                args.out(f"{ip}: {decision.classification} ({decision.reason})")
                args.out(f"  confidence: {decision.confidence:.2f}")
                args.out(f"  decided by: {decision.rule or 'no rule (nothing to name)'}")
                args.out(f"  rules: {rules_file()} version {decision.rules_version}")
                for edition, statement in databases.explain(ip):
                    args.out(f"  {edition}: {statement}")
                for step in decision.evidence:
                    args.out(f"  seen: {step}")
    return 0


def forget_command(args: argparse.Namespace) -> int:
    """`visitor-intent forget`: a network or an organization out of every place we wrote it."""
    from pipelines.forgetting import forget_everywhere

    result = forget_everywhere(args.settings or settings_file(), network=args.network, organization=args.organization)
    deleted, reports = result.warehouse.deleted, result.reports
    args.out(f"forgot {args.network or args.organization!r}: {sum(deleted.values())} rows")
    for table, rows in sorted(deleted.items()):
        args.out(f"  {table}: {rows}")
    args.out(f"  spooled logs removed: {result.spooled_logs}")
    args.out(
        f"  reports: {reports.account_pages} account pages, {reports.csv_rows} CSV rows, "
        f"{reports.summary_rows} summary rows removed"
    )
    for crm in result.crms:
        args.out(f"  {crm.sink}: {crm.accounts} accounts, {crm.notes_deleted} notes, {crm.records_cleared} records")
        for account_id, why in sorted(crm.failures.items()):
            print(f"error: {crm.sink} still holds {account_id}: {why} (run forget again)", file=sys.stderr)
    return 1 if any(crm.failures for crm in result.crms) else 0


def db_upgrade_command(args: argparse.Namespace) -> int:
    """`visitor-intent db upgrade`: run the migrations the warehouse lacks."""
    from connectors.migrations import current_revision, ensure_current, head_revision
    from connectors.warehouse import create_engine
    from pipelines.resources import warehouse_url

    engine = create_engine(warehouse_url(load_settings(args.settings)))
    before = current_revision(engine)
    if ensure_current(engine):
        args.out(f"warehouse upgraded from {before or 'no schema'} to {head_revision()}")
    else:
        args.out(f"warehouse already at {head_revision()}")
    engine.dispose()
    return 0


def db_current_command(args: argparse.Namespace) -> int:
    """`visitor-intent db current`: the warehouse's migration and this release's."""
    from connectors.migrations import current_revision, head_revision
    from connectors.warehouse import create_engine
    from pipelines.resources import warehouse_url

    engine = create_engine(warehouse_url(load_settings(args.settings)))
    current, head = current_revision(engine), head_revision()
    engine.dispose()
    if current == head:
        args.out(f"{current} (this release's schema)")
    else:
        args.out(f"{current or 'no schema'}; this release's is {head}: run `visitor-intent db upgrade`")
    return 0


def inspect_log_command(args: argparse.Namespace) -> int:
    """`visitor-intent inspect-log`: each file's detected format and its parsed and quarantined lines."""
    from connectors.hits import EMPTY_LOG, UnknownLogFormat, inspect_log

    exit_code = 0
    for path in args.paths:
        try:
            report = inspect_log(path, timezone=args.timezone)
        except UnknownLogFormat as unknown:  # say so, and go on with the other files
            print(f"error: {unknown}", file=sys.stderr)
            exit_code = 2
            continue
        if args.json:
            args.out(json.dumps(report.to_dict(), default=str))
            continue
        if report.format == EMPTY_LOG and not report.lines:
            args.out(f"{path}: empty: no log records (0 bytes, blank, or headers only); nothing to read")
            continue
        args.out(
            f"{path}: {report.format}; {report.lines} lines, {report.parsed} parsed, {report.quarantined} quarantined"
        )
        if report.local_times:
            args.out(
                f"  {report.local_times} times written without a zone, read as local time in {report.timezone}"
                " (set the source's `timezone` if that is wrong)"
            )
        for reason, count in sorted(report.reasons.items(), key=lambda item: -item[1]):
            args.out(f"  {reason}: {count}")
        for line_no, reason, raw in report.first_errors:
            args.out(f"  line {line_no}: {reason}: {raw[:120]}")
    return exit_code

"""`visitor-intent`: the demo, one-off runs, and debugging a MaxMind lookup or a log file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from connectors.hits import ColumnMappingError, UnknownLogFormat
from connectors.maxmind import MaxMindDatabaseError
from enrichment.errors import ConfigError
from enrichment.settings import Settings, load_settings

# Mistakes a user can fix from the message alone: print it, no traceback.
USER_ERRORS = (ConfigError, MaxMindDatabaseError, UnknownLogFormat, ColumnMappingError, FileNotFoundError)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Entry point of the `visitor-intent` command; ``out`` receives each line of output."""
    args = _parser().parse_args(argv)
    args.out = out
    try:
        return args.command(args)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="visitor-intent", description=__doc__)
    parser.add_argument(
        "--settings", type=Path, help="settings file (default: $VISITOR_INTENT_SETTINGS or config/settings.yaml)"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="build the demo data and database, run everything, print where the reports are"
    )
    demo.set_defaults(command=_demo)

    run = commands.add_parser("run", help="run the pipeline in-process on log files and write the reports")
    run.add_argument(
        "--hits", nargs="+", required=True, type=Path, metavar="PATH", help="log files (any supported format, .gz too)"
    )
    run.add_argument("--accounts", type=Path, metavar="CSV", help="target accounts (default: from the settings)")
    run.add_argument("--taxonomy", type=Path, metavar="YAML", help="content taxonomy (default: from the settings)")
    run.add_argument(
        "--maxmind-dir", type=Path, metavar="DIR", help="folder with GeoIP2-*.mmdb / GeoLite2-*.mmdb files"
    )
    run.add_argument(
        "--out", dest="reports_dir", type=Path, metavar="DIR", help="report folder (default: from the settings)"
    )
    run.set_defaults(command=_run)

    resolve = commands.add_parser("resolve", help="resolve IPs and show the decision chain")
    resolve.add_argument("ips", nargs="+", metavar="IP")
    resolve.add_argument("--maxmind-dir", type=Path, metavar="DIR")
    resolve.add_argument("--json", action="store_true", help="one JSON object per line")
    resolve.set_defaults(command=_resolve)

    forget = commands.add_parser("forget", help="remove everything stored for a network or an organization")
    target = forget.add_mutually_exclusive_group(required=True)
    target.add_argument("--network", metavar="CIDR", help="e.g. 203.0.113.0/24 (a single address works too)")
    target.add_argument("--organization", metavar="NAME", help="as MaxMind names it (case and spacing ignored)")
    forget.set_defaults(command=_forget)

    db = commands.add_parser("db", help="the warehouse's schema: which migration it is at, and upgrading it")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="run the migrations the warehouse lacks").set_defaults(command=_db_upgrade)
    db_commands.add_parser("current", help="show the warehouse's migration and this release's").set_defaults(
        command=_db_current
    )

    inspect = commands.add_parser("inspect-log", help="detect a log's format and count parsed and quarantined lines")
    inspect.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    inspect.add_argument("--json", action="store_true", help="one JSON object per file")
    inspect.add_argument(
        "--timezone",
        default="UTC",
        type=_timezone,
        metavar="ZONE",
        help="IANA zone of times the log writes without one, e.g. IIS date-local (default: UTC)",
    )
    inspect.set_defaults(command=_inspect_log)
    return parser


def _timezone(name: str) -> str:
    from connectors.hits.reader import check_timezone

    try:
        check_timezone(name)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return name


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.settings)


def _demo(args: argparse.Namespace) -> int:
    from demo.hits import write_sample_hits
    from demo.mmdb import build_demo_database

    settings = _settings(args)
    # The demo writes where the settings file reads, so `dagster dev` sees the same data afterwards.
    hits_file = settings.path(settings.sources[0].paths[0]).parent / "access.log"
    hits_file.parent.mkdir(parents=True, exist_ok=True)
    write_sample_hits(hits_file)
    maxmind_dir = settings.path(settings.maxmind.directory or "maxmind")
    maxmind_dir.mkdir(parents=True, exist_ok=True)
    database = build_demo_database(maxmind_dir)
    args.out(f"demo hits:      {hits_file}")
    args.out(f"demo database:  {database}")
    return _run_and_report(args, settings, hits=[hits_file])


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return _run_and_report(
        args,
        settings,
        hits=args.hits,
        accounts=args.accounts,
        taxonomy=args.taxonomy,
        maxmind_dir=args.maxmind_dir,
        reports_dir=args.reports_dir,
    )


def _run_and_report(args: argparse.Namespace, settings: Settings, *, hits: list[Path], **overrides: Path | None) -> int:
    from pipelines.definitions import build_definitions
    from pipelines.resources import resources_from_settings
    from pipelines.runner import Span, run_span

    resources = resources_from_settings(
        settings, hits=[str(h) for h in hits], **{k: str(v) for k, v in overrides.items() if v is not None}
    )
    hit_sources = resources["hit_sources"]
    days = hit_sources.days()
    if not days:
        return _no_hits(args, hit_sources)
    span = Span(days)
    # Partitions start at the first day of the data, whatever the settings say.
    settings = settings.model_copy(update={"partitions_start": span.first_day})
    locations = run_span(build_definitions(settings, resources), span, settings.report.window_days)
    args.out(f"processed {span.first_day} to {span.last_day}; reports:")
    for location in locations:
        args.out(f"  {location}")
    return 0


def _resolve(args: argparse.Namespace) -> int:
    from connectors.maxmind import MaxMindDatabases
    from enrichment.classification_rules import rules_file
    from enrichment.resolution import claim_account_ranges, classify, classify_lookups
    from pipelines.resources import resources_from_settings

    resources = resources_from_settings(_settings(args))
    databases = MaxMindDatabases.from_directory(args.maxmind_dir) if args.maxmind_dir else resources["maxmind"].open()
    with databases:
        lookups = databases.lookup(args.ips)
        # What the pipeline does: a target account's own IP ranges win over MaxMind.
        claimed = claim_account_ranges(classify_lookups(lookups), resources["rules"].target_accounts()).set_index("ip")
        lookups = lookups.set_index("ip")
        for ip in args.ips:
            record = {k: (None if pd.isna(v) else v) for k, v in lookups.loc[ip].to_dict().items()}
            decision = classify(record)
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


def _forget(args: argparse.Namespace) -> int:
    from connectors.hits.spool import HitSpool
    from connectors.privacy_store import forget
    from connectors.warehouse import Warehouse
    from pipelines.resources import warehouse_url

    settings = _settings(args)
    result = forget(Warehouse(warehouse_url(settings)), network=args.network, organization=args.organization)
    # Spooled logs are parsed copies of whole files: drop them all rather than edit them.
    spooled = HitSpool(settings.path(settings.spool_directory)).clear()
    args.out(f"forgot {args.network or args.organization!r}: {sum(result.deleted.values())} rows")
    for table, rows in sorted(result.deleted.items()):
        args.out(f"  {table}: {rows}")
    args.out(f"  spooled logs removed: {spooled}")
    return 0


def _no_hits(args: argparse.Namespace, hit_sources) -> int:
    """Nothing to run: fine when the files hold no records (a freshly rotated log), an error otherwise."""
    summaries = {
        path: hit_sources.spool.summary(path, source.options())
        for source in hit_sources.sources
        for path in source.files()
    }
    if summaries and not any(summary.records or summary.unreadable for summary in summaries.values()):
        args.out("nothing to run: the given files hold no log records")
        return 0
    print("error: no parsable hits in the given files (try `visitor-intent inspect-log`)", file=sys.stderr)
    for path, summary in summaries.items():
        if summary.unreadable:
            print(f"  {path}: {summary.unreadable}", file=sys.stderr)
    return 1


def _db_upgrade(args: argparse.Namespace) -> int:
    from connectors.migrations import current_revision, ensure_current, head_revision
    from connectors.warehouse import create_engine
    from pipelines.resources import warehouse_url

    engine = create_engine(warehouse_url(_settings(args)))
    before = current_revision(engine)
    if ensure_current(engine):
        args.out(f"warehouse upgraded from {before or 'no schema'} to {head_revision()}")
    else:
        args.out(f"warehouse already at {head_revision()}")
    engine.dispose()
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from connectors.migrations import current_revision, head_revision
    from connectors.warehouse import create_engine
    from pipelines.resources import warehouse_url

    engine = create_engine(warehouse_url(_settings(args)))
    current, head = current_revision(engine), head_revision()
    engine.dispose()
    if current == head:
        args.out(f"{current} (this release's schema)")
    else:
        args.out(f"{current or 'no schema'}; this release's is {head}: run `visitor-intent db upgrade`")
    return 0


def _inspect_log(args: argparse.Namespace) -> int:
    from connectors.hits import EMPTY_LOG, inspect_log

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

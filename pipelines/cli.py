"""`visitor-intent`: the demo, one-off runs, and debugging a MaxMind lookup or a log file."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from connectors.config_files import DEFAULT_SETTINGS_FILE, load_settings, settings_file
from enrichment.settings import Settings
from pipelines.data_commands import (
    db_current_command,
    db_upgrade_command,
    forget_command,
    inspect_log_command,
    resolve_command,
)

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from pipelines.resources import HitSourcesResource
    from pipelines.runner import Span

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The demo passes every check that fails a run; these warnings are part of its story.
DEMO_WARNINGS = (
    "expected in the demo:",
    "  bot_share warns on the scraper's three days (one spree per report window), as it should;",
    "  identification_by_country warns for the US and Germany: the sample traffic has far more people at home",
    "  and on mobile there than a B2B site would, to show that they are never reported as companies.",
)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    """Entry point of the `visitor-intent` command; ``out`` receives each line of output.

    A mistake the user can fix ends the command with one line on stderr and exit code 2,
    wherever it was found (inside a Dagster run too); ``--debug`` adds the traceback.
    """
    args = _parser().parse_args(argv)
    args.out = out
    try:
        return args.command(args)
    except Exception as error:
        from pipelines.preflight import user_error

        mistake = user_error(error)
        if mistake is None:
            raise
        if args.debug:
            traceback.print_exception(error)
        print(f"error: {' '.join(str(mistake).split())}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="visitor-intent", description=__doc__)
    parser.add_argument(
        "--settings", type=Path, help="settings file (default: $VISITOR_INTENT_SETTINGS or config/settings.yaml)"
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
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
        "--out", dest="reports_dir", type=Path, metavar="DIR", help="report folder (default: the workspace's)"
    )
    run.add_argument(
        "--workspace",
        type=Path,
        metavar="DIR",
        help="where the warehouse, spool, reports and run records go (default: the settings' own; "
        "with the bundled demo settings, .visitor-intent/run, apart from the demo's)",
    )
    run.set_defaults(command=_run)

    resolve = commands.add_parser("resolve", help="resolve IPs and show the decision chain")
    resolve.add_argument("ips", nargs="+", metavar="IP", help="IPv4 or IPv6 addresses")
    resolve.add_argument("--maxmind-dir", type=Path, metavar="DIR")
    resolve.add_argument("--json", action="store_true", help="one JSON object per line")
    resolve.set_defaults(command=resolve_command)

    forget = commands.add_parser("forget", help="remove everything stored for a network or an organization")
    target = forget.add_mutually_exclusive_group(required=True)
    target.add_argument("--network", metavar="CIDR", help="e.g. 203.0.113.0/24 (a single address works too)")
    target.add_argument("--organization", metavar="NAME", help="as MaxMind names it (case and spacing ignored)")
    forget.set_defaults(command=forget_command)

    db = commands.add_parser("db", help="the warehouse's schema: which migration it is at, and upgrading it")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="run the migrations the warehouse lacks").set_defaults(
        command=db_upgrade_command
    )
    db_commands.add_parser("current", help="show the warehouse's migration and this release's").set_defaults(
        command=db_current_command
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
    inspect.set_defaults(command=inspect_log_command)
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
    code = _run_and_report(args, hits=[hits_file])
    if code == 0:
        for line in DEMO_WARNINGS:
            args.out(line)
    return code


def _run(args: argparse.Namespace) -> int:
    workspace = args.workspace
    settings_path = (args.settings or settings_file()).resolve()
    if workspace is None and settings_path == DEFAULT_SETTINGS_FILE.resolve():
        # The bundled settings are the demo's: the user's own files get a workspace of their own.
        workspace = load_settings(settings_path).path("../.visitor-intent/run")
    overrides = {
        "accounts": args.accounts,
        "taxonomy": args.taxonomy,
        "maxmind_dir": args.maxmind_dir,
        "reports_dir": args.reports_dir,
    }
    return _run_and_report(args, hits=args.hits, workspace=workspace, **overrides)


def _run_and_report(
    args: argparse.Namespace, *, hits: list[Path], workspace: Path | None = None, **overrides: Path | None
) -> int:
    """Check everything, spool the files, run their days and report windows, print what came out."""
    from pipelines.crm_resources import CRM_RESOURCE_KEYS
    from pipelines.preflight import preflight
    from pipelines.resources import resources_from_file
    from pipelines.runner import RunTarget, fail_abandoned_runs, run_span

    settings_path = (args.settings or settings_file()).resolve()
    if workspace is not None:
        workspace = workspace.resolve()
    given = {key: str(Path(value).resolve()) for key, value in overrides.items() if value is not None}
    files = [str(Path(path).resolve()) for path in hits]
    resources = resources_from_file(settings_path, workspace=str(workspace) if workspace else None, hits=files, **given)
    settings = resources["settings"].get()
    preflight(resources, hits=hits)
    _say_where(args, settings)

    progress = Progress(sys.stderr)
    span = _spool(resources["hit_sources"], len(files), progress)
    if not span.days:
        return _no_hits(args, resources["hit_sources"])
    target = RunTarget(str(settings_path), str(workspace) if workspace else None, {"hits": files, **given})
    instance, dagster_home = _instance((workspace or settings.path(settings.warehouse_file).parent) / "dagster_home")
    if dagster_home:
        args.out(f"dagster runs:   {dagster_home} (see them with DAGSTER_HOME={dagster_home} dagster dev)")
    with instance:
        for run_id in fail_abandoned_runs(instance):
            args.out(f"marked failed:  run {run_id}, left behind by a visitor-intent process that was killed")
        crm = any(key in resources for key in CRM_RESOURCE_KEYS)
        try:
            result = run_span(instance, target, span, settings.report.window_days, crm=crm, progress=progress)
        finally:
            progress.clear()
    args.out(f"processed {span.first_day} to {span.last_day} in {len(result.run_ids)} runs; reports:")
    for location in result.reports:
        args.out(f"  {location}")
    for check in result.checks:
        args.out(f"check {check.line()}")
    return 0


def _say_where(args: argparse.Namespace, settings: Settings) -> None:
    from pipelines.resources import DATABASE_URL_ENV_VAR

    # The URL may hold a password: name the variable, not its value.
    warehouse = (
        f"${DATABASE_URL_ENV_VAR}" if os.environ.get(DATABASE_URL_ENV_VAR) else settings.path(settings.warehouse_file)
    )
    reports = settings.path(settings.report.directory)
    args.out(
        f"workspace:      warehouse {warehouse}, spool {settings.path(settings.spool_directory)}, reports {reports}"
    )


def _spool(hit_sources: HitSourcesResource, files: int, progress: Progress) -> Span:
    """Parse the given files into the spool (once); the days they hold, with their hit counts."""
    from pipelines.runner import Span

    hits_per_day: dict[dt.date, int] = {}
    for number, log in enumerate(hit_sources.spool_sources(), 1):
        for day, count in log.hits.items():
            hits_per_day[day] = hits_per_day.get(day, 0) + count
        progress(f"files parsed {number}/{files}")
    progress.clear()
    return Span(frozenset(day for day, count in hits_per_day.items() if count), hits_per_day)


def _instance(default_home: Path) -> tuple[DagsterInstance, Path | None]:
    """The instance of $DAGSTER_HOME when it is set; else one in ``default_home`` (made ready), and that folder."""
    from dagster import DagsterInstance

    if os.environ.get("DAGSTER_HOME"):
        return DagsterInstance.get(), None
    default_home.mkdir(parents=True, exist_ok=True)
    instance_file, shipped = default_home / "dagster.yaml", PROJECT_ROOT / "dagster.yaml"
    if not instance_file.exists():
        instance_file.write_text(
            shipped.read_text(encoding="utf-8") if shipped.exists() else "telemetry: {enabled: false}\n"
        )
    return DagsterInstance.from_config(str(default_home)), default_home


class Progress:
    """On a terminal, one line kept up to date: what is done and the time since the start. Elsewhere, nothing."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = stream.isatty()
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        if self.shown:
            self.stream.write(f"\r\033[K{message} · {time.monotonic() - self.started:.0f} s")
            self.stream.flush()

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _no_hits(args: argparse.Namespace, hit_sources) -> int:
    """Nothing to run: fine when the files hold no records (a freshly rotated log), an error otherwise."""
    summaries = {path: hit_sources.spool.summary(path, options) for path, options in hit_sources.source_files()}
    if summaries and not any(summary.records or summary.unreadable for summary in summaries.values()):
        args.out("nothing to run: the given files hold no log records")
        return 0
    print("error: no parsable hits in the given files (try `visitor-intent inspect-log`)", file=sys.stderr)
    for path, summary in summaries.items():
        if summary.unreadable:
            print(f"  {path}: {summary.unreadable}", file=sys.stderr)
    return 1

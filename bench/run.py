"""Benchmark: the whole pipeline against GoAccess, and resolution against its limits.

    .venv/bin/python -m bench.run --hits 1000000 [--repeat 3] [--postgres] [--memory-check]

On one seeded log and one demo MaxMind database (`bench.generate`) it times

(a) the project's pipeline end to end (`visitor-intent run`, in-process, in a child
    process so its peak RSS is its own), on SQLite (and with ``--postgres`` on PostgreSQL);
(b) GoAccess on the same log and ``.mmdb`` (parsing plus geo lookups), the reference;
(c) a raw ``maxminddb`` C-extension ``get`` loop over the unique IPs, the limit for resolution;
(d) the naive per-hit path: ``geoip2`` ``Reader.enterprise(ip)`` in a pandas ``apply``
    on a sample of hits;
(e) the project's resolution of the unique IPs: ``MaxMindDatabases.lookup`` + ``classify_lookups``;
(f) with ``--postgres``: ``Warehouse.replace_partition`` of 1M parsed hits on PostgreSQL (COPY);

and prints markdown tables: throughput, the ratios against the issue's targets and the
pipeline's peak RSS (at 10M hits too with ``--memory-check`` or ``--hits 10000000``).

``--shape replay`` builds the log from a real Apache log instead (`bench.replay`: many days,
tens of thousands of IPs, the source's own requests and user agents) and checks it against
the targets for real multi-day logs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.child_processes import child_pipeline, ensure_goaccess, root_cause
from bench.generate import DEFAULT_NETWORKS, DEFAULT_SEED, read_ip_counts
from bench.replay import SOURCE_LOG
from bench.report import (
    TARGET_PG_ROWS_PER_SECOND,
    TARGET_PIPELINE_VS_GOACCESS,
    TARGET_REPLAY_RSS_MIB,
    TARGET_RESOLUTION_VS_NAIVE,
    TARGET_RESOLUTION_VS_RAW,
    TARGET_RSS_GROWTH,
    Out,
    machine,
    memory_table,
    ratio,
    ratio_row,
    results_table,
    versions,
)
from bench.stages import bench_data, memory_rows, time_pipeline_and_goaccess, time_postgres, time_resolution
from bench.timings import maxminddb_extension_in_use, postgres_version

DEFAULT_POSTGRES_URL = os.environ.get(
    "VISITOR_INTENT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=1_000_000, help="hits in the log (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=1, help="repeat every timing, report medians (default 1)")
    parser.add_argument("--postgres", action="store_true", help="also run the pipeline on PostgreSQL and time (f)")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server for --postgres (default $VISITOR_INTENT_TEST_POSTGRES_URL or 127.0.0.1:5432/test); "
        "each run gets a fresh schema, dropped afterwards",
    )
    parser.add_argument(
        "--memory-check", action="store_true", help="also run the pipeline on --memory-hits hits for its peak RSS"
    )
    parser.add_argument("--memory-hits", type=int, default=10_000_000, help="log size for --memory-check (default 10M)")
    parser.add_argument(
        "--shape",
        choices=("generated", "replay"),
        default="generated",
        help="generated: seeded one-day-per-million log (default); replay: a real Apache log replayed over 11+ days",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--networks",
        type=int,
        default=DEFAULT_NETWORKS,
        help=f"synthetic networks in the .mmdb besides the demo's (default {DEFAULT_NETWORKS:,})",
    )
    parser.add_argument(
        "--naive-sample", type=int, default=100_000, help="hits the naive path (d) looks up (default 100,000)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep generated logs and databases here and reuse them (default: a temporary folder, removed)",
    )
    parser.add_argument("--no-install", action="store_true", help="do not apt-get install GoAccess when it is missing")
    parser.add_argument("--no-goaccess", action="store_true", help="skip GoAccess")
    parser.add_argument("--output", type=Path, help="also write the report (markdown) to this file")
    return parser


def main(argv: list[str] | None = None, out: Out = print) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child-pipeline"]:
        return child_pipeline(argv[1])
    args = _parser().parse_args(argv)
    if args.hits < 1 or args.repeat < 1:
        raise SystemExit("--hits and --repeat must be at least 1")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="vi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    report: list[str] = []

    def say(line: str = "") -> None:
        report.append(line)
        out(line)

    try:
        code = _bench(args, work, say, out)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.output:
        args.output.write_text("\n".join(report) + "\n", encoding="utf-8")
    return code


def _bench(args: argparse.Namespace, work: Path, say: Out, progress: Out) -> int:
    repeat = args.repeat
    started_all = time.perf_counter()
    data = bench_data(args, work, args.hits, progress)
    ips, counts = read_ip_counts(Path(data.ips_file))
    resolved_hits = int(counts.sum())

    goaccess, goaccess_version = (
        (None, "--no-goaccess") if args.no_goaccess else ensure_goaccess(not args.no_install, progress)
    )
    if goaccess is None:
        progress(f"GoAccess skipped: {goaccess_version}")
    extension = maxminddb_extension_in_use(data.mmdb)
    pg_version = None
    if args.postgres:
        try:
            pg_version = postgres_version(args.postgres_url)
        except Exception as error:  # noqa: BLE001
            progress(f"PostgreSQL not reachable ({root_cause(error)}): --postgres measurements skipped")
            args.postgres = False
    pipeline, goaccess_row = time_pipeline_and_goaccess(data, work, repeat, goaccess, goaccess_version, progress)
    raw, naive, ours_ips, ours_hits = time_resolution(
        data, ips, counts, seed=args.seed, naive_sample=args.naive_sample, repeat=repeat, progress=progress
    )
    sample_size = naive.count

    rows = [pipeline]
    pg_new = pg_replace = None
    if args.postgres:
        pg_pipeline, pg_new, pg_replace = time_postgres(data, work, args.postgres_url, repeat, progress)
        rows.append(pg_pipeline)
    rows += [goaccess_row, raw, naive, ours_ips, ours_hits] + ([pg_new, pg_replace] if pg_new else [])
    memory = memory_rows(args, work, data, pipeline, progress)

    # --- print -----------------------------------------------------------------------------
    say("")
    say(f"## Visitor Intent benchmark: {data.hits:,} hits")
    say("")
    say(f"- machine: {machine()}")
    say(
        f"- versions: {versions(extension, goaccess_version if goaccess else f'GoAccess not measured ({goaccess_version})', pg_version)}"
    )
    bots = data.bot_hits / data.hits
    say(
        f"- data: {data.hits:,} hits over {data.days} day(s) from {data.first_day}, {data.unique_ips:,} unique IPs "
        f"({data.unique_ips / data.hits:.1%}), {bots:.0%} bot hits, {data.malformed_lines:,} malformed lines, "
        f"{data.unique_urls:,} URLs, {data.unique_user_agents:,} user agents; .mmdb with {data.mmdb_networks:,} networks "
        f"({Path(data.mmdb).stat().st_size / 2**20:.1f} MiB); seed {data.seed}"
        + (f"; replayed from {SOURCE_LOG.name}" if args.shape == "replay" else "")
    )
    say(
        f"- timings: median of {repeat} run(s); wall clock; (a) is the whole `visitor-intent run` in a child "
        "process (interpreter start and imports included), (b) the whole `goaccess` process; "
        "(c)–(e) exclude opening the database"
    )
    say("")
    for line in results_table(rows):
        say(line)
    say("")

    pipeline_vs_goaccess = ratio(pipeline.wall, goaccess_row.wall)
    wall_target = TARGET_PIPELINE_VS_GOACCESS[args.shape]
    vs_raw = ratio(ours_ips.rate, raw.rate)
    vs_naive = ratio(ours_hits.rate, naive.rate)
    say("| ratio | value | target | met | basis |")
    say("|---|---:|---:|:---:|---|")
    say(
        ratio_row(
            "pipeline / GoAccess wall",
            pipeline_vs_goaccess,
            f"≤ {wall_target}",
            None if pipeline_vs_goaccess is None else pipeline_vs_goaccess <= wall_target,
            "(a) SQLite wall / (b) wall, same log and .mmdb",
        )
    )
    if args.postgres:
        pg_vs = ratio(rows[1].wall, goaccess_row.wall)
        say(
            ratio_row(
                "pipeline on PostgreSQL / GoAccess wall",
                pg_vs,
                f"≤ {wall_target}",
                None if pg_vs is None else pg_vs <= wall_target,
                "(a) PostgreSQL wall / (b) wall",
            )
        )
    say(
        ratio_row(
            "resolution / raw loop",
            vs_raw,
            f"≥ {TARGET_RESOLUTION_VS_RAW}",
            None if vs_raw is None else vs_raw >= TARGET_RESOLUTION_VS_RAW,
            "unique IPs/s, (e) / (c)",
        )
    )
    say(
        ratio_row(
            "resolution / naive per-hit path",
            vs_naive,
            f"≥ {TARGET_RESOLUTION_VS_NAIVE:g}",
            None if vs_naive is None else vs_naive >= TARGET_RESOLUTION_VS_NAIVE,
            f"hits/s, (e) counting all {resolved_hits:,} hits of its IPs / (d) on {sample_size:,} sampled hits",
        )
    )
    if pg_new is not None:
        say(
            ratio_row(
                "PostgreSQL write rows/s",
                pg_new.rate,
                f"≥ {TARGET_PG_ROWS_PER_SECOND:,}",
                None if pg_new.rate is None else pg_new.rate >= TARGET_PG_ROWS_PER_SECOND,
                "(f) new partition",
            )
        )
    if args.shape == "replay":
        peak = pipeline.rss_mib
        say(
            ratio_row(
                f"pipeline peak RSS MiB at {data.hits:,} hits",
                peak,
                f"≤ {TARGET_REPLAY_RSS_MIB} at 1,000,000",
                None if peak is None or data.hits != 1_000_000 else peak <= TARGET_REPLAY_RSS_MIB,
                "(a) SQLite peak RSS",
            )
        )
    smallest, largest = memory[0], memory[-1]
    growth = ratio(largest[2].rss_mib, smallest[2].rss_mib) if len(memory) > 1 else None
    say(
        ratio_row(
            f"peak RSS {largest[0]:,} / {smallest[0]:,} hits" if len(memory) > 1 else "peak RSS 10M / 1M hits",
            growth,
            f"≤ {TARGET_RSS_GROWTH}",
            None if growth is None else growth <= TARGET_RSS_GROWTH,
            "pipeline peak RSS" if len(memory) > 1 else "run with --memory-check or --hits 10000000",
        )
    )
    say("")
    for line in memory_table(memory):
        say(line)
    say("")
    say(f"bench finished in {time.perf_counter() - started_all:,.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

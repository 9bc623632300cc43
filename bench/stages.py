"""The bench's stages: the data, then measurements (a)–(f) and the peak RSS at other sizes, as table rows."""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path

import numpy as np

from bench.child_processes import run_goaccess, run_pipeline
from bench.generate import Generated, generate
from bench.replay import generate_replay
from bench.report import Measurement, Out
from bench.timings import (
    PostgresSchema,
    parsed_hits,
    time_naive,
    time_postgres_writes,
    time_project_resolution,
    time_raw_loop,
)

PG_WRITE_ROWS = 1_000_000


def bench_data(args: argparse.Namespace, work: Path, hits: int, out: Out) -> Generated:
    """The log of ``hits`` hits in the shape ``args`` asks for, and its database (reused from ``work``)."""
    out(f"generating {hits:,} hits ({args.shape}, seed {args.seed}, {args.networks:,} extra networks) ...")
    # One database for every log size of a seed and network count.
    mmdb_dir = work / f"maxmind-seed{args.seed}-networks{args.networks}"
    if args.shape == "replay":
        return generate_replay(
            work / f"replay-{hits}-seed{args.seed}", hits, seed=args.seed, networks=args.networks, mmdb_dir=mmdb_dir
        )
    return generate(
        work / f"hits-{hits}-seed{args.seed}", hits, seed=args.seed, networks=args.networks, mmdb_dir=mmdb_dir
    )


def time_goaccess(
    goaccess: str, data: Generated, work: Path, row: Measurement, n: int, repeat: int, progress: Out
) -> bool:
    """One timed GoAccess run into ``row``; False when it failed (the row says why)."""
    progress(f"(b) GoAccess, run {n + 1}/{repeat} ...")
    wall, rss, result = run_goaccess(goaccess, data, work)
    if result.get("error"):
        row.failed = str(result["error"])
        return False
    row.walls.append(wall)
    row.rss_kib.append(rss)
    row.note = f"{result['valid']:,} valid + {result['failed']:,} failed requests"
    progress(f"    {wall:.1f} s wall, {row.note}")
    return True


def _record_pipeline_run(
    row: Measurement, wall: float, rss: int, result: dict[str, object], which: str, progress: Out
) -> bool:
    """One pipeline run's wall time and peak RSS into ``row``; False when it failed (the row says why)."""
    if result.get("error"):
        row.failed = f"{result['error']} ({which})"
        progress(f"    failed after {wall:.1f} s: {result['error']} (log: {result['log_dir']}/stderr.txt)")
        return False
    row.walls.append(wall)
    row.rss_kib.append(rss)
    progress(f"    {wall:.1f} s wall ({result.get('seconds', 0):.1f} s in main()), peak RSS {rss / 1024:,.0f} MiB")
    return True


def time_pipeline_and_goaccess(
    data: Generated, work: Path, repeat: int, goaccess: str | None, goaccess_version: str, progress: Out
) -> tuple[Measurement, Measurement]:
    """(a) the pipeline on SQLite and (b) GoAccess (skipped without ``goaccess``), ``repeat`` times each."""
    pipeline = Measurement("(a) pipeline end to end, SQLite", f"{data.hits:,} hits", count=data.hits)
    goaccess_row = Measurement(
        f"(b) {goaccess_version if goaccess else 'GoAccess'}, COMBINED + .mmdb", f"{data.hits:,} hits", count=data.hits
    )
    if goaccess is None:
        goaccess_row.skipped = goaccess_version

    # (a) and (b) alternate, so a busy neighbour slows both alike.
    for n in range(repeat):
        progress(f"(a) pipeline, run {n + 1}/{repeat} ...")
        database = work / f"warehouse-{uuid.uuid4().hex[:8]}.db"
        wall, rss, result = run_pipeline(data, work, database_url=f"sqlite:///{database}")
        database.unlink(missing_ok=True)
        if not _record_pipeline_run(pipeline, wall, rss, result, f"run {n + 1} of {repeat}", progress):
            break
        if goaccess and not time_goaccess(goaccess, data, work, goaccess_row, n, repeat, progress):
            break
    if pipeline.failed and goaccess and not goaccess_row.walls:
        for n in range(repeat):  # the reference still gets its numbers
            if not time_goaccess(goaccess, data, work, goaccess_row, n, repeat, progress):
                break
    return pipeline, goaccess_row


def time_resolution(
    data: Generated, ips: list[str], counts: np.ndarray, *, seed: int, naive_sample: int, repeat: int, progress: Out
) -> tuple[Measurement, Measurement, Measurement, Measurement]:
    """(c) the raw loop, (d) the naive path on a sample of hits, (e) the project's resolution per IP and per hit."""
    resolved_hits = int(counts.sum())
    progress("(c), (d), (e) resolution ...")
    rng = np.random.default_rng(seed)
    sample_size = min(naive_sample, resolved_hits)
    sample = [ips[i] for i in rng.choice(len(ips), sample_size, p=counts / counts.sum()).tolist()]
    raw = Measurement(
        "(c) raw maxminddb C-extension get() loop", f"{len(ips):,} unique IPs", count=len(ips), unit="IPs/s"
    )
    naive = Measurement(
        "(d) naive: geoip2 Reader.enterprise() per hit in pandas apply",
        f"{sample_size:,} of {resolved_hits:,} hits, sampled by hits per IP",
        count=sample_size,
    )
    ours_ips = Measurement(
        "(e) project resolution: MaxMindDatabases.lookup + classify_lookups",
        f"{len(ips):,} unique IPs",
        count=len(ips),
        unit="IPs/s",
    )
    ours_hits = Measurement("(e) same, per hit: every hit of those IPs", f"{resolved_hits:,} hits", count=resolved_hits)
    for _ in range(repeat):
        raw.walls.append(time_raw_loop(data.mmdb, ips))
        naive.walls.append(time_naive(data.mmdb, sample))
        seconds = time_project_resolution(str(Path(data.mmdb).parent), ips)
        ours_ips.walls.append(seconds)
        ours_hits.walls.append(seconds)
    return raw, naive, ours_ips, ours_hits


def time_postgres(
    data: Generated, work: Path, postgres_url: str, repeat: int, progress: Out
) -> tuple[Measurement, Measurement, Measurement]:
    """(a) the pipeline on PostgreSQL, and (f) writes of parsed hits into a new and into an existing partition."""
    pg_pipeline = Measurement("(a) pipeline end to end, PostgreSQL", f"{data.hits:,} hits", count=data.hits)
    for n in range(repeat):
        progress(f"(a) pipeline on PostgreSQL, run {n + 1}/{repeat} ...")
        with PostgresSchema(postgres_url) as url:
            wall, rss, result = run_pipeline(data, work, database_url=url)
        if not _record_pipeline_run(pg_pipeline, wall, rss, result, f"run {n + 1} of {repeat}", progress):
            break
    progress("(f) PostgreSQL writes ...")
    frame = parsed_hits(data.log, PG_WRITE_ROWS)
    with PostgresSchema(postgres_url) as url:
        new, replace = time_postgres_writes(url, frame, repeat)
    pg_new = Measurement(
        "(f) PostgreSQL Warehouse.replace_partition (COPY), new partition",
        f"{len(frame):,} parsed hits",
        walls=new,
        count=len(frame),
        unit="rows/s",
    )
    pg_replace = Measurement(
        "(f) same, replacing an existing partition",
        f"{len(frame):,} parsed hits",
        walls=replace,
        count=len(frame),
        unit="rows/s",
    )
    return pg_pipeline, pg_new, pg_replace


def memory_rows(
    args: argparse.Namespace, work: Path, data: Generated, pipeline: Measurement, progress: Out
) -> list[tuple[int, int, Measurement]]:
    """The pipeline's peak RSS per log size (hits, days, row), smallest first: ``pipeline`` at ``data``'s size,
    1M as the baseline when that is bigger, and ``--memory-hits`` with ``--memory-check``."""
    # Peak RSS at other sizes: 1M as the baseline when the main run is bigger, 10M on request.
    memory = [(data.hits, data.days, pipeline)]
    extra_sizes = []
    if data.hits > 1_000_000:
        extra_sizes.append(1_000_000)
    if args.memory_check and args.memory_hits != data.hits:
        extra_sizes.append(args.memory_hits)
    for hits in extra_sizes:
        other = bench_data(args, work, hits, progress)
        row = Measurement("(a) pipeline end to end, SQLite", f"{hits:,} hits", count=hits)
        progress(f"(a) pipeline at {hits:,} hits for its peak RSS ...")
        database = work / f"warehouse-{uuid.uuid4().hex[:8]}.db"
        wall, rss, result = run_pipeline(other, work, database_url=f"sqlite:///{database}")
        database.unlink(missing_ok=True)
        if result.get("error"):
            row.failed = str(result["error"])
            progress(f"    failed after {wall:.1f} s: {result['error']}")
        else:
            row.walls.append(wall)
            row.rss_kib.append(rss)
            progress(f"    {wall:.1f} s wall, peak RSS {rss / 1024:,.0f} MiB")
        memory.append((hits, other.days, row))
    memory.sort(key=lambda entry: entry[0])
    return memory

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
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.generate import DEFAULT_NETWORKS, DEFAULT_SEED, Generated, generate, read_ip_counts
from bench.replay import SOURCE_LOG, generate_replay

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = REPO_ROOT / "config"
DATABASE_URL_ENV_VAR = "VISITOR_INTENT_DATABASE_URL"
DEFAULT_POSTGRES_URL = os.environ.get(
    "VISITOR_INTENT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_WRITE_ROWS = 1_000_000
SALT_ENV_VAR = "VISITOR_INTENT_VISITOR_SALT"
BENCH_SALT = "visitor-intent-bench-salt-made-up-visitors-only"  # the log's visitors are made up

# Targets of the issue.
TARGET_PIPELINE_VS_GOACCESS = {"generated": 1.0, "replay": 0.5}  # wall ratio per log shape, at most
TARGET_REPLAY_RSS_MIB = 350  # the pipeline's peak RSS on the replayed log at 1M hits, at most
TARGET_RESOLUTION_VS_RAW = 0.5  # unique IPs/s ratio, at least
TARGET_RESOLUTION_VS_NAIVE = 20.0  # hits/s ratio, at least
TARGET_PG_ROWS_PER_SECOND = 200_000  # at least
TARGET_RSS_GROWTH = 1.5  # peak RSS at 10M / at 1M, at most

Out = Callable[[str], None]


@dataclass
class Measurement:
    """One row of the results table (median over the repeats)."""

    label: str
    items: str
    walls: list[float] = field(default_factory=list)
    count: int = 0  # what the throughput counts
    unit: str = "hits/s"
    rss_kib: list[int] = field(default_factory=list)
    note: str = ""
    failed: str | None = None
    skipped: str | None = None

    @property
    def wall(self) -> float | None:
        return statistics.median(self.walls) if self.walls and not self.failed else None

    @property
    def rate(self) -> float | None:
        wall = self.wall
        return self.count / wall if wall else None

    @property
    def rss_mib(self) -> float | None:
        return statistics.median(self.rss_kib) / 1024 if self.rss_kib else None


# --- the pipeline in a child process ---------------------------------------------------


def _child_pipeline(spec_file: str) -> int:
    """Run `visitor-intent run` in this process as the spec says; write wall time and outcome."""
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    result: dict[str, object] = {}
    started = time.perf_counter()
    try:
        from pipelines.cli import main as cli_main

        lines: list[str] = []
        code = cli_main(
            [
                "--settings",
                spec["settings"],
                "run",
                "--hits",
                spec["log"],
                "--maxmind-dir",
                spec["maxmind_dir"],
                "--out",
                spec["reports"],
            ],
            out=lines.append,
        )
        result.update(exit_code=code, output=lines[-3:])
        if code != 0:
            result["error"] = f"visitor-intent run exited with {code}"
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which prints it
        traceback.print_exc()
        result["error"] = _root_cause(error)
    result["seconds"] = time.perf_counter() - started
    Path(spec["result"]).write_text(json.dumps(result), encoding="utf-8")
    return 0 if "error" not in result else 1


def _root_cause(error: BaseException) -> str:
    """The innermost exception of a chain (Dagster wraps the one that matters), in one line."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = error.__cause__ or error.__context__
        if inner is None:
            break
        error = inner
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message[:160]}"


def run_pipeline(data: Generated, work: Path, *, database_url: str) -> tuple[float, int, dict[str, object]]:
    """Run the pipeline once in a child process: (wall seconds, peak RSS KiB, child's result)."""
    run_dir = Path(tempfile.mkdtemp(prefix="pipeline-", dir=work))
    settings = run_dir / "settings.yaml"
    settings.write_text(
        f"""# written by bench/run.py
partitions_start: {data.first_day}
sources: [{{paths: [{json.dumps(data.log)}]}}]
maxmind: {{directory: {json.dumps(str(Path(data.mmdb).parent))}}}
taxonomy: {json.dumps(str(CONFIG_DIR / "taxonomy.yaml"))}
target_accounts: {json.dumps(str(CONFIG_DIR / "target_accounts.csv"))}
warehouse_file: warehouse.db
spool_directory: spool
cleaning: {{office_networks: [212.0.10.0/28]}}
report: {{directory: reports}}
""",
        encoding="utf-8",
    )
    spec = {
        "settings": str(settings),
        "log": data.log,
        "maxmind_dir": str(Path(data.mmdb).parent),
        "reports": str(run_dir / "reports"),
        "result": str(run_dir / "result.json"),
    }
    (run_dir / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # a throwaway Dagster instance
    env[DATABASE_URL_ENV_VAR] = database_url
    env.setdefault(SALT_ENV_VAR, BENCH_SALT)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    with (run_dir / "stdout.txt").open("wb") as stdout, (run_dir / "stderr.txt").open("wb") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.run", "--child-pipeline", str(run_dir / "spec.json")],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
        wall, rss_kib, status = _wait(child, started)
    result_file = run_dir / "result.json"
    result = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
    if status != 0 and "error" not in result:
        tail = (run_dir / "stderr.txt").read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        result["error"] = f"child exited with {status}: {' '.join(tail)[:200]}"
    result["log_dir"] = str(run_dir)
    if status == 0 and "error" not in result:
        shutil.rmtree(run_dir, ignore_errors=True)  # kept only when there is a failure to read
    return wall, rss_kib, result


def _wait(child: subprocess.Popen, started: float) -> tuple[float, int, int]:
    """Reap ``child`` with wait4: its wall time, its own peak RSS (KiB on Linux) and exit code."""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss, child.returncode


# --- GoAccess ----------------------------------------------------------------------------


def ensure_goaccess(install: bool, out: Out) -> tuple[str | None, str]:
    """The goaccess binary (installed with apt-get when missing and allowed) and its version line,
    or (None, why not)."""
    binary = shutil.which("goaccess")
    if binary is None and install and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        out("GoAccess not found: installing the Debian package (apt-get install goaccess) ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "goaccess"]):
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        binary = shutil.which("goaccess")
    if binary is None:
        return None, "not installed" + ("" if install else "; --no-install")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False).stdout
    if "geoip=mmdb" not in version.replace(" ", ""):
        return None, f"{binary} was built without MaxMind DB (mmdb) support"
    first = version.strip().splitlines()[0] if version.strip() else "GoAccess"
    return binary, first.rstrip(".").replace(" - ", " ")


def run_goaccess(binary: str, data: Generated, work: Path) -> tuple[float, int, dict[str, object]]:
    """GoAccess over the whole log (COMBINED, with the .mmdb), non-interactive, JSON report to a file."""
    report = work / f"goaccess-{uuid.uuid4().hex[:8]}.json"
    command = [
        binary,
        data.log,
        "--log-format=COMBINED",
        f"--geoip-database={data.mmdb}",
        "--no-global-config",
        "--no-progress",
        "-o",
        str(report),
    ]
    started = time.perf_counter()
    # stdin closed: GoAccess reads a piped stdin as a second log.
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall, rss_kib, status = _wait(child, started)
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if status != 0:
        return wall, rss_kib, {"error": f"goaccess exited with {status}: {stderr.strip()[:200]}"}
    general = json.loads(report.read_text(encoding="utf-8")).get("general", {})
    report.unlink()
    return (
        wall,
        rss_kib,
        {
            "total": general.get("total_requests"),
            "valid": general.get("valid_requests"),
            "failed": general.get("failed_requests"),
        },
    )


# --- resolution ------------------------------------------------------------------------------


def time_raw_loop(mmdb: str, ips: list[str]) -> float:
    """maxminddb's C extension, one ``get`` per unique IP, at C speed (deque(map(...)))."""
    import maxminddb

    with maxminddb.open_database(mmdb, maxminddb.MODE_AUTO) as reader:
        get = reader.get
        deque(map(get, ips[:1000]), maxlen=0)  # warm the page cache
        started = time.perf_counter()
        deque(map(get, ips), maxlen=0)
        return time.perf_counter() - started


def time_naive(mmdb: str, sample: list[str]) -> float:
    """What people write by hand: one geoip2 ``Reader.enterprise`` call per hit in ``Series.apply``."""
    import geoip2.database
    import geoip2.errors
    import pandas as pd

    frame = pd.DataFrame({"ip": sample})
    with geoip2.database.Reader(mmdb) as reader:

        def organization(ip: str) -> str | None:
            try:
                return reader.enterprise(ip).traits.organization
            except geoip2.errors.AddressNotFoundError:
                return None

        started = time.perf_counter()
        frame["organization"] = frame["ip"].apply(organization)
        return time.perf_counter() - started


def time_project_resolution(mmdb_dir: str, ips: list[str]) -> float:
    """The project's per-unique-IP resolution: merged lookup and classification (opening not timed)."""
    from connectors.config_files import default_rules
    from connectors.maxmind import MaxMindDatabases
    from enrichment.resolution import classify_lookups

    with MaxMindDatabases.from_directory(Path(mmdb_dir)) as databases:
        classify_lookups(databases.lookup(ips[:1000]), default_rules())  # warm up
        started = time.perf_counter()
        classified = classify_lookups(databases.lookup(ips), default_rules())
        elapsed = time.perf_counter() - started
    assert len(classified) == len(ips)
    return elapsed


def maxminddb_extension_in_use(mmdb: str) -> bool:
    import maxminddb

    with maxminddb.open_database(mmdb, maxminddb.MODE_AUTO) as reader:
        return type(reader).__module__.startswith("maxminddb.extension")


# --- PostgreSQL -------------------------------------------------------------------------------


class PostgresSchema:
    """A fresh schema on the server for one measurement, dropped afterwards."""

    def __init__(self, base_url: str) -> None:
        import sqlalchemy as sa

        self._sa = sa
        self.base_url = base_url
        self.name = f"vi_bench_{uuid.uuid4().hex[:10]}"
        self._admin = sa.create_engine(base_url)

    def __enter__(self) -> str:
        with self._admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{self.name}"')
        url = self._sa.engine.make_url(self.base_url).update_query_dict({"options": f"-csearch_path={self.name}"})
        return url.render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        with self._admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        self._admin.dispose()


def parsed_hits(log: str, rows: int):
    """The first ``rows`` hits of the log as the project parses them (a ``clean_hits`` frame)."""
    import pandas as pd

    from connectors.hits import read_hits

    parts, total = [], 0
    for chunk in read_hits(log, chunk_size=200_000):
        parts.append(chunk.hits)
        total += len(chunk.hits)
        if total >= rows:
            break
    # Removed query-parameter names are counted per day, never stored with the hits.
    return pd.concat(parts, ignore_index=True).head(rows).drop(columns="removed_parameters")


def time_postgres_writes(url: str, frame, repeat: int) -> tuple[list[float], list[float]]:
    """Seconds per ``replace_partition`` of ``frame``: into new partitions, and over an existing one."""
    from connectors.migrations import ensure_current
    from connectors.warehouse import Warehouse

    warehouse = Warehouse(url)
    ensure_current(warehouse.engine)
    try:
        new, replace = [], []
        for n in range(repeat):
            started = time.perf_counter()
            warehouse.replace_partition("clean_hits", frame, f"2026-01-{n + 1:02d}")
            new.append(time.perf_counter() - started)
        for _ in range(repeat):
            started = time.perf_counter()
            warehouse.replace_partition("clean_hits", frame, "2026-01-01")
            replace.append(time.perf_counter() - started)
        return new, replace
    finally:
        warehouse.engine.dispose()


def postgres_version(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return "PostgreSQL " + str(connection.exec_driver_sql("SHOW server_version").scalar()).split()[0]
    finally:
        engine.dispose()


# --- the machine -----------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", load average {:.2f} {:.2f} {:.2f} at start".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return f"nproc {usable} × {cpu}{memory}; {platform.system()} {platform.release()}{load}"


def versions(extension: bool, goaccess: str, postgres: str | None) -> str:
    names = ("pandas", "numpy", "pyarrow", "maxminddb", "geoip2", "dagster", "SQLAlchemy", "psycopg", "mmdb-writer")
    found = []
    for name in names:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        suffix = (" (C extension)" if extension else " (pure Python!)") if name == "maxminddb" else ""
        found.append(f"{name} {version}{suffix}")
    import sqlite3

    extra = [f"SQLite {sqlite3.sqlite_version}", goaccess] + ([postgres] if postgres else [])
    return f"Python {platform.python_version()}, " + ", ".join(found + extra)


# --- the report -------------------------------------------------------------------------------


def _n(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def results_table(rows: list[Measurement]) -> list[str]:
    lines = ["| measurement | input | wall s | throughput | peak RSS MiB |", "|---|---|---:|---:|---:|"]
    for row in rows:
        if row.skipped:
            lines.append(f"| {row.label} | {row.items} | skipped: {row.skipped} | – | – |")
            continue
        if row.failed:
            lines.append(f"| {row.label} | {row.items} | FAILED: {row.failed} | – | – |")
            continue
        rate = f"{_n(row.rate)} {row.unit}" if row.rate else "–"
        note = f" ({row.note})" if row.note else ""
        lines.append(f"| {row.label}{note} | {row.items} | {_seconds(row.wall)} | {rate} | {_n(row.rss_mib)} |")
    return lines


def ratio_row(name: str, value: float | None, target: str, met: bool | None, basis: str) -> str:
    verdict = "–" if met is None else ("yes" if met else "**no**")
    shown = "–" if value is None else (f"{value:,.2f}" if value < 1000 else f"{value:,.0f}")
    return f"| {name} | {shown} | {target} | {verdict} | {basis} |"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# --- main ---------------------------------------------------------------------------------------


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


def main(argv: list[str] | None = None, out: Out = print) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child-pipeline"]:
        return _child_pipeline(argv[1])
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


def _data(args: argparse.Namespace, work: Path, hits: int, out: Out) -> Generated:
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


def _bench(args: argparse.Namespace, work: Path, say: Out, progress: Out) -> int:
    repeat = args.repeat
    started_all = time.perf_counter()
    data = _data(args, work, args.hits, progress)
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
            progress(f"PostgreSQL not reachable ({_root_cause(error)}): --postgres measurements skipped")
            args.postgres = False

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
        if result.get("error"):
            pipeline.failed = f"{result['error']} (run {n + 1} of {repeat})"
            progress(f"    failed after {wall:.1f} s: {result['error']} (log: {result['log_dir']}/stderr.txt)")
            break
        pipeline.walls.append(wall)
        pipeline.rss_kib.append(rss)
        progress(f"    {wall:.1f} s wall ({result.get('seconds', 0):.1f} s in main()), peak RSS {rss / 1024:,.0f} MiB")
        if goaccess and not time_goaccess(goaccess, data, work, goaccess_row, n, repeat, progress):
            break
    if pipeline.failed and goaccess and not goaccess_row.walls:
        for n in range(repeat):  # the reference still gets its numbers
            if not time_goaccess(goaccess, data, work, goaccess_row, n, repeat, progress):
                break

    progress("(c), (d), (e) resolution ...")
    rng = np.random.default_rng(args.seed)
    sample_size = min(args.naive_sample, resolved_hits)
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

    rows = [pipeline]
    pg_new = pg_replace = None
    if args.postgres:
        pg_pipeline = Measurement("(a) pipeline end to end, PostgreSQL", f"{data.hits:,} hits", count=data.hits)
        for n in range(repeat):
            progress(f"(a) pipeline on PostgreSQL, run {n + 1}/{repeat} ...")
            with PostgresSchema(args.postgres_url) as url:
                wall, rss, result = run_pipeline(data, work, database_url=url)
            if result.get("error"):
                pg_pipeline.failed = f"{result['error']} (run {n + 1} of {repeat})"
                progress(f"    failed after {wall:.1f} s: {result['error']} (log: {result['log_dir']}/stderr.txt)")
                break
            pg_pipeline.walls.append(wall)
            pg_pipeline.rss_kib.append(rss)
            progress(f"    {wall:.1f} s wall, peak RSS {rss / 1024:,.0f} MiB")
        rows.append(pg_pipeline)
        progress("(f) PostgreSQL writes ...")
        frame = parsed_hits(data.log, PG_WRITE_ROWS)
        with PostgresSchema(args.postgres_url) as url:
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
    rows += [goaccess_row, raw, naive, ours_ips, ours_hits] + ([pg_new, pg_replace] if pg_new else [])

    # Peak RSS at other sizes: 1M as the baseline when the main run is bigger, 10M on request.
    memory = [(data.hits, data.days, pipeline)]
    extra_sizes = []
    if data.hits > 1_000_000:
        extra_sizes.append(1_000_000)
    if args.memory_check and args.memory_hits != data.hits:
        extra_sizes.append(args.memory_hits)
    for hits in extra_sizes:
        other = _data(args, work, hits, progress)
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

    pipeline_vs_goaccess = _ratio(pipeline.wall, goaccess_row.wall)
    wall_target = TARGET_PIPELINE_VS_GOACCESS[args.shape]
    vs_raw = _ratio(ours_ips.rate, raw.rate)
    vs_naive = _ratio(ours_hits.rate, naive.rate)
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
        pg_vs = _ratio(rows[1].wall, goaccess_row.wall)
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
    growth = _ratio(largest[2].rss_mib, smallest[2].rss_mib) if len(memory) > 1 else None
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
    say("| pipeline peak RSS | days | wall s | peak RSS MiB |")
    say("|---|---:|---:|---:|")
    for hits, days, row in memory:
        shown = f"FAILED: {row.failed}" if row.failed else _n(row.rss_mib)
        say(f"| {hits:,} hits | {days} | {_seconds(row.wall)} | {shown} |")
    say("")
    say(f"bench finished in {time.perf_counter() - started_all:,.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The benchmark end to end at 10,000 hits: every measurement runs and the tables have their rows.

No timing is asserted: this machine's speed is not the point here, the bench working is.
GoAccess is measured when it is installed (the test never installs it) and reported as
skipped otherwise; PostgreSQL is measured when the test server is reachable.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("VISITOR_INTENT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> bool:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _bench(work: Path, *arguments: str) -> str:
    """The bench's stdout at a small size (it must succeed)."""
    command = [
        sys.executable,
        "-m",
        "bench.run",
        "--networks",
        "2000",
        "--naive-sample",
        "5000",
        "--no-install",
        "--workdir",
        str(work),
        "--memory-check",
        *arguments,
    ]
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
        },
    )
    print(completed.stdout)
    print(completed.stderr, file=sys.stderr)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


@pytest.fixture(scope="module")
def bench_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    postgres = _postgres_reachable()
    if not postgres:
        print("PostgreSQL not reachable: the bench ran without --postgres")
    postgres_arguments = ["--postgres", "--postgres-url", POSTGRES_URL] if postgres else []
    return _bench(tmp_path_factory.mktemp("bench"), "--hits", "10000", "--memory-hits", "15000", *postgres_arguments)


@pytest.fixture(scope="module")
def replay_output(tmp_path_factory: pytest.TempPathFactory, sample_hits_dir: Path) -> str:
    # The replay reads the real log in ../shared (sample_hits_dir skips, or fails in CI, without it).
    return _bench(tmp_path_factory.mktemp("replay"), "--shape", "replay", "--hits", "8000", "--memory-hits", "12000")


def _row(output: str, label: str) -> str:
    rows = [line for line in output.splitlines() if line.startswith(f"| {label}")]
    assert rows, f"no table row starting with {label!r} in:\n{output}"
    return rows[0]


def test_the_bench_prints_machine_versions_and_data(bench_output: str) -> None:
    assert "## Visitor Intent benchmark: 10,000 hits" in bench_output
    for key in ("- machine: nproc", "- versions: Python", "maxminddb", "- data: 10,000 hits over 1 day(s)"):
        assert key in bench_output


def test_every_measurement_has_a_row(bench_output: str) -> None:
    for label in ("(c) raw maxminddb", "(d) naive: geoip2", "(e) project resolution", "(e) same, per hit"):
        assert re.search(r"\| [\d,.]+ (hits|IPs)/s \|", _row(bench_output, label)), _row(bench_output, label)
    goaccess = _row(bench_output, "(b) ")
    if shutil.which("goaccess") is None:
        assert "skipped" in goaccess
        warnings.warn("GoAccess is not installed: the bench skipped it (apt-get install goaccess)", stacklevel=1)
    else:
        assert "hits/s" in goaccess and "10,000 hits" in goaccess


def test_the_ratios_are_checked_against_their_targets(bench_output: str) -> None:
    for label, target in (
        ("pipeline / GoAccess wall", "≤ 1.0"),
        ("resolution / raw loop", "≥ 0.5"),
        ("resolution / naive per-hit path", "≥ 20"),
        ("peak RSS 15,000 / 10,000 hits", "≤ 1.5"),
    ):
        assert target in _row(bench_output, label)
    assert re.search(r"\| resolution / raw loop \| [\d.,]+ \|", bench_output)


def test_the_pipeline_runs_end_to_end_with_its_peak_rss(bench_output: str) -> None:
    pipeline = _row(bench_output, "(a) pipeline end to end, SQLite")
    assert "FAILED" not in pipeline, pipeline
    assert re.search(r"\| [\d,]+ hits/s \| [\d,]+ \|$", pipeline), pipeline
    memory = [line for line in bench_output.splitlines() if re.match(r"\| [\d,]+ hits \| \d+ \|", line)]
    assert [line.split("|")[1].strip() for line in memory] == ["10,000 hits", "15,000 hits"]
    for line in memory:
        assert "FAILED" not in line, line
    if "(a) pipeline end to end, PostgreSQL" in bench_output:
        assert "FAILED" not in _row(bench_output, "(a) pipeline end to end, PostgreSQL")
        assert "rows/s" in _row(bench_output, "(f) PostgreSQL Warehouse.replace_partition")
        assert "≥ 200,000" in _row(bench_output, "PostgreSQL write rows/s")


def test_tree_walk_bench_prints_both_timings_and_the_ratio_for_every_database(
    tmp_path: Path, maxmind_test_dir: Path
) -> None:
    from bench.tree_walk import TEST_EDITIONS, main

    lines: list[str] = []
    assert (
        main(["--hits", "10000", "--networks", "2000", "--repeat", "1", "--workdir", str(tmp_path)], lines.append) == 0
    )

    rows = [line for line in lines if line.startswith("| Geo")]
    # The demo database first, then every MaxMind test database; each row agreed (else it exits).
    assert [row.split(" ")[1] for row in rows] == [
        "GeoIP2-Enterprise-Demo.mmdb",
        *(f"{edition}-Test.mmdb" for edition in TEST_EDITIONS),
    ]
    assert all(len(row.split("|")) == 8 for row in rows)
    assert re.fullmatch(r"bench database: the walk is [\d.]+x the loop's speed \(threshold 1.5x\): .+", lines[-1])


def test_the_replay_shape_spreads_a_real_log_over_many_days_and_visitors(replay_output: str) -> None:
    data = next(line for line in replay_output.splitlines() if line.startswith("- data: 8,000 hits"))
    days, ips = re.search(r"over (\d+) day\(s\) from [\d-]+, ([\d,]+) unique IPs", data).groups()
    assert int(days) >= 10
    assert int(ips.replace(",", "")) > 520  # the source has 520 addresses
    assert "replayed from apache-combined_basjes-hackers-access.log" in data
    assert "27 user agents" in data  # the source's own, every one of them


def test_the_replay_shape_is_checked_against_the_multi_day_targets(replay_output: str) -> None:
    assert "FAILED" not in _row(replay_output, "(a) pipeline end to end, SQLite")
    assert "≤ 0.5" in _row(replay_output, "pipeline / GoAccess wall")
    assert "≤ 350 at 1,000,000" in _row(replay_output, "pipeline peak RSS MiB at 8,000 hits")
    assert "≤ 1.5" in _row(replay_output, "peak RSS 12,000 / 8,000 hits")

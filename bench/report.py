"""The bench's report: the issue's targets, the measurements, the machine and the markdown tables."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

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


def machine() -> str:
    """The CPU, memory, system and load the numbers were measured on, in one line."""
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
    """Python and the versions of the packages and tools measured, in one line."""
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


def _n(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def results_table(rows: list[Measurement]) -> list[str]:
    """The markdown table of the measurements, one row each."""
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
    """One row of the ratios table: a ratio against its target, and whether it is met."""
    verdict = "–" if met is None else ("yes" if met else "**no**")
    shown = "–" if value is None else (f"{value:,.2f}" if value < 1000 else f"{value:,.0f}")
    return f"| {name} | {shown} | {target} | {verdict} | {basis} |"


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, or None when either is missing."""
    return a / b if a is not None and b else None


def memory_table(memory: list[tuple[int, int, Measurement]]) -> list[str]:
    """The pipeline's peak RSS per log size: (hits, days, measurement), smallest first."""
    lines = ["| pipeline peak RSS | days | wall s | peak RSS MiB |", "|---|---:|---:|---:|"]
    for hits, days, row in memory:
        shown = f"FAILED: {row.failed}" if row.failed else _n(row.rss_mib)
        lines.append(f"| {hits:,} hits | {days} | {_seconds(row.wall)} | {shown} |")
    return lines

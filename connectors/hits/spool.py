"""Log files parsed once, split by UTC day into Parquet files.

Daily partitions, a one-off run over many days and the new-logs sensor all ask two
questions of a log: which days it holds, and the hits of day D. Parsing the whole file
for each question made a ten-day log cost eleven parses. The spool parses a file once,
chunk by chunk, appending each chunk's hits and quarantined lines to one Parquet file
per day; later questions read one day's file. Memory stays flat: only a chunk is held.
A large plain log in a one-line-per-record format is cut at line starts into one segment
per CPU, parsed side by side in worker processes (``connectors.hits.spool_segments``).

An entry is keyed by the file's path, size and modification time and the read options,
so a rewritten or growing log is parsed again; building an entry removes the entries of
the file's older versions only. Entries are built under a temporary name and renamed into
place, so a crash never leaves a half-written day behind; the next build removes what a killed
process left under such a name.

The entries are a catalogue of every log the spool holds and the days each one covers
(``catalogue``): a day is built from every log that holds it, including logs spooled by
earlier commands and logs since deleted from disk, until retention removes their entries.
The spool also remembers the earliest day it ever held (``first_day``), so that daily
partitions can start there and never move forward when old entries are purged.

A malformed line has no trustworthy timestamp, so it takes the day of the nearest
parsed line before it in the same file (logs are written in time order), else the
nearest after it, else the file's modification day. Each quarantined line thus belongs
to exactly one day and is stored by one partition only.

A file without record lines (0 bytes, headers only) is an entry without days. A file whose
format cannot be told is an entry with one quarantined row on its modification day (line
0, reason ``unknown_format``, its first record line as ``raw``), and ``unreadable`` says why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.hits.apache import APACHE_LAYOUTS
from connectors.hits.compression import is_compressed
from connectors.hits.formats import UnknownLogFormat
from connectors.hits.lines import Segment, segments
from connectors.hits.reader import resolve_format
from connectors.hits.spool_segments import (
    SCHEMAS,
    ReadOptions,
    settle_leading_lines,
    spool_segments,
    spool_unreadable,
)
from connectors.processes import process_alive

# Formats whose every line is a record on its own (no header, no directives), so a plain
# file can be cut anywhere between lines and its parts parsed in parallel.
SPLITTABLE_FORMATS = frozenset({*APACHE_LAYOUTS, "haproxy", "s3", "aws_alb", "aws_elb", "json_lines"})
MIN_SEGMENT_BYTES = 32 * 2**20  # below this a worker process costs more than it saves
_MANIFEST = "manifest.json"
_FIRST_DAY = ".first_day"
_LAYOUT = 4  # part of every entry's key: a spool written in another layout is never read
_BATCH_ROWS = 65_536  # rows per batch when a day is read a batch at a time


@dataclass(frozen=True)
class SpooledFile:
    """``records``: hits plus quarantined lines (0 for an empty file); ``unreadable``: why
    the file's format cannot be told, None when it was read."""

    records: int
    unreadable: str | None


@dataclass(frozen=True)
class SpooledLog:
    """One catalogue entry: a log file as it was spooled, and the days it holds."""

    entry: Path
    source: str  # the log's absolute path when it was spooled (it may be gone since)
    hits: dict[dt.date, int]  # hits per day
    quarantined: dict[dt.date, int]  # quarantined lines per day
    first_spooled: float  # when this path was first spooled (kept across its versions): the catalogue's order
    unreadable: str | None = None  # why the log's format could not be told (then it holds one quarantined line)

    @property
    def days(self) -> frozenset[dt.date]:
        """Days with at least one hit or quarantined line."""
        return frozenset(day for counts in (self.hits, self.quarantined) for day, n in counts.items() if n)

    @classmethod
    def from_manifest(cls, entry: Path, manifest: dict) -> SpooledLog:
        def days(counts: dict[str, int]) -> dict[dt.date, int]:
            return {dt.date.fromisoformat(day): n for day, n in counts.items()}

        first_spooled = manifest.get("first_spooled")  # absent in entries of older releases
        return cls(
            entry=entry,
            source=manifest["source"],
            hits=days(manifest["hits"]),
            quarantined=days(manifest["quarantine"]),
            first_spooled=first_spooled if first_spooled is not None else (entry / _MANIFEST).stat().st_mtime,
            unreadable=manifest.get("unreadable"),
        )


class HitSpool:
    """Per-day Parquet copies of parsed log files in ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        # 25,000 lines: a bigger chunk costs memory (100,000 took 200 MiB more) and is no faster.
        chunk_size: int = 25_000,
        workers: int | None = None,
        min_segment_bytes: int = MIN_SEGMENT_BYTES,
    ) -> None:
        self.directory = directory
        self.chunk_size = chunk_size
        self.workers = workers or (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        )
        self.min_segment_bytes = min_segment_bytes

    def spool(self, path: Path, options: ReadOptions = ReadOptions()) -> SpooledLog:
        """The catalogue entry of ``path`` as it is now on disk, parsing it first when needed."""
        entry, manifest = self._spooled(path, options)
        return SpooledLog.from_manifest(entry, manifest)

    def holds(self, path: Path, options: ReadOptions = ReadOptions()) -> bool:
        """Whether the spool holds ``path`` as it is now on disk (a stat, no parsing)."""
        return (self._entry(path, options) / _MANIFEST).exists()

    def days(self, path: Path, options: ReadOptions = ReadOptions()) -> frozenset[dt.date]:
        """The UTC days with at least one hit in ``path`` (parsing it if not spooled yet)."""
        return frozenset(day for day, hits in self.spool(path, options).hits.items() if hits)

    def read_day(
        self, path: Path, day: dt.date, options: ReadOptions = ReadOptions()
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The hits (in file order) and quarantined lines of ``path`` that belong to ``day``."""
        return self.read(self.spool(path, options), day)

    def read(self, log: SpooledLog, day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The hits (in file order) and quarantined lines of a catalogue entry that belong to ``day``."""
        return self.read_kind(log, day, "hits"), self.read_kind(log, day, "quarantine")

    def read_kind(self, log: SpooledLog, day: dt.date, kind: str) -> pd.DataFrame:
        """One kind (``hits`` or ``quarantine``) of a catalogue entry's rows of ``day``, in file order."""
        parts = self._parts(log.entry, day, kind)
        table = pa.concat_tables([pq.read_table(part) for part in parts]) if parts else SCHEMAS[kind].empty_table()
        frame = table.to_pandas()
        # Leading lines of a segment are settled last: put quarantined lines back in file order.
        return frame.sort_values("line_no", kind="stable", ignore_index=True) if kind == "quarantine" else frame

    def hit_batches(self, log: SpooledLog, day: dt.date) -> Iterator[pa.RecordBatch]:
        """A catalogue entry's hits of ``day`` in file order, a batch at a time: a day need not fit in memory."""
        for part in self._parts(log.entry, day, "hits"):
            yield from pq.ParquetFile(part).iter_batches(batch_size=_BATCH_ROWS)

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A temporary folder beside the entries, for a day split into chunks; removed afterwards.

        Named as an entry being built: if this process is killed, the next build, retention run or
        ``forget`` removes it.
        """
        folder = self.directory / f".scratch.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def catalogue(self) -> list[SpooledLog]:
        """Every log the spool holds, the first spooled first (that order decides between overlapping logs)."""
        logs = [SpooledLog.from_manifest(entry, manifest) for entry, manifest in self._entries()]
        return sorted(logs, key=lambda log: (log.first_spooled, log.source))

    def first_day(self) -> dt.date | None:
        """The earliest day the spool ever held (purging old entries never moves it forward)."""
        marks = [min(log.days) for log in self.catalogue() if log.days]
        marked = self._marked_first_day()
        return min([*marks, marked] if marked else marks, default=None)

    def summary(self, path: Path, options: ReadOptions = ReadOptions()) -> SpooledFile:
        """What parsing ``path`` gave: its record lines, and why it is unreadable (if it is)."""
        _, manifest = self._spooled(path, options)
        records = sum(manifest["hits"].values()) + sum(manifest["quarantine"].values())
        return SpooledFile(records=records, unreadable=manifest.get("unreadable"))

    def purge(self, older_than: dt.date) -> int:
        """Remove entries whose every day is before ``older_than`` (the raw-IP retention); returns the count.

        What killed processes left (entries half built, a busy day's chunks) goes too: it holds
        raw addresses, and no later build may come to remove it.
        """
        self._remember_first_day(frozenset().union(*(log.days for log in self.catalogue())))
        self._remove_abandoned_builds()
        removed = 0
        for entry, manifest in self._entries():
            days = [dt.date.fromisoformat(day) for day in {**manifest["hits"], **manifest["quarantine"]}]
            if not days or max(days) < older_than:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed

    def clear(self) -> int:
        """Remove every entry, and what killed processes left; returns the count of entries."""
        self._remove_abandoned_builds()
        entries = [entry for entry, _ in self._entries()]
        for entry in entries:
            shutil.rmtree(entry, ignore_errors=True)
        return len(entries)

    def _entry(self, path: Path, options: ReadOptions) -> Path:
        stat = path.stat()
        identity = json.dumps([_LAYOUT, str(path.resolve()), stat.st_size, stat.st_mtime_ns, options.key()])
        return self.directory / hashlib.sha256(identity.encode()).hexdigest()[:24]

    def _spooled(self, path: Path, options: ReadOptions) -> tuple[Path, dict]:
        """The file's entry and manifest, spooling the file first when needed."""
        entry = self._entry(path, options)
        manifest_file = entry / _MANIFEST
        if not manifest_file.exists():
            self._build(path, options, entry)
        return entry, json.loads(manifest_file.read_text(encoding="utf-8"))

    def _entries(self):
        if not self.directory.is_dir():
            return
        for manifest_file in self.directory.glob(f"*/{_MANIFEST}"):
            if manifest_file.parent.name.startswith("."):  # an entry still being built
                continue
            try:
                manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
            except FileNotFoundError:  # replaced by a newer version of its log meanwhile
                continue
            yield manifest_file.parent, manifest

    def _build(self, path: Path, options: ReadOptions, entry: Path) -> None:
        self._remove_abandoned_builds()
        partial = self.directory / f".{entry.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        partial.mkdir(parents=True)
        manifest: dict = {"source": str(path.resolve())}
        try:
            try:
                # Detected once, so that every segment is read the same way.
                log_format = resolve_format(path, options.log_format, options.column_mapping)
            except UnknownLogFormat as unknown:
                manifest |= spool_unreadable(path, unknown, partial, options.scrub_rules)
                manifest["unreadable"] = unknown.why
            else:
                options = replace(options, log_format=log_format)
                segments = self._segments(path, log_format)
                spooled = spool_segments(path, options, segments, partial, self.chunk_size)
                manifest |= settle_leading_lines(spooled, partial)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        source = manifest["source"]
        earlier = [log.first_spooled for log in self.catalogue() if log.source == source]
        manifest["first_spooled"] = min(earlier, default=time.time())
        (partial / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        self._replace_older_versions(source, partial, entry)
        self._remember_first_day(SpooledLog.from_manifest(entry, manifest).days)

    def _remove_abandoned_builds(self) -> None:
        """Remove entries still being built, and scratch folders, of processes that died (killed mid-parse)."""
        for partial in self.directory.glob(".*.partial-*"):
            owner = partial.name.rpartition(".partial-")[2].partition("-")[0]
            if owner.isdigit() and not process_alive(int(owner)):
                shutil.rmtree(partial, ignore_errors=True)

    def _marked_first_day(self) -> dt.date | None:
        mark_file = self.directory / _FIRST_DAY
        return dt.date.fromisoformat(mark_file.read_text(encoding="utf-8").strip()) if mark_file.is_file() else None

    def _remember_first_day(self, days: frozenset[dt.date]) -> None:
        marked = self._marked_first_day()
        if days and (marked is None or min(days) < marked):
            mark = self.directory / f"{_FIRST_DAY}.{uuid.uuid4().hex[:8]}"
            mark.write_text(min(days).isoformat(), encoding="utf-8")
            os.replace(mark, self.directory / _FIRST_DAY)

    def _segments(self, path: Path, log_format: str) -> list[Segment | None]:
        """Where a file is cut for parallel parsing: only plain files of one-line-per-record formats."""
        if log_format not in SPLITTABLE_FORMATS or is_compressed(path):
            return [None]
        count = min(self.workers, path.stat().st_size // self.min_segment_bytes)
        return segments(path, count) if count > 1 else [None]

    def _replace_older_versions(self, source: str, partial: Path, entry: Path) -> None:
        for other, manifest in list(self._entries()):
            if manifest["source"] == source and other != entry:
                shutil.rmtree(other, ignore_errors=True)
        try:
            os.replace(partial, entry)
        except OSError:  # another process spooled the same file version first: theirs is as good
            shutil.rmtree(partial, ignore_errors=True)

    @staticmethod
    def _parts(entry: Path, day: dt.date, kind: str) -> list[Path]:
        return sorted(entry.glob(f"{day.isoformat()}.{kind}.*.parquet"))

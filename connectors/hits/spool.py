"""Log files parsed once, split by UTC day into Parquet files.

Daily partitions, a one-off run over many days and the new-logs sensor all ask two
questions of a log: which days it holds, and the hits of day D. Parsing the whole file
for each question made a ten-day log cost eleven parses. The spool parses a file once,
chunk by chunk, appending each chunk's hits and quarantined lines to one Parquet file
per day; later questions read one day's file. Memory stays flat: only a chunk is held.

An entry is keyed by the file's path, size and modification time and the read options,
so a rewritten or growing log is parsed again; building an entry removes the entries of
the file's older versions. Entries are built under a temporary name and renamed into
place, so a crash never leaves a half-written day behind.

A malformed line has no trustworthy timestamp, so it takes the day of the nearest
parsed line before it in the same file (logs are written in time order), else the
nearest after it, else the file's modification day. Each quarantined line thus belongs
to exactly one day and is stored by one partition only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.hits.exports import ColumnMapping
from connectors.hits.reader import read_hits
from connectors.hits.schema import HIT_DTYPES, QUARANTINE_DTYPES

_MANIFEST = "manifest.json"
_KINDS = {"hits": HIT_DTYPES, "quarantine": QUARANTINE_DTYPES}
_SCHEMAS = {
    kind: pa.Schema.from_pandas(
        pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()}), preserve_index=False
    )
    for kind, dtypes in _KINDS.items()
}


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file: its format (None: detect) and the source's parsing options."""

    log_format: str | None = None
    column_mapping: ColumnMapping | None = None
    trust_forwarded_for: bool = False

    def key(self) -> str:
        mapping = self.column_mapping.model_dump() if self.column_mapping else None
        return json.dumps([self.log_format, mapping, self.trust_forwarded_for], sort_keys=True, default=str)


class HitSpool:
    """Per-day Parquet copies of parsed log files in ``directory``."""

    def __init__(self, directory: Path, *, chunk_size: int = 100_000) -> None:
        self.directory = directory
        self.chunk_size = chunk_size

    def days(self, path: Path, options: ReadOptions = ReadOptions()) -> frozenset[dt.date]:
        """The UTC days with at least one hit in ``path`` (parsing it if not spooled yet)."""
        _, manifest = self._spooled(path, options)
        return frozenset(dt.date.fromisoformat(day) for day, hits in manifest["hits"].items() if hits)

    def read_day(
        self, path: Path, day: dt.date, options: ReadOptions = ReadOptions()
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The hits (in file order) and quarantined lines of ``path`` that belong to ``day``."""
        entry, _ = self._spooled(path, options)
        return tuple(self._read(entry / f"{day.isoformat()}.{kind}.parquet", kind) for kind in _KINDS)

    def purge(self, older_than: dt.date) -> int:
        """Remove entries whose every day is before ``older_than`` (the raw-IP retention); returns the count."""
        removed = 0
        for entry, manifest in self._entries():
            days = [dt.date.fromisoformat(day) for day in {**manifest["hits"], **manifest["quarantine"]}]
            if not days or max(days) < older_than:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        return removed

    def clear(self) -> int:
        """Remove every entry; returns the count."""
        entries = [entry for entry, _ in self._entries()]
        for entry in entries:
            shutil.rmtree(entry, ignore_errors=True)
        return len(entries)

    def _entry(self, path: Path, options: ReadOptions) -> Path:
        stat = path.stat()
        identity = json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, options.key()])
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
            if not manifest_file.parent.name.startswith("."):  # not an entry still being built
                yield manifest_file.parent, json.loads(manifest_file.read_text(encoding="utf-8"))

    def _build(self, path: Path, options: ReadOptions, entry: Path) -> None:
        partial = self.directory / f".{entry.name}.partial-{uuid.uuid4().hex[:8]}"
        partial.mkdir(parents=True)
        writers: dict[tuple[str, str], pq.ParquetWriter] = {}
        counts: dict[str, dict[str, int]] = {kind: {} for kind in _KINDS}
        file_day = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).date()
        previous_day: dt.date | None = None
        try:
            for chunk in read_hits(
                path, log_format=options.log_format, chunk_size=self.chunk_size,
                column_mapping=options.column_mapping, trust_forwarded_for=options.trust_forwarded_for,
            ):
                hit_days = chunk.hits["timestamp"].dt.date
                parts = {
                    "hits": (chunk.hits, hit_days),
                    "quarantine": (chunk.quarantine, quarantine_days(chunk.quarantine, chunk.hits, previous_day, file_day)),
                }
                for kind, (frame, days) in parts.items():
                    for day, rows in frame.groupby(days.to_numpy(), sort=False):
                        name = day.isoformat()
                        if (kind, name) not in writers:
                            writers[kind, name] = pq.ParquetWriter(partial / f"{name}.{kind}.parquet", _SCHEMAS[kind])
                        writers[kind, name].write_table(
                            pa.Table.from_pandas(rows, schema=_SCHEMAS[kind], preserve_index=False)
                        )
                        counts[kind][name] = counts[kind].get(name, 0) + len(rows)
                if len(chunk.hits):
                    previous_day = hit_days.iloc[-1]
        except BaseException:
            for writer in writers.values():
                writer.close()
            shutil.rmtree(partial, ignore_errors=True)
            raise
        for writer in writers.values():
            writer.close()
        manifest = {"source": str(path.resolve()), **counts}
        (partial / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        self._replace_older_versions(manifest["source"], partial, entry)

    def _replace_older_versions(self, source: str, partial: Path, entry: Path) -> None:
        for other, manifest in list(self._entries()):
            if manifest["source"] == source and other != entry:
                shutil.rmtree(other, ignore_errors=True)
        try:
            os.replace(partial, entry)
        except OSError:  # another process spooled the same file version first: theirs is as good
            shutil.rmtree(partial, ignore_errors=True)

    @staticmethod
    def _read(file: Path, kind: str) -> pd.DataFrame:
        if not file.exists():
            return _SCHEMAS[kind].empty_table().to_pandas()
        return pq.read_table(file).to_pandas()


def quarantine_days(
    quarantine: pd.DataFrame, hits: pd.DataFrame, previous_day: dt.date | None, file_day: dt.date
) -> pd.Series:
    """The day each quarantined line belongs to (aligned with ``quarantine``'s index).

    ``previous_day`` is the day of the last parsed line of the file's earlier chunks.
    """
    if quarantine.empty or hits.empty:
        return pd.Series(previous_day or file_day, index=quarantine.index, dtype=object)
    good = pd.DataFrame({"line_no": hits["line_no"].astype("int64"), "day": hits["timestamp"].dt.date})
    good = good.sort_values("line_no")
    bad = pd.DataFrame({"line_no": quarantine["line_no"].astype("int64"), "row": quarantine.index}).sort_values("line_no")
    before = pd.merge_asof(bad, good, on="line_no", direction="backward")["day"]
    after = pd.merge_asof(bad, good, on="line_no", direction="forward")["day"]
    days = before.where(before.notna(), previous_day if previous_day else after)
    return pd.Series(days.to_numpy(), index=bad["row"].to_numpy()).reindex(quarantine.index)

"""Parsing one log file into the spool's per-day Parquet parts, in worker processes where it is cut.

A large plain log in a one-line-per-record format is cut at line starts into one segment
per CPU (`HitSpool` decides), parsed side by side in worker processes; the days come out
as from one pass. A malformed line takes the day of the nearest parsed line before it in
the same file, else the nearest after it, else the file's modification day; lines before
a segment's first hit are settled once the earlier segments are parsed.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.hits.chunks import MAX_RAW_CHARS
from connectors.hits.exports import ColumnMapping
from connectors.hits.formats import UnknownLogFormat
from connectors.hits.lines import Segment
from connectors.hits.reader import read_hits
from connectors.hits.schema import HIT_DTYPES, QUARANTINE_DTYPES, UNKNOWN_FORMAT
from enrichment.scrubbing import DEFAULT_ALLOWED_PARAMETERS, ScrubRules, scrub_raw_line

KINDS = {"hits": HIT_DTYPES, "quarantine": QUARANTINE_DTYPES}
SCHEMAS = {
    kind: pa.Schema.from_pandas(
        pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()}), preserve_index=False
    )
    for kind, dtypes in KINDS.items()
}


@dataclass(frozen=True)
class ReadOptions:
    """How to read a file: its format (None: detect) and the source's parsing options."""

    log_format: str | None = None
    column_mapping: ColumnMapping | None = None
    trust_forwarded_for: bool = False
    timezone: str = "UTC"  # of times written without a zone
    # Query parameters kept in urls and referrers (privacy.allowed_query_parameters).
    allowed_query_parameters: tuple[str, ...] = DEFAULT_ALLOWED_PARAMETERS

    def key(self) -> str:
        mapping = self.column_mapping.model_dump() if self.column_mapping else None
        return json.dumps(
            [self.log_format, mapping, self.trust_forwarded_for, self.timezone, self.allowed_query_parameters],
            sort_keys=True,
            default=str,
        )

    @property
    def scrub_rules(self) -> ScrubRules:
        return ScrubRules(self.allowed_query_parameters)


@dataclass
class SpooledSegment:
    """What parsing one segment wrote, and the quarantined lines before its first hit (not yet written)."""

    part: int
    counts: dict[str, dict[str, int]]
    last_hit_day: dt.date | None
    leading_lines: pd.DataFrame  # with their day by the segment alone, in a "day" column


def spool_segments(
    path: Path, options: ReadOptions, segments: list[Segment | None], folder: Path, chunk_size: int
) -> list[SpooledSegment]:
    """Spool every segment, each in a worker process when the file is cut (a single segment: here).

    Workers are fresh interpreters (``python -m connectors.hits.spool_segments``): forking a process
    that runs threads (Dagster's, Arrow's) can deadlock the child. This process parses no
    cut file itself: what parsing allocates stays in a process's RSS for the runs after it.
    """
    if len(segments) == 1:
        return [_spool_segment(path, options, segments[0], 0, folder, chunk_size)]
    workers = []
    for part, segment in enumerate(segments):
        spec = {
            "path": str(path),
            "log_format": options.log_format,
            "trust_forwarded_for": options.trust_forwarded_for,
            "timezone": options.timezone,
            "allowed_query_parameters": list(options.allowed_query_parameters),
            "segment": list(segment),
            "part": part,
            "folder": str(folder),
            "chunk_size": chunk_size,
        }
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", __name__, json.dumps(spec)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
    errors = [(worker.communicate()[1], worker.returncode) for worker in workers]  # all done before any raise
    for stderr, returncode in errors:
        if returncode != 0:
            last_line = (stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"parsing part of {path} failed in a worker process (exit {returncode}): {last_line}")
    return [_load_segment_result(folder, part) for part in range(len(segments))]


def _save_segment_result(result: SpooledSegment, folder: Path) -> None:
    day = result.last_hit_day.isoformat() if result.last_hit_day else None
    (folder / f"segment-{result.part:04d}.json").write_text(json.dumps({"counts": result.counts, "last_hit_day": day}))
    result.leading_lines.to_parquet(folder / f"segment-{result.part:04d}-leading.parquet", index=False)


def _load_segment_result(folder: Path, part: int) -> SpooledSegment:
    summary_file, leading_file = folder / f"segment-{part:04d}.json", folder / f"segment-{part:04d}-leading.parquet"
    summary = json.loads(summary_file.read_text())
    leading = pd.read_parquet(leading_file)
    summary_file.unlink(), leading_file.unlink()
    day = dt.date.fromisoformat(summary["last_hit_day"]) if summary["last_hit_day"] else None
    return SpooledSegment(part, summary["counts"], day, leading)


def _spool_segment(
    path: Path, options: ReadOptions, segment: Segment | None, part: int, folder: Path, chunk_size: int
) -> SpooledSegment:
    """Parse one segment (or the whole file) into per-day Parquet parts named ``DAY.KIND.PART.parquet``."""
    writers: dict[tuple[str, str], pq.ParquetWriter] = {}
    counts: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    file_day = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
    previous_day: dt.date | None = None
    leading: list[pd.DataFrame] = []

    def write(kind: str, frame: pd.DataFrame, days: pd.Series) -> None:
        for day, rows in frame.groupby(days.to_numpy(), sort=False):
            name = day.isoformat()
            if (kind, name) not in writers:
                writers[kind, name] = pq.ParquetWriter(folder / f"{name}.{kind}.{part:04d}.parquet", SCHEMAS[kind])
            writers[kind, name].write_table(pa.Table.from_pandas(rows, schema=SCHEMAS[kind], preserve_index=False))
            counts[kind][name] = counts[kind].get(name, 0) + len(rows)

    try:
        for chunk in read_hits(
            path,
            log_format=options.log_format,
            chunk_size=chunk_size,
            column_mapping=options.column_mapping,
            trust_forwarded_for=options.trust_forwarded_for,
            timezone=options.timezone,
            segment=segment,
            scrub_rules=options.scrub_rules,
        ):
            hit_days = chunk.hits["timestamp"].dt.date
            quarantine, days = chunk.quarantine, _quarantine_days(chunk.quarantine, chunk.hits, previous_day, file_day)
            if part > 0 and previous_day is None:
                # Lines before the segment's first hit belong to the day of the hit before them,
                # which only the earlier segments know: settled once they are all parsed.
                before = (
                    quarantine["line_no"] < chunk.hits["line_no"].min()
                    if len(chunk.hits)
                    else quarantine["line_no"].notna()
                )
                leading.append(quarantine[before].assign(day=days[before]))
                quarantine, days = quarantine[~before], days[~before]
            write("hits", chunk.hits, hit_days)
            write("quarantine", quarantine, days)
            if len(chunk.hits):
                previous_day = hit_days.iloc[-1]
    finally:
        for writer in writers.values():
            writer.close()
    empty = pd.DataFrame(
        {name: pd.Series(dtype=dtype) for name, dtype in {**QUARANTINE_DTYPES, "day": "object"}.items()}
    )
    return SpooledSegment(part, counts, previous_day, pd.concat([empty, *leading], ignore_index=True))


def spool_unreadable(
    path: Path, unknown: UnknownLogFormat, folder: Path, scrub_rules: ScrubRules
) -> dict[str, dict[str, int]]:
    """One quarantined row for a file whose format cannot be told, on the file's modification day."""
    day = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date().isoformat()
    raw = scrub_raw_line(unknown.first_line, scrub_rules)[:MAX_RAW_CHARS]
    row = {"source_file": str(path), "line_no": 0, "reason": UNKNOWN_FORMAT, "raw": raw}
    frame = pd.DataFrame([row]).astype(QUARANTINE_DTYPES)
    table = pa.Table.from_pandas(frame, schema=SCHEMAS["quarantine"], preserve_index=False)
    pq.write_table(table, folder / f"{day}.quarantine.0000.parquet")
    return {"hits": {}, "quarantine": {day: 1}}


def settle_leading_lines(spooled: list[SpooledSegment], folder: Path) -> dict[str, dict[str, int]]:
    """Write each segment's leading quarantined lines under the day of the last hit before them; total counts."""
    counts: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    last_hit_day: dt.date | None = None
    for segment in spooled:
        for kind in KINDS:
            for day, count in segment.counts[kind].items():
                counts[kind][day] = counts[kind].get(day, 0) + count
        if len(segment.leading_lines):
            lines = segment.leading_lines
            days = pd.Series(last_hit_day, index=lines.index) if last_hit_day else lines["day"]
            for day, rows in lines.drop(columns="day").groupby(days.to_numpy(), sort=False):
                name = day.isoformat()
                table = pa.Table.from_pandas(rows, schema=SCHEMAS["quarantine"], preserve_index=False)
                pq.write_table(table, folder / f"{name}.quarantine.{segment.part:04d}-leading.parquet")
                counts["quarantine"][name] = counts["quarantine"].get(name, 0) + len(rows)
        last_hit_day = segment.last_hit_day or last_hit_day
    return counts


def _quarantine_days(
    quarantine: pd.DataFrame, hits: pd.DataFrame, previous_day: dt.date | None, file_day: dt.date
) -> pd.Series:
    """The day each quarantined line belongs to (aligned with ``quarantine``'s index).

    ``previous_day`` is the day of the last parsed line of the file's earlier chunks.
    """
    if quarantine.empty or hits.empty:
        return pd.Series(previous_day or file_day, index=quarantine.index, dtype=object)
    good = pd.DataFrame({"line_no": hits["line_no"].astype("int64"), "day": hits["timestamp"].dt.date})
    good = good.sort_values("line_no")
    bad = pd.DataFrame({"line_no": quarantine["line_no"].astype("int64"), "row": quarantine.index}).sort_values(
        "line_no"
    )
    before = pd.merge_asof(bad, good, on="line_no", direction="backward")["day"]
    after = pd.merge_asof(bad, good, on="line_no", direction="forward")["day"]
    days = before.where(before.notna(), previous_day if previous_day else after)
    return pd.Series(days.to_numpy(), index=bad["row"].to_numpy()).reindex(quarantine.index)


def _worker(spec_json: str) -> int:
    """Entry point of a worker process: spool one segment, leave its result in the folder."""
    spec = json.loads(spec_json)
    options = ReadOptions(
        log_format=spec["log_format"],
        trust_forwarded_for=spec["trust_forwarded_for"],
        timezone=spec["timezone"],
        allowed_query_parameters=tuple(spec["allowed_query_parameters"]),
    )
    folder = Path(spec["folder"])
    result = _spool_segment(
        Path(spec["path"]), options, Segment(*spec["segment"]), spec["part"], folder, spec["chunk_size"]
    )
    _save_segment_result(result, folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(_worker(sys.argv[1]))

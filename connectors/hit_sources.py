"""A day of hits, built from every spooled log that holds it.

A daily partition is a fact about a day, not about the files a command was given: it
reads every log in the spool's catalogue with hits or quarantined lines on that day.
Logs may overlap (a log cut from a longer one, a rotated copy of a file spooled
earlier under another name): a line found in several logs counts as many times as the
log holding it most often holds it, never once per log. So a run on a partial or
overlapping log adds what is new and never removes or doubles what another log supplied.
Of the copies of a line, the one in the log spooled first is kept (its file and line number).

A busy day is read in chunks of addresses (``read_day_in_chunks``): every hit of an address
is in one chunk, so the copies of a line meet in the same chunk and the union is the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from connectors.hits.schema import HIT_DTYPES, QUARANTINE_DTYPES
from connectors.hits.spool import HitSpool, SpooledLog
from enrichment.addresses import address_chunks, chunk_count

# Where a line was read is not what it says: two logs holding it agree on everything else.
_WHERE = ["source_file", "line_no"]
HIT_IDENTITY = [column for column in HIT_DTYPES if column not in _WHERE]
QUARANTINE_IDENTITY = [column for column in QUARANTINE_DTYPES if column not in _WHERE]


@dataclass
class DayOfHits:
    """The hits of one UTC day and the malformed lines attributed to it.

    ``unreadable`` maps each file read whose log format cannot be told to why; its one
    quarantined row (line 0) is in ``quarantine`` on the file's modification day only.
    """

    hits: pd.DataFrame
    quarantine: pd.DataFrame
    files: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return len(self.hits) + len(self.quarantine)

    @classmethod
    def union(cls, days: list[DayOfHits]) -> DayOfHits:
        """The lines of several logs' days, each line as often as the one log holding it most often.

        ``days`` come in order of preference: a line's first copy is kept. Hits are in time order.
        """
        return cls(
            hits=_union([d.hits for d in days], HIT_DTYPES, HIT_IDENTITY).sort_values(
                "timestamp", kind="stable", ignore_index=True
            ),
            quarantine=_union([d.quarantine for d in days], QUARANTINE_DTYPES, QUARANTINE_IDENTITY),
            files=[f for d in days for f in d.files],
            unreadable={file: why for d in days for file, why in d.unreadable.items()},
        )


def read_day(spool: HitSpool, day: dt.date, catalogue: list[SpooledLog] | None = None) -> DayOfHits:
    """Every spooled log's hits of ``day`` (in time order) and the day's quarantined lines.

    A log whose format could not be told holds one quarantined line and is named in ``unreadable``.

    ``catalogue`` is ``spool.catalogue()``, read once by a caller that reads many days.
    """
    logs = _logs_holding(spool, day, catalogue)
    return DayOfHits.union([_log_day(log, *spool.read(log, day)) for log in logs])


def read_day_in_chunks(
    spool: HitSpool, day: dt.date, catalogue: list[SpooledLog] | None = None, max_hits: int | None = None
) -> Iterator[DayOfHits]:
    """``read_day``'s day in chunks of about ``max_hits`` hits (``HITS_PER_CHUNK``), split by address
    (``address_chunks``).

    A day of at most ``max_hits`` hits is one chunk. A bigger one is split in one pass over each
    log into files of a spool scratch folder, and read back a chunk at a time. The quarantined
    lines come with the first chunk.
    """
    logs = _logs_holding(spool, day, catalogue)
    chunks = chunk_count(sum(log.hits.get(day, 0) for log in logs), max_hits)
    if chunks == 1:
        yield read_day(spool, day, logs)
        return
    with spool.scratch() as scratch:
        split = [_split(spool, log, day, chunks, scratch / str(number)) for number, log in enumerate(logs)]
        for chunk in range(chunks):
            yield DayOfHits.union(
                [
                    _log_day(
                        log,
                        _read_split(files[chunk]),
                        spool.read_kind(log, day, "quarantine") if chunk == 0 else _empty(QUARANTINE_DTYPES),
                    )
                    for log, files in zip(logs, split)
                ]
            )


def _logs_holding(spool: HitSpool, day: dt.date, catalogue: list[SpooledLog] | None) -> list[SpooledLog]:
    return [log for log in (spool.catalogue() if catalogue is None else catalogue) if day in log.days]


def _log_day(log: SpooledLog, hits: pd.DataFrame, quarantine: pd.DataFrame) -> DayOfHits:
    return DayOfHits(
        hits, quarantine, files=[log.source], unreadable={log.source: log.unreadable} if log.unreadable else {}
    )


def _split(spool: HitSpool, log: SpooledLog, day: dt.date, chunks: int, folder: Path) -> list[Path]:
    """Write a log's hits of ``day`` into one Arrow file per chunk (in file order); returns the files."""
    folder.mkdir()
    files = [folder / f"{chunk}.arrow" for chunk in range(chunks)]
    writers: list[pa.ipc.RecordBatchFileWriter] = []
    try:
        for batch in spool.hit_batches(log, day):
            writers = writers or [pa.ipc.new_file(file, batch.schema) for file in files]
            chunk_of_hit = address_chunks(batch.column("ip").to_pandas(), chunks)
            # One reordering by chunk (stable: file order within a chunk), then a slice per chunk.
            order = np.argsort(chunk_of_hit, kind="stable")
            ordered = batch.take(pa.array(order))
            bounds = np.searchsorted(chunk_of_hit[order], np.arange(chunks + 1))
            for chunk, writer in enumerate(writers):
                writer.write_batch(ordered.slice(bounds[chunk], bounds[chunk + 1] - bounds[chunk]))
    finally:
        for writer in writers:
            writer.close()
    return files


def _read_split(file: Path) -> pd.DataFrame:
    if not file.exists():  # the log has no hits that day, only quarantined lines
        return _empty(HIT_DTYPES)
    # Read, not memory-mapped: a column kept from the chunk would keep the whole file mapped.
    with pa.OSFile(str(file)) as source:
        return pa.ipc.open_file(source).read_all().to_pandas()


def _empty(dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})


def _union(parts: list[pd.DataFrame], dtypes: dict[str, str], identity: list[str]) -> pd.DataFrame:
    parts = [part for part in parts if len(part)]
    if not parts:  # typed even when empty: the steps after read its dtypes
        return _empty(dtypes)
    if len(parts) == 1:
        return parts[0]
    # The n-th copy of a line in one log is the same line as the n-th copy in another.
    numbered = []
    for part in parts:
        line = pd.util.hash_pandas_object(part[identity], index=False).to_numpy()
        occurrence = pd.Series(line).groupby(line, sort=False).cumcount().to_numpy()
        numbered.append(pd.DataFrame({"line": line, "occurrence": occurrence}))
    first = ~pd.concat(numbered, ignore_index=True).duplicated(keep="first").to_numpy()
    return pd.concat(parts, ignore_index=True)[first].reset_index(drop=True)

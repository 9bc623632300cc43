"""The signals landing folder: trigger-event and Company Surge files as validated rows.

Drop files into the folder named by ``signals.directory`` in the settings:

- ``*.csv`` with a ``Composite Score`` column: Bombora Company Surge exports;
- any other ``*.csv``, and ``*.json`` (an array of objects): trigger events.

Every file is read in full each time, so replacing or removing a file changes what the next
run sees. Bad rows are quarantined with file, line and reason (``enrichment.signals``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from enrichment.signals import (
    QUARANTINE_COLUMNS,
    SourceRow,
    is_surge_header,
    validate_events,
    validate_surge,
)

FILE_COLUMNS = ["file", "feed", "rows", "quarantined"]


@dataclass(frozen=True)
class LandedSignals:
    """What the landing folder holds: valid events and surge rows, quarantined rows, and per file counts."""

    events: pd.DataFrame
    surge: pd.DataFrame
    quarantined: pd.DataFrame
    files: pd.DataFrame  # FILE_COLUMNS: each file's feed ("events" or "surge"), valid and quarantined rows


def read_landing_folder(directory: Path | None) -> LandedSignals:
    """Every signal file in ``directory`` (none when it is not set or does not exist yet)."""
    events, surge, quarantines, files = [], [], [], []
    paths = sorted(Path(directory).glob("*")) if directory and Path(directory).is_dir() else []
    for path in paths:
        if path.suffix.lower() not in (".csv", ".json"):
            continue
        feed, rows, problems = _csv_rows(path) if path.suffix.lower() == ".csv" else _json_rows(path)
        validated = (validate_surge if feed == "surge" else validate_events)(rows)
        (surge if feed == "surge" else events).append(validated.rows)
        quarantined = pd.concat([pd.DataFrame(problems, columns=QUARANTINE_COLUMNS), validated.quarantined])
        quarantines.append(quarantined)
        files.append({"file": path.name, "feed": feed, "rows": len(validated.rows), "quarantined": len(quarantined)})
    return LandedSignals(
        events=pd.concat([validate_events([]).rows, *events], ignore_index=True),
        surge=pd.concat([validate_surge([]).rows, *surge], ignore_index=True),
        quarantined=pd.concat([pd.DataFrame(columns=QUARANTINE_COLUMNS), *quarantines], ignore_index=True),
        files=pd.DataFrame(files, columns=FILE_COLUMNS),
    )


Problem = dict[str, object]  # a quarantined record: file, line, reason


def _csv_rows(path: Path) -> tuple[str, list[SourceRow], list[Problem]]:
    """The file's feed (by its header), its records with the line each ends on, and malformed records."""
    rows, problems = [], []
    with path.open(encoding="utf-8-sig", newline="") as file:  # spreadsheet exports start with a BOM
        reader = csv.DictReader(file)
        feed = "surge" if is_surge_header(reader.fieldnames or []) else "events"
        for row in reader:
            if None in row:  # DictReader puts values beyond the header under None
                reason = "more values than columns; quote a value that contains a comma"
                problems.append({"file": path.name, "line": reader.line_num, "reason": reason})
            else:
                rows.append(SourceRow(path.name, reader.line_num, row))
    return feed, rows, problems


def _json_rows(path: Path) -> tuple[str, list[SourceRow], list[Problem]]:
    """Each object of the file's array with the line it starts on; a broken file is one quarantined record."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        return "events", list(_array_items(text, path.name)), []
    except json.JSONDecodeError as error:
        return "events", [], [{"file": path.name, "line": error.lineno, "reason": f"not valid JSON: {error.msg}"}]
    except ValueError as error:
        return "events", [], [{"file": path.name, "line": 1, "reason": str(error)}]


def _array_items(text: str, name: str) -> Iterator[SourceRow]:
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if not text.startswith("[", position):
        raise ValueError("a trigger-event JSON file is an array of objects")
    position = _skip_space(text, position + 1)
    while not text.startswith("]", position):
        item, end = decoder.raw_decode(text, position)
        line = text.count("\n", 0, position) + 1
        if not isinstance(item, dict):
            raise ValueError(f"line {line}: each item of the array is an object")
        yield SourceRow(name, line, item)
        position = _skip_space(text, end)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position

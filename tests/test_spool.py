"""The spool: a log is parsed once, and every day read from it is what parsing would give."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import connectors.hits.spool_segments as spool_segments
from connectors.hit_sources import read_day, read_day_in_chunks
from connectors.hits import read_hits
from connectors.hits.spool import HitSpool, ReadOptions

LINE = '64.124.10.{n} - - [{day}/Oct/2026:{hour}:00:00 +0000] "GET /page/{n} HTTP/1.1" 200 512 "-" "Mozilla/5.0 Firefox/128.0"'
D5, D6, D7 = dt.date(2026, 10, 5), dt.date(2026, 10, 6), dt.date(2026, 10, 7)


def _log(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _hit(n: int, day: int, hour: str = "10") -> str:
    return LINE.format(n=n, day=f"{day:02d}", hour=hour)


def _entries(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if not p.name.startswith("."))


def test_each_day_read_from_the_spool_is_what_parsing_gives(tmp_path: Path) -> None:
    log = _log(
        tmp_path / "access.log", [_hit(1, 5), _hit(2, 5, "23"), "garbage", _hit(3, 6), _hit(4, 7), "more garbage"]
    )
    spool = HitSpool(tmp_path / "spool", chunk_size=2)  # chunks smaller than a day

    assert spool.days(log) == {D5, D6, D7}
    parsed = pd.concat([chunk.hits for chunk in read_hits(log)], ignore_index=True)
    for day in (D5, D6, D7):
        hits, _ = spool.read_day(log, day)
        expected = parsed[parsed["timestamp"].dt.date == day].reset_index(drop=True)
        pd.testing.assert_frame_equal(hits, expected)


def test_a_malformed_line_belongs_to_the_day_of_the_line_before_it(tmp_path: Path) -> None:
    log = _log(tmp_path / "access.log", ["leading garbage", _hit(1, 5), "garbage", _hit(2, 6), "trailing garbage"])
    spool = HitSpool(tmp_path / "spool", chunk_size=2)

    quarantined = {day: spool.read_day(log, day)[1]["line_no"].tolist() for day in (D5, D6)}

    # Line 1 has no line before it: it takes the day after. Each line is in exactly one day.
    assert quarantined == {D5: [1, 3], D6: [5]}


def test_a_log_is_parsed_once_however_many_days_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _log(tmp_path / "access.log", [_hit(1, 5), _hit(2, 6), _hit(3, 7)])
    parses = []
    monkeypatch.setattr(spool_segments, "read_hits", lambda *a, **k: parses.append(a) or read_hits(*a, **k))
    spool = HitSpool(tmp_path / "spool")

    days = spool.days(log)
    for day in days:
        spool.read_day(log, day)

    assert len(parses) == 1


def test_a_changed_log_is_parsed_again_and_its_old_copy_removed(tmp_path: Path) -> None:
    log = _log(tmp_path / "access.log", [_hit(1, 5)])
    spool = HitSpool(tmp_path / "spool")
    assert spool.days(log) == {D5}

    _log(log, [_hit(1, 5), _hit(2, 6)])  # the server wrote on
    os.utime(log, ns=(log.stat().st_atime_ns, log.stat().st_mtime_ns + 1_000_000))

    assert spool.days(log) == {D5, D6}
    assert len(_entries(tmp_path / "spool")) == 1


def test_a_failed_parse_leaves_nothing_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _log(tmp_path / "access.log", [_hit(n, 5) for n in range(10)])

    def crash_after_the_first_chunk(*args, **kwargs):
        chunks = read_hits(*args, **kwargs)
        yield next(chunks)
        raise OSError("disk went away")

    monkeypatch.setattr(spool_segments, "read_hits", crash_after_the_first_chunk)
    with pytest.raises(OSError, match="disk went away"):
        HitSpool(tmp_path / "spool", chunk_size=3).days(log)

    assert list((tmp_path / "spool").iterdir()) == []


def test_retention_removes_copies_of_logs_that_hold_only_older_days(tmp_path: Path) -> None:
    old = _log(tmp_path / "old.log", [_hit(1, 5)])
    recent = _log(tmp_path / "recent.log", [_hit(1, 5), _hit(2, 7)])
    spool = HitSpool(tmp_path / "spool")
    spool.days(old), spool.days(recent)

    assert spool.purge(older_than=D6) == 1

    [kept] = _entries(tmp_path / "spool")
    assert str(recent.resolve()) in (kept / "manifest.json").read_text(encoding="utf-8")


def test_retention_removes_the_chunks_of_a_busy_day_a_killed_process_left(tmp_path: Path) -> None:
    spool = HitSpool(tmp_path / "spool")
    spool.days(_log(tmp_path / "access.log", [_hit(1, 5)]))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = tmp_path / "spool" / f".scratch.partial-{dead.stdout.strip()}-0123abcd"
    (left / "0").mkdir(parents=True)
    (left / "0" / "0.arrow").write_bytes(b"raw addresses")
    with spool.scratch() as in_use:  # a live process's, left alone
        spool.purge(older_than=D5)

        assert not left.exists()
        assert in_use.is_dir()


def test_a_log_cut_into_segments_spools_as_in_one_pass(tmp_path: Path) -> None:
    lines = ["garbage"] + [_hit(n, 5 + n // 40, f"{10 + n % 40 // 4:02d}") for n in range(120)]
    for position in (30, 41, 42, 43, 80, 81):  # malformed lines on both sides of cuts and of midnight
        lines.insert(position, f"garbage {position}")
    log = _log(tmp_path / "access.log", lines)
    one_pass = HitSpool(tmp_path / "one", workers=1)
    cut = HitSpool(tmp_path / "cut", workers=4, min_segment_bytes=1)

    assert cut.days(log) == one_pass.days(log) == {D5, D6, D7}
    assert len(list(_entries(tmp_path / "cut")[0].glob("*.hits.0003.parquet"))) > 0  # four segments
    for day in (D5, D6, D7):
        for cut_frame, one_pass_frame in zip(cut.read_day(log, day), one_pass.read_day(log, day)):
            pd.testing.assert_frame_equal(cut_frame, one_pass_frame)


def test_malformed_lines_opening_a_segment_take_the_day_of_the_hit_before_them(tmp_path: Path) -> None:
    garbage = "x" * len(_hit(0, 5))  # as long as a hit line, so the cut lands among them
    log = _log(
        tmp_path / "access.log", [_hit(n, 5) for n in range(50)] + [garbage] * 21 + [_hit(n, 6) for n in range(50)]
    )
    cut = HitSpool(tmp_path / "cut", workers=2, min_segment_bytes=1)

    quarantined = {day: cut.read_day(log, day)[1]["line_no"].tolist() for day in (D5, D6)}

    assert quarantined == {D5: list(range(51, 72)), D6: []}
    assert list(_entries(tmp_path / "cut")[0].glob("*.quarantine.0001-leading.parquet"))


# --- the catalogue ---------------------------------------------------------------------


def test_a_day_reads_every_log_that_holds_it_each_line_as_often_as_one_log_holds_it(tmp_path: Path) -> None:
    full = _log(tmp_path / "full.log", [_hit(1, 5), _hit(1, 5), _hit(2, 5), _hit(3, 6)])  # a reload: line 1 twice
    _log(tmp_path / "part.log", [_hit(1, 5), _hit(2, 5), _hit(4, 5)])  # overlaps, and one line of its own
    spool = HitSpool(tmp_path / "spool")
    spool.days(full), spool.days(tmp_path / "part.log")

    day = read_day(spool, D5)

    assert sorted(day.hits["url"]) == ["/page/1", "/page/1", "/page/2", "/page/4"]
    # Lines both logs hold keep the copy of the log spooled first.
    assert set(day.hits.loc[day.hits["url"] != "/page/4", "source_file"]) == {str(full.resolve())}


def test_a_changed_log_replaces_its_own_copy_only_and_the_first_day_never_moves_forward(tmp_path: Path) -> None:
    old = _log(tmp_path / "old.log", [_hit(1, 5)])
    recent = _log(tmp_path / "recent.log", [_hit(2, 6)])
    spool = HitSpool(tmp_path / "spool")
    spool.days(old), spool.days(recent)
    _log(recent, [_hit(2, 6), _hit(3, 7)])
    os.utime(recent, ns=(recent.stat().st_atime_ns, recent.stat().st_mtime_ns + 1_000_000))
    spool.days(recent)

    assert sorted(log.source for log in spool.catalogue()) == sorted([str(old.resolve()), str(recent.resolve())])
    assert spool.first_day() == D5
    spool.purge(older_than=D6)  # retention drops the old log's copy
    assert [log.source for log in spool.catalogue()] == [str(recent.resolve())]
    assert spool.first_day() == D5  # partitions keep their first day


def test_a_spooled_day_holds_only_allowed_parameters_and_a_new_allow_list_reads_the_log_again(tmp_path: Path) -> None:
    lines = [
        LINE.replace("/page/{n}", "/page/{n}?utm_source=mail&email=jane%40example.com&ref=x").format(
            n=n, day="05", hour="10"
        )
        for n in range(1, 41)
    ]
    log = _log(tmp_path / "access.log", lines)
    # Cut into parts parsed by worker processes: they scrub with the same allow-list.
    spool = HitSpool(tmp_path / "spool", workers=2, min_segment_bytes=1)
    campaigns_only = ReadOptions(allowed_query_parameters=("utm_*",))

    hits, _ = spool.read_day(log, dt.date(2026, 10, 5), campaigns_only)
    with_ref, _ = spool.read_day(log, dt.date(2026, 10, 5), ReadOptions(allowed_query_parameters=("utm_*", "ref")))

    assert hits["url"].tolist() == [f"/page/{n}?utm_source=mail" for n in range(1, 41)]
    assert set(hits["removed_parameters"]) == {"email;ref"}
    assert with_ref["url"].tolist() == [f"/page/{n}?utm_source=mail&ref=x" for n in range(1, 41)]
    assert len(_entries(tmp_path / "spool")) == 1  # the entry read with the old allow-list is gone


def test_a_spool_worker_hands_freed_arrow_memory_back():
    """The spool's worker processes, like the pipeline's, allocate Arrow buffers from jemalloc
    (connectors/__init__.py): the default pool keeps freed pages and raises peak memory."""
    code = "import connectors.hits.spool_segments, pyarrow as pa; print(pa.default_memory_pool().backend_name)"
    worker = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert worker.stdout.strip() == "jemalloc"


def test_a_busy_day_read_in_chunks_holds_each_address_in_one_chunk_and_every_line_once(tmp_path: Path) -> None:
    # Two overlapping logs: the chunks' union must drop the same repeated lines as the whole day's.
    lines = [_hit(n % 7, 5, f"{10 + n % 5:02d}") for n in range(40)] + ["garbage"]
    full = _log(tmp_path / "full.log", lines)
    _log(tmp_path / "part.log", lines[10:25] + [_hit(9, 5)])
    spool = HitSpool(tmp_path / "spool", chunk_size=8)
    spool.days(full), spool.days(tmp_path / "part.log")

    whole = read_day(spool, D5)
    chunks = list(read_day_in_chunks(spool, D5, max_hits=10))

    assert len(chunks) == 6  # 56 hits in the two logs, before their union
    addresses = [set(chunk.hits["ip"]) for chunk in chunks]
    assert sum(map(len, addresses)) == len(set().union(*addresses))  # no address in two chunks
    together = pd.concat([chunk.hits for chunk in chunks], ignore_index=True)
    by_line = ["source_file", "line_no"]
    pd.testing.assert_frame_equal(
        together.sort_values(by_line, ignore_index=True), whole.hits.sort_values(by_line, ignore_index=True)
    )
    assert [len(chunk.quarantine) for chunk in chunks] == [1, 0, 0, 0, 0, 0]
    assert [path.name for path in (tmp_path / "spool").iterdir() if "scratch" in path.name] == []

"""A day of clean hits in chunks of addresses: nothing lost or changed on the way, and held small."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from enrichment.hit_chunks import HitChunks

USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


def _hits(count: int) -> pd.DataFrame:
    """Hits as the warehouse declares them: text with gaps, a nullable integer, times in UTC."""
    return pd.DataFrame(
        {
            "timestamp": pd.date_range("2026-11-03", periods=count, freq="s", tz="UTC").as_unit("us"),
            "ip": pd.array([f"203.0.113.{n % 7}" for n in range(count)], dtype="str"),
            "url": pd.array([["/pricing", "/docs/api", None][n % 3] for n in range(count)], dtype="str"),
            "status": pd.array([200 if n % 5 else None for n in range(count)], dtype="Int64"),
            "user_agent": pd.array([USER_AGENT] * count, dtype="str"),
            "visitor_id": pd.array([None] * count, dtype="str"),
            "line_no": range(count),
        }
    )


def test_chunks_give_back_the_frames_they_were_given_values_and_dtypes() -> None:
    first = _hits(6)
    second = _hits(4).assign(  # Python objects, as a frame built by hand has them
        session_id=pd.Series([None, "s-1", None, "s-2"], dtype=object),
        page_title=pd.Series([None] * 4, dtype=object),
    )
    chunks = HitChunks([first, second.iloc[:, ::-1]])

    back = list(chunks.frames())

    assert chunks.hits == 10
    pd.testing.assert_frame_equal(back[0], first, check_exact=True)
    pd.testing.assert_frame_equal(back[1], second.iloc[:, ::-1].reset_index(drop=True), check_exact=True)
    assert list(chunks.frames())[0] is not back[0]  # each step gets frames of its own


def test_a_busy_day_is_split_by_address_and_a_quiet_one_is_not() -> None:
    hits = _hits(21)  # 7 addresses, 3 hits each

    assert len(list(HitChunks.split(hits, max_hits=21).frames())) == 1
    frames = list(HitChunks.split(hits, max_hits=8).frames())

    assert len(frames) == 3
    addresses = [set(frame["ip"]) for frame in frames]
    assert sum(map(len, addresses)) == len(set().union(*addresses)) == 7
    together = pd.concat(frames).sort_values("line_no", ignore_index=True)
    pd.testing.assert_frame_equal(together, hits, check_exact=True)


def test_a_chunk_is_held_in_a_fraction_of_its_frames_memory() -> None:
    before = pa.total_allocated_bytes()
    hits = _hits(20_000)
    frame_bytes = hits.memory_usage(deep=True).sum()

    chunks = HitChunks([hits])
    del hits  # what the chunk holds on its own

    assert pa.total_allocated_bytes() - before < frame_bytes / 3
    assert chunks.hits == 20_000

"""One writer per partition: two processes replacing the same day leave exactly one copy of it."""

from __future__ import annotations

import multiprocessing

import pandas as pd
import sqlalchemy as sa

from connectors.migrations import ensure_current
from connectors.warehouse import Warehouse

DAY = "2026-10-05"
ROWS = 200
ROUNDS = 25


def _frame(writer: int) -> pd.DataFrame:
    return pd.DataFrame({"reason": [f"writer {writer} row {n}" for n in range(ROWS)], "hits": range(ROWS)})


def _write_repeatedly(url: str, writer: int, start: multiprocessing.synchronize.Barrier, counts) -> None:
    """Replace the day ROUNDS times, then count what each replacement left, as another run would see it."""
    warehouse = Warehouse(url)
    table = warehouse.table("hit_drop_counts")
    query = sa.select(sa.func.count()).select_from(table).where(table.c.partition_key == pd.Timestamp(DAY).date())
    start.wait()
    for _ in range(ROUNDS):
        warehouse.replace_partition("hit_drop_counts", _frame(writer), DAY)
        with warehouse.engine.connect() as connection:
            counts.append(connection.scalar(query))
    warehouse.engine.dispose()


def test_two_processes_replacing_one_partition_never_double_it(database_url: str) -> None:
    warehouse = Warehouse(database_url)
    ensure_current(warehouse.engine)
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start, counts = manager.Barrier(2), manager.list()
        writers = [
            context.Process(target=_write_repeatedly, args=(database_url, writer, start, counts)) for writer in (1, 2)
        ]
        for process in writers:
            process.start()
        for process in writers:
            process.join(timeout=300)
        seen = list(counts)

    assert [process.exitcode for process in writers] == [0, 0]
    assert seen == [ROWS] * (2 * ROUNDS)
    stored = warehouse.read("hit_drop_counts", [DAY])
    assert stored["reason"].str.split(" row").str[0].nunique() == 1  # one writer's frame, not a mix
    assert len(stored) == ROWS
    warehouse.engine.dispose()

"""Where assets' frames live: the warehouse resource and the I/O manager that writes each frame to its table."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pandas as pd
from dagster import ConfigurableIOManager, ConfigurableResource, InitResourceContext, InputContext, OutputContext
from pydantic import PrivateAttr

from connectors.migrations import ensure_current
from connectors.schema import in_chunks_of_addresses
from connectors.warehouse import Warehouse, shared_warehouse
from enrichment.hit_chunks import HitChunks


class WarehouseResource(ConfigurableResource):
    """The SQL warehouse (any SQLAlchemy URL: SQLite by default, PostgreSQL in production).

    One engine per process: every copy of this resource (Dagster makes one per resource
    that uses it, per run) hands out the process's warehouse for the URL. A run starts by
    bringing the warehouse's schema up to date.
    """

    url: str

    def setup_for_execution(self, context: InitResourceContext) -> None:
        ensure_current(self.get().engine)

    def get(self) -> Warehouse:
        return shared_warehouse(self.url)


class WarehouseIOManager(ConfigurableIOManager):
    """Stores each asset's frames in its declared table; a partition's rows are replaced on re-run.

    An asset's value is a mapping from partition key (a day) to that day's frame, in and
    out: a run may cover several days (a ranged run), and a report window reads a window
    of days. A table declared ``in_chunks_of_addresses`` (clean hits) has a day's
    ``HitChunks`` instead of its frame, in and out, written a chunk at a time. A frame is
    stored as its table declares it: a column the table doesn't declare is an error naming
    both, a missing nullable column is null, and what a later step gets has the declared
    types whether it comes from memory or from the warehouse.

    The warehouse is the source of truth between runs. Within a run, every partition is
    read from it at most once: a frame an earlier step wrote or read is handed on from
    memory, so a day of hits is not read back by each of its consumers (in-process runs;
    with the multiprocess executor each step is its own process and reads the warehouse).
    """

    warehouse: WarehouseResource

    _this_run: dict[tuple[str, str], pd.DataFrame | HitChunks] = PrivateAttr(default_factory=dict)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        # Dagster may keep the manager after the run: the frames must not outlive it.
        self._this_run.clear()

    def handle_output(self, context: OutputContext, obj: Mapping[str, pd.DataFrame | HitChunks]) -> None:
        table = context.asset_key.path[-1]
        warehouse = self.warehouse.get()
        chunked = in_chunks_of_addresses(warehouse.table(table))
        rows = 0
        for partition_key, value in obj.items():
            if chunked:
                conformed = HitChunks()
                rows += warehouse.replace_partition(table, _kept(value, conformed, warehouse, table), partition_key)
            else:
                conformed = warehouse.conform(table, value)
                rows += warehouse.replace_partition(table, conformed, partition_key)
            self._this_run[(table, partition_key)] = conformed
        context.add_output_metadata({"dagster/row_count": rows, "table": table})

    def load_input(self, context: InputContext) -> dict[str, pd.DataFrame | HitChunks]:
        table = context.asset_key.path[-1]
        warehouse = self.warehouse.get()
        chunked = in_chunks_of_addresses(warehouse.table(table))
        keys = list(context.asset_partition_keys)
        for key in keys:
            if (table, key) not in self._this_run:
                frame = warehouse.read(table, [key])
                self._this_run[(table, key)] = HitChunks.split(frame) if chunked else frame
        # Copy-on-write: a step's changes to its input stay its own (chunks are new frames each time).
        return {key: _handed_on(self._this_run[(table, key)]) for key in keys}


def _handed_on(value: pd.DataFrame | HitChunks) -> pd.DataFrame | HitChunks:
    return value if isinstance(value, HitChunks) else value.copy(deep=False)


def _kept(chunks: HitChunks, kept: HitChunks, warehouse: Warehouse, table: str) -> Iterator[pd.DataFrame]:
    """Each chunk conformed to ``table``, added to ``kept`` as it goes to the warehouse: one frame at a time."""
    for frame in chunks.frames():
        conformed = warehouse.conform(table, frame)
        kept.add(conformed)
        yield conformed

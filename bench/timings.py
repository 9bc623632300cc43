"""In-process timings: resolution against its limits (c)–(e) and PostgreSQL writes (f)."""

from __future__ import annotations

import time
import uuid
from collections import deque
from pathlib import Path


def time_raw_loop(mmdb: str, ips: list[str]) -> float:
    """maxminddb's C extension, one ``get`` per unique IP, at C speed (deque(map(...)))."""
    import maxminddb

    with maxminddb.open_database(mmdb, maxminddb.MODE_AUTO) as reader:
        get = reader.get
        deque(map(get, ips[:1000]), maxlen=0)  # warm the page cache
        started = time.perf_counter()
        deque(map(get, ips), maxlen=0)
        return time.perf_counter() - started


def time_naive(mmdb: str, sample: list[str]) -> float:
    """What people write by hand: one geoip2 ``Reader.enterprise`` call per hit in ``Series.apply``."""
    import geoip2.database
    import geoip2.errors
    import pandas as pd

    frame = pd.DataFrame({"ip": sample})
    with geoip2.database.Reader(mmdb) as reader:

        def organization(ip: str) -> str | None:
            try:
                return reader.enterprise(ip).traits.organization
            except geoip2.errors.AddressNotFoundError:
                return None

        started = time.perf_counter()
        frame["organization"] = frame["ip"].apply(organization)
        return time.perf_counter() - started


def time_project_resolution(mmdb_dir: str, ips: list[str]) -> float:
    """The project's per-unique-IP resolution: merged lookup and classification (opening not timed)."""
    from connectors.config_files import default_rules
    from connectors.maxmind import MaxMindDatabases
    from enrichment.resolution import classify_lookups

    with MaxMindDatabases.from_directory(Path(mmdb_dir)) as databases:
        classify_lookups(databases.lookup(ips[:1000]), default_rules())  # warm up
        started = time.perf_counter()
        classified = classify_lookups(databases.lookup(ips), default_rules())
        elapsed = time.perf_counter() - started
    assert len(classified) == len(ips)
    return elapsed


def maxminddb_extension_in_use(mmdb: str) -> bool:
    """Whether maxminddb reads ``mmdb`` with its C extension (else the numbers are pure Python's)."""
    import maxminddb

    with maxminddb.open_database(mmdb, maxminddb.MODE_AUTO) as reader:
        return type(reader).__module__.startswith("maxminddb.extension")


class PostgresSchema:
    """A fresh schema on the server for one measurement, dropped afterwards."""

    def __init__(self, base_url: str) -> None:
        import sqlalchemy as sa

        self._sa = sa
        self.base_url = base_url
        self.name = f"vi_bench_{uuid.uuid4().hex[:10]}"
        self._admin = sa.create_engine(base_url)

    def __enter__(self) -> str:
        with self._admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{self.name}"')
        url = self._sa.engine.make_url(self.base_url).update_query_dict({"options": f"-csearch_path={self.name}"})
        return url.render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        with self._admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        self._admin.dispose()


def parsed_hits(log: str, rows: int):
    """The first ``rows`` hits of the log as the project parses them (a ``clean_hits`` frame)."""
    import pandas as pd

    from connectors.hits import read_hits

    parts, total = [], 0
    for chunk in read_hits(log, chunk_size=200_000):
        parts.append(chunk.hits)
        total += len(chunk.hits)
        if total >= rows:
            break
    # Removed query-parameter names are counted per day, never stored with the hits.
    return pd.concat(parts, ignore_index=True).head(rows).drop(columns="removed_parameters")


def time_postgres_writes(url: str, frame, repeat: int) -> tuple[list[float], list[float]]:
    """Seconds per ``replace_partition`` of ``frame``: into new partitions, and over an existing one."""
    from connectors.migrations import ensure_current
    from connectors.warehouse import Warehouse

    warehouse = Warehouse(url)
    ensure_current(warehouse.engine)
    try:
        new, replace = [], []
        for n in range(repeat):
            started = time.perf_counter()
            warehouse.replace_partition("clean_hits", frame, f"2026-01-{n + 1:02d}")
            new.append(time.perf_counter() - started)
        for _ in range(repeat):
            started = time.perf_counter()
            warehouse.replace_partition("clean_hits", frame, "2026-01-01")
            replace.append(time.perf_counter() - started)
        return new, replace
    finally:
        warehouse.engine.dispose()


def postgres_version(url: str) -> str:
    """``PostgreSQL <version>`` of the server at ``url``."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return "PostgreSQL " + str(connection.exec_driver_sql("SHOW server_version").scalar()).split()[0]
    finally:
        engine.dispose()

"""`MaxMindDatabases`: the open editions, looked up together and merged per IP."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import numpy as np
import pandas as pd

from connectors.maxmind.addresses import networks_text, parse_addresses
from connectors.maxmind.editions import EDITIONS
from connectors.maxmind.files import Database, edition_files_in, edition_files_of_geoip_conf, open_databases
from connectors.maxmind.lookup import find_records, lookup_frame, merger
from enrichment.resolution import distinct_rows

_NOT_AN_ADDRESS = "not looked up: not an IPv4 or IPv6 address"


class MaxMindDatabases:
    """A set of open MaxMind databases, looked up together and merged per IP."""

    def __init__(self, databases: list[Database]) -> None:
        self._databases = sorted(databases, key=lambda db: list(EDITIONS).index(db.edition))

    @classmethod
    def open(cls, paths: Mapping[str, Path]) -> MaxMindDatabases:
        """Open and check ``{edition: file}``, e.g. ``{"GeoIP2-ISP": Path(...)}``."""
        return cls(open_databases(paths))

    @classmethod
    def from_directory(cls, directory: Path) -> MaxMindDatabases:
        """Open every supported edition found in ``directory`` by its standard file name.

        Names as geoipupdate writes them (``GeoIP2-ISP.mmdb``) or with a suffix
        (``GeoIP2-ISP-Test.mmdb``, ``GeoIP2-Enterprise-Demo.mmdb``) are found. Of the
        country editions only the first present is opened (Country before City).
        """
        return cls.open(edition_files_in(Path(directory)))

    @classmethod
    def from_geoip_conf(cls, conf_file: Path) -> MaxMindDatabases:
        """Open the editions a geoipupdate ``GeoIP.conf`` downloads, where it puts them.

        Reads ``EditionIDs`` (formerly ``ProductIds``) and ``DatabaseDirectory`` (default
        ``/var/lib/GeoIP``). The license key in the file is never read.
        """
        return cls.open(edition_files_of_geoip_conf(Path(conf_file)))

    def __enter__(self) -> MaxMindDatabases:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for database in self._databases:
            database.close()

    @property
    def editions(self) -> list[str]:
        """The open editions, most specific first."""
        return [database.edition for database in self._databases]

    @property
    def build_epochs(self) -> dict[str, int]:
        """Build time (Unix epoch) of each open edition."""
        return {database.edition: database.build_epoch for database in self._databases}

    @property
    def oldest_build(self) -> datetime:
        """When the stalest open database was built (UTC); MaxMind publishes weekly."""
        return datetime.fromtimestamp(min(self.build_epochs.values()), tz=UTC)

    def lookup(self, ips: Iterable[str]) -> pd.DataFrame:
        """One row per unique IP with the columns in `LOOKUP_COLUMNS`.

        Editions are merged per column in `EDITIONS` order; ``network`` is the most
        specific edition's. ``sources`` lists the editions that had a record
        (``"GeoIP2-ISP;GeoIP2-Domain"``). ``database_epoch`` is the newest build among
        the open databases, so a database update shows. With GeoIP2-Anonymous-IP open,
        an IP it does not list has False flags (the edition lists only anonymous
        networks); otherwise unset flags are null. An IP no database knows (an IPv6
        address in an IPv4-only database, say) has nulls but its epoch; a string that
        is not an IP address has nulls only.
        """
        unique_ips = list(dict.fromkeys(ips))
        addresses = parse_addresses(unique_ips)
        found = [find_records(database, unique_ips, addresses) for database in self._databases]
        # An IP's row, but for its ip and network, depends only on which record each
        # edition has for it and on whether it is an address: merge once per combination.
        combinations, first_ips = distinct_rows([*(f.records for f in found), addresses.valid], len(unique_ips))
        merge = merger(self._databases)
        merged = [
            merge([f.rows[f.records[i]] if f.records[i] >= 0 else None for f in found], addresses.valid[i])
            for i in first_ips.tolist()
        ]
        prefixes = np.full(len(unique_ips), -1)
        for edition in found:  # the most specific edition with a record gives the network
            first_record = (prefixes < 0) & (edition.records >= 0)
            prefixes[first_record] = edition.prefixes[first_record]
        return lookup_frame(unique_ips, networks_text(addresses, prefixes), merged, combinations)

    def explain(self, ip: str) -> list[tuple[str, str]]:
        """What each open edition says about ``ip``: ``(edition, "field=value")`` pairs.

        Editions come most specific first, each with the network its record covers;
        one without a record gives ``(edition, "no record")``. Like `lookup`, a string
        that is not an IP address is answered, not raised: every edition says so.
        """
        addresses = parse_addresses([ip])
        if not addresses.valid[0]:
            return [(edition, _NOT_AN_ADDRESS) for edition in self.editions]
        findings: list[tuple[str, str]] = []
        for database in self._databases:
            found = find_records(database, [ip], addresses)
            if found.records[0] < 0:
                findings.append((database.edition, "no record"))
                continue
            findings.append((database.edition, f"network={networks_text(addresses, found.prefixes)[0].as_py()}"))
            findings.extend(
                (database.edition, f"{column}={value}")
                for column, value in zip(EDITIONS[database.edition].columns, found.rows[0])
                if value is not None
            )
        return findings

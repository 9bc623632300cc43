"""MaxMind GeoIP2 / GeoLite2 databases: open, check, and look up many IPs at once.

Import from here; the modules split the work by concern:

- `editions`: which edition answers which lookup column, and which wins;
- `files`: finding ``.mmdb`` files (a directory, a ``GeoIP.conf``) and checking them at open;
- `search_tree`: the batch walk giving each address its record and network;
- `addresses`: address text to packed bytes and networks back to text, in bulk;
- `lookup`: each edition's records for a batch, merged into the lookup frame;
- `databases`: `MaxMindDatabases`, the open editions together.
"""

from connectors.maxmind.databases import MaxMindDatabases
from connectors.maxmind.editions import LOOKUP_COLUMNS
from connectors.maxmind.files import MaxMindDatabaseError

__all__ = ["LOOKUP_COLUMNS", "MaxMindDatabaseError", "MaxMindDatabases"]

"""The README's data inventory is the one the schema's tags produce, and it covers every tagged column."""

from __future__ import annotations

import re
from pathlib import Path

from connectors.inventory import render_inventory
from connectors.schema import personal_columns

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_inventory_is_generated_from_the_schema_tags() -> None:
    section = re.search(r"<!-- inventory:start[^>]*-->\n\n(.*?)\n<!-- inventory:end -->", README.read_text(), re.DOTALL)

    assert section is not None, "the README has lost its inventory markers"
    assert section.group(1) == render_inventory(), (
        "regenerate the README's inventory: connectors.inventory.render_inventory()"
    )


def test_every_tagged_column_is_in_the_inventory_with_how_long_it_is_kept() -> None:
    rows = [line for line in render_inventory().splitlines() if line.startswith("| `")]

    for column in personal_columns():
        row = next(
            (row for row in rows if row.startswith(f"| `{column.table.name}` |") and f"`{column.name}`" in row), None
        )
        assert row is not None, f"{column.table.name}.{column.name}"
    assert "| `quarantined_lines` | `raw`: log lines as written" in render_inventory()
    assert "30 days, then addresses cut to their network (/24, /48); 30 days, then removed" in render_inventory()


def test_the_report_folders_are_listed_with_their_retention_setting() -> None:
    [row] = [line for line in render_inventory().splitlines() if line.startswith("| report folders")]

    assert "90 days after the window's last day, then removed" in row
    assert row.endswith("| `privacy.report_retention_days` |")

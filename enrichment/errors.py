"""The one error type for mistakes in the files users edit (settings, taxonomy, account list)."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration file is wrong. The message names the file, the line where known, and the field."""

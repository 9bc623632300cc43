"""Mistakes in the files users edit (settings, taxonomy, account list): the error and where it is.

These work on a file's text; reading the file is `connectors.config_files`' job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


class ConfigError(Exception):
    """A configuration file is wrong. The message names the file, the line where known, and the field."""


def yaml_line(node: yaml.Node, loc: tuple[int | str, ...]) -> int:
    """The 1-based line of the deepest YAML node on the error's path (a missing key: its mapping)."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            children = {key.value: value for key, value in node.value}
        elif isinstance(node, yaml.SequenceNode):
            children = dict(enumerate(node.value))
        else:
            break
        if part not in children:
            break
        node = children[part]
    return node.start_mark.line + 1


def yaml_mapping(text: str, source: Path, shape: str) -> dict[str, Any]:
    """The mapping a YAML document holds; one ConfigError naming ``source`` otherwise.

    ``shape`` says what the top level holds ("a mapping of settings").
    """
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected {shape} at the top level")
    return raw


def field_error(text: str, source: Path, loc: tuple[int | str, ...], message: str) -> ConfigError:
    """A ConfigError at field ``loc`` of a YAML document: file, line and dotted field."""
    field = ".".join(str(part) for part in loc)
    return ConfigError(f"{source}:{yaml_line(yaml.compose(text), loc)}: field `{field}`: {message}")


def first_error(error: ValidationError, text: str, source: Path) -> ConfigError:
    """The first validation error of a YAML document as one ConfigError (pydantic names fields
    by alias, as the YAML does)."""
    first = error.errors()[0]
    return field_error(text, source, tuple(first["loc"]), first["msg"])

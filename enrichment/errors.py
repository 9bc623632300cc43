"""Mistakes in the files users edit (settings, taxonomy, account list): the error and where it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


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


def read_yaml_mapping(path: Path, kind: str, shape: str) -> tuple[dict[str, Any], str]:
    """A YAML file that must hold a mapping, and its text (for line numbers); one ConfigError otherwise.

    ``kind`` names the file for messages ("settings file"); ``shape`` says what the top level holds.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
        raw: Any = yaml.safe_load(text)
    except FileNotFoundError:
        raise ConfigError(f"{path}: {kind} not found") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected {shape} at the top level")
    return raw, text

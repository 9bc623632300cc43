"""The one error type for mistakes in the files users edit (settings, taxonomy, account list)."""

from __future__ import annotations

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

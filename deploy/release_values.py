"""Write the Helm values of one release: deploy/helm/values.yaml with the image tag set.

    python deploy/release_values.py "$(git rev-parse --short HEAD)" > release-values.yaml

Helm values cannot require a value, so this is where an unset tag stops the install: the
placeholder, `latest` or an empty tag is refused (exit 2) before Helm sees the file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

VALUES_FILE = Path(__file__).resolve().parent / "helm" / "values.yaml"
PLACEHOLDER = "replace-me"
# A moving tag lets the code server and the run pods of one release run different code.
REFUSED = {"", PLACEHOLDER, "latest"}


def release_values(tag: str) -> dict:
    """The values with every user deployment's image at ``tag``."""
    if tag.strip() in REFUSED:
        raise ValueError(f"image tag {tag!r} refused: give the tag of the image built for this release")
    values = yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8"))
    for deployment in values["dagster-user-deployments"]["deployments"]:
        deployment["image"]["tag"] = tag.strip()
    return values


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python deploy/release_values.py TAG > release-values.yaml", file=sys.stderr)
        return 2
    try:
        values = release_values(argv[0])
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(yaml.safe_dump(values, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

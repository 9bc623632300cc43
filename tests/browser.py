"""Headless Chromium for tests: open a local page as a reader would and see what the browser made of it.

``open_page`` returns the DOM after parsing (``--dump-dom``), the page's console messages
(script errors and Content-Security-Policy violations, from Chromium's log) and, when asked,
a screenshot. ``parse_dom`` turns the DOM into a small tree to query.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # The page's console goes to stderr: "[...:INFO:CONSOLE:12] "Uncaught ...", source: ...".
    "--enable-logging=stderr",
    "--v=0",
]
TIMEOUT_SECONDS = 60
# Console lines, and older Chromiums' wording for blocked scripts and resources.
_CONSOLE_LINE = re.compile(r":CONSOLE[:(]|Refused to|Uncaught")
_VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def require_chromium() -> Path:
    """Chromium's executable. Without one the test skips, except in CI (CI=true), where it fails, as in conftest."""
    found = next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)
    if found:
        return Path(found)
    message = f"no Chromium found (looked for {', '.join(CHROMIUM_NAMES)} on PATH)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI must install it")
    pytest.skip(message)


@dataclass(frozen=True)
class OpenedPage:
    """What Chromium made of a page: its DOM as HTML, and what it logged to the console."""

    dom: str
    console: list[str]


def open_page(
    chromium: Path,
    page: Path | str,
    *,
    screenshot: Path | None = None,
    size: tuple[int, int] = (1280, 2400),
    settle_ms: int = 0,
) -> OpenedPage:
    """Load ``page`` (a file, or a URL) in a fresh headless profile; optionally save a ``size``
    (width, height) screenshot. ``settle_ms`` gives a single-page app that long (in the
    browser's virtual time, which waits for its requests) to render before the DOM is taken."""
    url = page if isinstance(page, str) else page.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"]
        if screenshot is not None:
            command.append(f"--screenshot={screenshot}")
        if settle_ms:
            command.append(f"--virtual-time-budget={settle_ms}")
        command += ["--dump-dom", url]
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    assert done.returncode == 0, f"Chromium exited with {done.returncode}:\n{done.stderr[-2000:]}"
    return OpenedPage(
        dom=done.stdout, console=[line for line in done.stderr.splitlines() if _CONSOLE_LINE.search(line)]
    )


@dataclass
class Element:
    """An element of a parsed page: its tag, attributes, and children (elements and text, in order)."""

    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All text inside, whitespace collapsed."""
        parts = [child if isinstance(child, str) else child.text for child in self.children]
        return " ".join(" ".join(parts).split())

    def descendants(self) -> Iterator[Element]:
        """Every element below this one, in document order."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.descendants()

    def find_all(self, tag: str) -> list[Element]:
        return [element for element in self.descendants() if element.tag == tag]

    def by_id(self, element_id: str) -> Element:
        """The element with ``id``; fails the test when there is none."""
        found = next((element for element in self.descendants() if element.attrs.get("id") == element_id), None)
        assert found is not None, f"no element with id {element_id!r}"
        return found


def parse_dom(html: str) -> Element:
    """The DOM Chromium dumped, as a tree of ``Element``s under a ``#document`` root."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.open[-1].children.append(element)
        if tag not in _VOID_ELEMENTS:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching element: Chromium's serialisation is well nested.
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.open[-1].children.append(data)

"""Mutation testing for `enrichment/`: do the tests notice a wrong rule?

Each mutant changes one thing in one module (a comparison flipped, a condition negated,
an early return or raise dropped, a constant nudged) and runs only that module's own test
files (``tests/test_<module>.py``) with ``pytest -x -q``. A mutant the tests still pass
"survives": a rule could be wrong there without anyone noticing. Survivors reviewed as
equivalent (no input can tell them apart) are listed, each with a reason, in
``tools/mutation_equivalents.txt`` and do not count as real survivors.

    python tools/mutation.py                  # every module that has its own test file
    python tools/mutation.py cleaning intent  # some modules
    python tools/mutation.py people --lines 150-180,204  # after new tests: the survivors' lines

Not part of CI: a run takes minutes per module. Mutants run in forked children of one
process that has already imported pandas and friends, so each pays only for its tests;
property tests run 20 examples each (a mutant caught only by a rare example is a gap too).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "enrichment"
EQUIVALENTS_FILE = ROOT / "tools" / "mutation_equivalents.txt"
# Imported once in the parent so that no mutant pays for them again.
PRELOADED = ("numpy", "pandas", "pydantic", "pytest", "hypothesis", "yaml", "rapidfuzz", "tldextract", "crawlerdetect")

_COMPARE_FLIPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_SYMBOLS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_SYMBOLS |= {ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not"}


@dataclass(frozen=True)
class Mutant:
    line: int
    description: str
    apply: Callable[[], None]  # changes the tree it was found in


# --- finding mutants -------------------------------------------------------------------------


def mutants_of(tree: ast.Module) -> Iterator[Mutant]:
    """Every mutant of ``tree``, in a fixed order; each ``apply`` edits ``tree`` in place."""
    skipped = _docstrings_and_annotations(tree)
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        yield from _mutants_at(node, parents)


def _mutants_at(node: ast.AST, parents: dict[int, ast.AST]) -> Iterator[Mutant]:
    line = getattr(node, "lineno", 0)
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            flipped = _COMPARE_FLIPS[type(op)]
            yield Mutant(line, f"`{_SYMBOLS[type(op)]}` -> `{_SYMBOLS[flipped]}`", _setter(node.ops, index, flipped()))
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        yield Mutant(line, "condition negated", _setter(node, "test", ast.UnaryOp(ast.Not(), node.test)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
        symbol = "not" if isinstance(node.op, ast.Not) else "~"
        yield Mutant(line, f"`{symbol}` dropped", _replacer(parents[id(node)], node, node.operand))
    elif isinstance(node, ast.BoolOp):
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield Mutant(line, f"`{_name(node.op)}` -> `{_name(other())}`", _setter(node, "op", other()))
    elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        other = ast.BitOr if isinstance(node.op, ast.BitAnd) else ast.BitAnd
        yield Mutant(line, f"`{_name(node.op)}` -> `{_name(other())}`", _setter(node, "op", other()))
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        nudged = node.value + 1
        yield Mutant(line, f"{node.value!r} -> {nudged!r}", _setter(node, "value", nudged))
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield Mutant(line, f"{node.value} -> {not node.value}", _setter(node, "value", not node.value))
    yield from _early_exits(node)


def _early_exits(node: ast.AST) -> Iterator[Mutant]:
    """A return, raise or continue that is not a function's last statement, replaced by ``pass``."""
    for field in ("body", "orelse", "finalbody"):
        body = getattr(node, field, None)
        if not isinstance(body, list):
            continue
        for index, statement in enumerate(body):
            last_of_function = isinstance(node, ast.FunctionDef) and index == len(body) - 1
            if isinstance(statement, (ast.Return, ast.Raise, ast.Continue)) and not last_of_function:
                kind = type(statement).__name__.lower()
                replacement = ast.copy_location(ast.Pass(), statement)
                yield Mutant(statement.lineno, f"early {kind} dropped", _setter(body, index, replacement))


def _docstrings_and_annotations(tree: ast.Module) -> set[int]:
    """Nodes no mutant touches: docstrings and annotations say nothing the tests run."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        annotations = [getattr(node, "annotation", None), getattr(node, "returns", None)]
        for annotation in filter(None, annotations):
            skipped.update(id(part) for part in ast.walk(annotation))
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skipped.update(id(part) for part in ast.walk(body[0]))
    return skipped


def _setter(target: object, key: int | str, value: object) -> Callable[[], None]:
    if isinstance(key, int):
        return lambda: target.__setitem__(key, value)  # type: ignore[index]
    return lambda: setattr(target, key, value)


def _replacer(parent: ast.AST, old: ast.AST, new: ast.AST) -> Callable[[], None]:
    """Put ``new`` where ``parent`` holds ``old``."""
    for field, value in ast.iter_fields(parent):
        if value is old:
            return _setter(parent, field, new)
        if isinstance(value, list) and any(item is old for item in value):
            return _setter(value, next(i for i, item in enumerate(value) if item is old), new)
    raise LookupError(f"{old!r} is not a child of {parent!r}")


def _name(op: ast.AST) -> str:
    return {ast.And: "and", ast.Or: "or", ast.BitAnd: "&", ast.BitOr: "|"}[type(op)]


# --- running mutants ----------------------------------------------------------------------------


def run_tests(module: str, tree: ast.Module | None, tests: list[Path], timeout: float) -> str:
    """``passed``, ``failed`` or ``timeout``: the tests of ``module`` against ``tree`` (None: unmutated)."""
    pid = os.fork()
    if pid == 0:  # the child: install the mutant, run pytest, report by exit code
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            if tree is not None:
                _install(module, tree)
            import pytest

            code = pytest.main([*map(str, tests), "-x", "-q", "-p", "no:cacheprovider", "-W", "ignore"])
        except BaseException:
            code = 3  # a mutant that breaks the import is caught
        os._exit(int(code))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return "passed" if os.waitstatus_to_exitcode(status) == 0 else "failed"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "timeout"


def _install(module: str, tree: ast.Module) -> None:
    """Import ``enrichment.<module>`` from ``tree`` instead of its file."""
    name = f"{PACKAGE}.{module}"
    spec = importlib.util.find_spec(name)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded  # before running it: pydantic resolves annotations through it
    exec(compile(ast.fix_missing_locations(tree), spec.origin, "exec"), loaded.__dict__)
    setattr(sys.modules[PACKAGE], module, loaded)


def _quick_property_tests() -> None:
    import hypothesis

    hypothesis.settings.register_profile("mutation", max_examples=20, derandomize=True, database=None)
    hypothesis.settings.load_profile("mutation")


def mutate_module(module: str, lines: set[int] | None, equivalents: dict[str, str]) -> tuple[int, int, list[str]]:
    """Run every mutant of ``module``; (mutants, survivors, report lines)."""
    path = ROOT / PACKAGE / f"{module}.py"
    tests = sorted((ROOT / "tests").glob(f"test_{module}.py"))
    source = path.read_text(encoding="utf-8")
    source_lines = source.splitlines()
    started = time.monotonic()
    if run_tests(module, None, tests, timeout=600) != "passed":
        raise SystemExit(f"{module}: the tests fail without any mutant; fix them first")
    timeout = 3 * (time.monotonic() - started) + 10
    count = len(list(mutants_of(ast.parse(source))))
    tried, survivors, report = 0, 0, []
    for index in range(count):
        tree = ast.parse(source)
        mutant = list(mutants_of(tree))[index]
        if lines is not None and mutant.line not in lines:
            continue
        mutant.apply()
        tried += 1
        if run_tests(module, tree, tests, timeout) != "passed":
            continue
        key = f"{PACKAGE}/{module}.py:{mutant.line}: {mutant.description}"
        reason = equivalents.get(key)
        survivors += reason is None
        tag = f"  [equivalent: {reason}]" if reason else ""
        report.append(f"  {key}    | {source_lines[mutant.line - 1].strip()}{tag}")
    return tried, survivors, report


def read_equivalents() -> dict[str, str]:
    """``module:line: mutation`` -> reason, from EQUIVALENTS_FILE (``key -- reason`` per line, # comments)."""
    equivalents = {}
    for raw in EQUIVALENTS_FILE.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            key, _, reason = raw.partition(" -- ")
            equivalents[key.strip()] = reason.strip()
    return equivalents


def _line_numbers(text: str) -> set[int]:
    """``"67,79,120-140"`` as a set of line numbers."""
    lines: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        lines.update(range(int(first), int(last or first) + 1))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="enrichment modules (default: all with tests/test_<module>.py)")
    parser.add_argument("--lines", help="only mutants on these lines, e.g. 67,79,120-140")
    arguments = parser.parse_args()
    modules = arguments.modules or sorted(
        path.stem for path in (ROOT / PACKAGE).glob("*.py") if (ROOT / "tests" / f"test_{path.stem}.py").exists()
    )
    lines = _line_numbers(arguments.lines) if arguments.lines else None
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no thread pool to inherit across fork
    sys.path.insert(0, str(ROOT))
    for name in PRELOADED:
        __import__(name)
    __import__(PACKAGE)
    _quick_property_tests()
    equivalents = read_equivalents()
    for module in modules:
        started = time.monotonic()
        tried, survivors, report = mutate_module(module, lines, equivalents)
        equivalent = len(report) - survivors
        rate = survivors / max(tried - equivalent, 1)
        print(
            f"{module}: {tried} mutants, {tried - len(report)} killed, {survivors} survived, "
            f"{equivalent} equivalent; real survival {rate:.0%} ({time.monotonic() - started:.0f}s)",
            flush=True,
        )
        print("\n".join(report), flush=True)


if __name__ == "__main__":
    main()

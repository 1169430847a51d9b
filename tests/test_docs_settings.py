"""Every environment variable the code reads is documented in docs/HUB.md, so the settings table cannot drift.

What counts as read, in the packages and the examples:

- any ``AGENTHUB_*`` name written out in the code (in a string, a docstring
  or a comment: a name the code mentions is one a user may set);
- ``f"AGENTHUB_PUSH_{name}"``: the prefix plus each ALL_CAPS string of the
  function it is in (``number("TIMEOUT_S", ...)``);
- a literal name read from the environment whatever its prefix:
  ``os.environ.get("X")``, ``os.environ["X"]``, ``os.getenv("X")``,
  ``os.environ.setdefault("X", ...)`` (also through a mapping named ``environ``
  or ``env``).

Documented means written as ```NAME``` somewhere in docs/HUB.md.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "registry", "protocols", "hub", "examples")
NAMED = re.compile(r"\bAGENTHUB_[A-Z0-9_]*[A-Z0-9]\b(?![_*{])")
PREFIX = re.compile(r"\bAGENTHUB_[A-Z0-9_]*_$")
CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")
_READERS = {"get", "setdefault", "pop", "getenv"}


def _is_environment(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return name in ("environ", "env")


def _read_name(node: ast.AST) -> str | None:
    """The literal name an ``environ.get("X")``, ``environ["X"]`` or ``getenv("X")`` reads, if any."""
    key: ast.expr | None = None
    if isinstance(node, ast.Subscript) and _is_environment(node.value):
        key = node.slice
    elif isinstance(node, ast.Call) and node.args:
        func = node.func
        getenv = isinstance(func, ast.Name | ast.Attribute) and (
            func.id if isinstance(func, ast.Name) else func.attr) == "getenv"
        reads = isinstance(func, ast.Attribute) and func.attr in _READERS and _is_environment(func.value)
        key = node.args[0] if getenv or reads else None
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def _families(tree: ast.AST) -> set[str]:
    """``f"AGENTHUB_PUSH_{name}"``: the prefix with each ALL_CAPS string constant of the enclosing function."""
    found: set[str] = set()
    scopes: list[ast.AST] = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    scopes = scopes or [tree]
    for scope in scopes:
        constants = {n.value for n in ast.walk(scope) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        for joined in (n for n in ast.walk(scope) if isinstance(n, ast.JoinedStr)):
            for part, after in zip(joined.values, joined.values[1:], strict=False):
                if isinstance(part, ast.Constant) and isinstance(after, ast.FormattedValue):
                    prefix = PREFIX.search(str(part.value))
                    if prefix:
                        found.update(prefix.group(0) + c for c in constants if CONSTANT.match(c))
    return found


def environment_names(root: Path, packages: tuple[str, ...] = PACKAGES) -> set[str]:
    """Every environment variable the code under ``root/packages`` reads (see the module docstring)."""
    names: set[str] = set()
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            names.update(NAMED.findall(source))
            tree = ast.parse(source, filename=str(path))
            names.update(_families(tree))
            names.update(name for node in ast.walk(tree) if (name := _read_name(node)) is not None)
    return names


def undocumented(names: set[str], doc: str) -> list[str]:
    return sorted(name for name in names if f"`{name}`" not in doc)


def test_every_environment_variable_the_code_reads_is_documented_in_hub_md() -> None:
    names = environment_names(REPO)
    assert {"AGENTHUB_DB", "AGENTHUB_PORT", "AGENTHUB_PUSH_BACKOFF_S", "HUB_CRASH_AT"} <= names
    missing = undocumented(names, (REPO / "docs" / "HUB.md").read_text(encoding="utf-8"))
    assert not missing, f"read from the environment but not documented in docs/HUB.md: {', '.join(missing)}"


def test_the_scan_finds_names_written_out_built_from_a_prefix_or_read_under_another_prefix(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "settings.py").write_text(
        '"""Reads ``AGENTHUB_ONE`` and the ``AGENTHUB_PUSH_*`` family."""\n'
        "import os\n"
        "def limits(env):\n"
        '    return [env.get(f"AGENTHUB_FAM_{n}") for n in ("RETRIES", "WAIT_S")]\n'
        'DEBUG = os.getenv("OTHER_DEBUG")\n'
        'HOME = os.environ["HOME_DIR"]\n'
        'os.environ.setdefault("LIB_OFFLINE", "1")\n'
        "secret = os.environ.get(token_env)  # a name from configuration: documented where it is configured\n"
    )
    names = environment_names(tmp_path, ("pkg",))
    assert names == {"AGENTHUB_ONE", "AGENTHUB_FAM_RETRIES", "AGENTHUB_FAM_WAIT_S", "OTHER_DEBUG", "HOME_DIR",
                     "LIB_OFFLINE"}
    assert undocumented(names, "`AGENTHUB_ONE` and `OTHER_DEBUG`, AGENTHUB_FAM_RETRIES") == [
        "AGENTHUB_FAM_RETRIES", "AGENTHUB_FAM_WAIT_S", "HOME_DIR", "LIB_OFFLINE"]

"""The install cannot rot: the locks are complete, exact and hash-pinned, and installed without resolution.

A newcomer's first hour once ended at ``pip install --require-hashes -r
requirements.lock``: pip resolved litellm's ``httpx[http2]`` extra against the
registry and found httpx 0.29.0, not the locked 0.28.1. These checks run
offline, on the files alone (RELIABILITY S1).
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
_ENTRY = re.compile(r"^([A-Za-z0-9_.\-\[\],]+)==([^\s\\;]+)")
# Releases known to be malicious or broken, and version floors: tests/data/advisories.toml (RELIABILITY S2).
ADVISORIES: dict[str, dict[str, Any]] = tomllib.loads((REPO / "tests" / "data" / "advisories.toml").read_text())
DENYLIST = {(name, version) for name, entry in ADVISORIES.items() for version in entry.get("forbid", ())}


def _entries(lock: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from a pip-style lock with ``--hash`` continuation lines."""
    found: dict[str, tuple[str, list[str]]] = {}
    current: str | None = None
    for raw in lock.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENTRY.match(line)
        if match:
            current = match.group(1).split("[")[0].lower().replace("_", "-")
            found[current] = (match.group(2), [])
        elif line.startswith("--hash=sha256:") and current is not None:
            found[current][1].append(line.removeprefix("--hash=sha256:").rstrip(" \\"))
        else:
            pytest.fail(f"{lock.name}: a line that is neither a pinned requirement nor a hash: {line!r}")
    return found


@pytest.mark.parametrize("name", ["requirements.lock", "build.lock"])
def test_every_locked_package_is_pinned_exactly_with_hashes(name: str) -> None:
    entries = _entries(REPO / name)
    assert entries, f"{name} lists no packages"
    for package, (version, hashes) in entries.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), f"{name}: {package} is not pinned to one version"
        assert hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), f"{name}: {package} has no hashes"


def test_the_lock_holds_every_direct_dependency_at_the_version_pyproject_pins() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    locked = _entries(REPO / "requirements.lock")
    pins = re.findall(r'^\s*"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^";\s]+)(?:\s*;[^"]*)?",', pyproject, re.M)
    assert len(pins) > 10
    for package, version in pins:
        key = package.lower().replace("_", "-")
        assert key in locked, f"{package} is a dependency in pyproject.toml but missing from requirements.lock"
        assert locked[key][0] == version, f"{package}: pyproject pins {version}, the lock has {locked[key][0]}"


def test_no_denylisted_release_is_locked() -> None:
    locked = {(name, version) for name, (version, _) in _entries(REPO / "requirements.lock").items()}
    assert ("litellm", "1.82.8") in DENYLIST
    assert not locked & DENYLIST


def _violations(versions: dict[str, str]) -> list[str]:
    found = []
    for name, entry in ADVISORIES.items():
        have = versions.get(name)
        if have is None:
            continue
        if have in entry.get("forbid", ()):
            found.append(f"{name} {have} is a forbidden release")
        if "min" in entry and Version(have) < Version(str(entry["min"])):
            found.append(f"{name} {have} is below the floor {entry['min']}")
    return found


def test_every_locked_version_is_at_or_above_its_advisory_floor() -> None:
    locked = {name: version for name, (version, _) in _entries(REPO / "requirements.lock").items()}
    assert {"litellm", "lxml", "mcp"} <= set(locked) & set(ADVISORIES)
    assert _violations(locked) == []


def test_what_is_installed_is_what_is_locked_and_passes_the_advisories() -> None:
    """Offline, over importlib.metadata: no package drifted from the lock and none is below a floor."""
    installed = {
        (dist.metadata["Name"] or "").lower().replace("_", "-"): dist.version
        for dist in importlib.metadata.distributions()
    }
    locked = {name: version for name, (version, _) in _entries(REPO / "requirements.lock").items()}
    drifted = sorted(
        f"{n} {installed[n]} (locked {v})" for n, v in locked.items() if n in installed and installed[n] != v
    )
    assert drifted == [], f"installed packages differ from requirements.lock: {drifted}"
    assert _violations(installed) == []


def test_the_advisory_check_catches_a_forbidden_release_and_one_below_its_floor() -> None:
    assert _violations({"litellm": "1.82.8"}) == [
        "litellm 1.82.8 is a forbidden release", "litellm 1.82.8 is below the floor 1.83.7"
    ]
    assert _violations({"lxml": "5.3.0", "mcp": "2.3.0"}) == ["lxml 5.3.0 is below the floor 6.1.0"]


def test_the_installer_itself_is_pinned() -> None:
    assert "pip" in _entries(REPO / "build.lock")


def test_make_installs_the_locks_exactly_without_resolving_and_checks_them() -> None:
    """--no-deps: nothing beyond the lock is looked up; pip check: the locked set is consistent. requirements.lock
    goes in with uv (from build.lock), and with pip should uv fail: both ways exactly."""
    makefile = (REPO / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line and ".lock" in line]
    assert {lock for line in installs for lock in ("build.lock", "requirements.lock") if lock in line} == {
        "build.lock", "requirements.lock"}
    assert any("$(BIN)/uv pip install" in line and "requirements.lock" in line for line in installs)
    assert all("--no-deps" in line and "--require-hashes" in line for line in installs)
    assert "-m pip check" in makefile


def test_ci_makes_a_new_virtual_environment_without_pip_s_cache() -> None:
    run = (REPO / ".ci" / "run").read_text()
    assert "rm -rf .venv" in run and "PIP_NO_CACHE_DIR=1" in run and "UV_NO_CACHE=1" in run
    assert run.rstrip().endswith("make test")

"""What is installed and what importing it does (RELIABILITY S3, S4, S6).

The lock (tests/test_supply_chain.py) says which packages are installed; these
checks look at the environment they were installed into: no startup hook that
runs code on every interpreter start (litellm 1.82.8 shipped one as
``litellm_init.pth``), no reads of a user's keys, no connection and no process
when the hub and litellm are imported, and no real provider key in the
environment the tests run in.
"""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

from engine.redaction import secret_in

REPO = Path(__file__).resolve().parents[1]

# What a .pth file may be: these only add paths or install the editable finder of our own package.
_ALLOWED_PTH = re.compile(r"^(distutils-precedence|_virtualenv|__editable__\..+|easy-install|setuptools)\.pth$")


def _site_dirs() -> list[Path]:
    dirs = {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])}
    dirs.update(Path(p) for p in site.getsitepackages() if p.startswith(sys.prefix))
    return sorted(d for d in dirs if d.is_dir())


def test_no_startup_hook_but_the_allow_listed_path_files_is_installed() -> None:
    """S3: a .pth line starting with ``import`` runs at every interpreter start; only known files may exist."""
    found = [pth for d in _site_dirs() for pth in sorted(d.glob("*.pth"))]
    assert found, "no .pth files at all: the check is not looking at the virtual environment"
    assert not [p for p in found if p.name == "litellm_init.pth"], "litellm_init.pth is the 1.82.8 payload's hook"
    unexpected = [str(p) for p in found if not _ALLOWED_PTH.match(p.name)]
    assert not unexpected, f"path files outside the allow-list (each runs at interpreter start): {unexpected}"
    for pth in found:
        for line in pth.read_text(errors="replace").splitlines():
            if line.startswith(("import ", "import\t")) and not pth.name.startswith(
                ("distutils-precedence", "_virtualenv", "__editable__")
            ):
                raise AssertionError(f"{pth}: executable line {line!r}")


_AUDIT = r"""
import json, os, sys
home = os.environ["HOME"]
sensitive = tuple(os.path.join(home, d) for d in (".ssh", ".aws", ".kube", ".config/gcloud", ".netrc")) + (
    "/proc/self/environ",
)
seen = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        if path.startswith(sensitive):
            seen.append(["open", path])
    elif event in ("socket.connect", "socket.getaddrinfo"):
        seen.append([event, repr(args[1] if len(args) > 1 else args)])
    elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"):
        argv = list(args[1]) if event == "subprocess.Popen" and isinstance(args[1], (list, tuple)) else None
        # The one known spawn: croniter's import asks platform.architecture(), which runs `file -b <python>`.
        if argv and argv[:2] == ["file", "-b"] and len(argv) == 3 and os.path.realpath(argv[2]) == os.path.realpath(
            sys.executable
        ):
            return
        seen.append([event, repr(args[:2])])
sys.addaudithook(hook)
import engine, registry, protocols, hub  # noqa: E401
import hub.cli, hub.app  # noqa: E401
from protocols.llm import litellm_model
litellm = litellm_model._litellm()
print(json.dumps({"seen": seen, "proxy": sorted(m for m in sys.modules if m.startswith("litellm.proxy")),
                  "litellm": bool(litellm)}))
"""


def test_importing_the_hub_and_litellm_reads_no_keys_connects_nowhere_and_spawns_nothing(tmp_path: Path) -> None:
    """S4: with HOME holding canary credentials, the imports touch none of them, open no socket, start no process."""
    for name in (".ssh/id_ed25519", ".aws/credentials", ".kube/config", ".netrc"):
        canary = tmp_path / name
        canary.parent.mkdir(parents=True, exist_ok=True)
        canary.write_text("CANARY-do-not-read\n")
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1",
           "LANG": "C.UTF-8"}
    result = subprocess.run([sys.executable, "-c", _AUDIT], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=240, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["litellm"]
    assert report["seen"] == [], f"during import: {report['seen']}"
    assert report["proxy"] == [], "litellm's proxy must never be imported"


# The one canary the tests may set on purpose (tests that check scrubbing set their own, inside the test).
_DECLARED_CANARY = "sk-agenthub-test-canary-0000000000"


def test_the_test_environment_holds_no_real_provider_key() -> None:
    """S6: were a dependency to leak the environment, it would find no key worth stealing."""
    leaks = [
        name for name, value in os.environ.items()
        if _DECLARED_CANARY not in value and secret_in(value) is not None
    ]
    assert not leaks, f"environment variables holding what looks like a real key (unset them for tests): {leaks}"


def test_the_secret_shapes_catch_what_they_should() -> None:
    assert secret_in("sk-proj-" + "a" * 40) is not None
    assert secret_in("AKIA" + "B" * 16) is not None
    assert secret_in("token=ghp_" + "c" * 36) is not None
    assert secret_in("task-1234 ask-me sketchy") is None
    assert secret_in(_DECLARED_CANARY.replace("sk-", "ok-")) is None

"""README.md's commands run, in order, as a newcomer types them, against a throwaway hub and database.

So the README cannot drift. How each command is run:

- cwd is the repository root (the README says ``.venv/bin/agenthub``); the
  environment is PATH, LANG, HOME (in tmp_path), AGENTHUB_DB (a SQLite file
  in tmp_path, which every command honours) and
  AGENTHUB_SQLITE_SYNCHRONOUS=NORMAL, and nothing else of the caller's: no
  keys, no tokens;
- each command runs in ``bash -c`` with ``pipefail`` and ``curl`` wrapped to
  fail on an HTTP status of 400 or more (``--fail-with-body``) and to give up
  after 30 s. It must exit 0 within 120 s, or fail where its comment says it
  fails, and print no Python traceback;
- ``make run`` starts the hub in the background, as
  ``make -o .venv/.installed run PORT=<free port>`` (``-o``: never reinstall
  the venv this suite runs in, which would need the network). The harness
  waits for GET /health, reads the one-time admin token from the hub's
  stderr and exports it as TOKEN; ``127.0.0.1:8600`` in later commands
  becomes the chosen port. The hub stops where the README says what follows
  needs none (``readme_commands.STOP_HUB``), else at the end;
- ``make test`` is this suite: ``make -n test`` must list its steps instead;
- other long-running commands run in the background: ``agenthub serve`` on
  a free port (an ``AGENTHUB_PORT=N`` or ``--port N`` in the command is
  replaced, else AGENTHUB_PORT is set) until /health answers, ``agenthub
  worker`` without ``--until-idle`` for 3 s. Each must still be alive then,
  and end at SIGINT (Ctrl-C) with exit 0, or by the signal after a graceful
  shutdown (as uvicorn does), and no traceback;
- ``export NAME=value`` sets NAME for the commands after it.

Placeholders a person fills in by reading earlier output are filled the same
way, from the state right before the command:

    ahk_..., TOKEN         the admin token the hub printed
    INSTANCE_ID            the newest process instance without a parent
    TASK_ID, /user-tasks/ID/
                           the oldest open user task of that instance, else the oldest open one; while a hub
                           runs (its worker moves instances on by itself) waited for up to 30 s
    INCIDENT_ID            the oldest open incident

Any other ALL_CAPS word left in a command's code (``readme_commands.placeholders``)
fails the test, as does a placeholder with nothing to fill it. Every command
is run even after one failed; the failure lists them all.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import typer.core
import typer.main

from engine import Engine
from hub.cli import app
from tests.ports import free_port
from tests.readme_commands import STOP_HUB, code_blocks, placeholders, split_comment, steps

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
COMMAND_TIMEOUT_S = 120
START_TIMEOUT_S = 60
TASK_WAIT_S = 30
TOKEN_LINE = re.compile(r"created an admin API token.*?\n\s*(ahk_[0-9a-f]{8}_[A-Za-z0-9_-]{43})", re.DOTALL)
TRACEBACK = "Traceback (most recent call last)"
# Every curl checks the HTTP status and gives up in time; pipefail so that a pipe's failure is the command's.
PRELUDE = 'set -o pipefail\ncurl() { command curl --fail-with-body --show-error --max-time 30 "$@"; }\n'


def _tail(text: str, chars: int = 1500) -> str:
    return text if len(text) <= chars else "..." + text[-chars:]


@dataclass
class Background:
    """A long-running command, in a process group of its own, with its output in files."""

    what: str
    process: subprocess.Popen[bytes]
    out: Path
    files: list[IO[bytes]] = field(default_factory=list)
    stopped: bool = False  # once stopped, its group id may be reused: never signal it again

    def output(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Send ``sig`` to the whole group (as Ctrl-C does); SIGKILL whatever of it is left after 20 s."""
        deadline = time.monotonic() + 20
        if not self.stopped and _signal_group(self.process.pid, sig):
            while _signal_group(self.process.pid, 0) and time.monotonic() < deadline:
                self.process.poll()  # reap the leader, so that its group ends with its last member
                time.sleep(0.05)
            _signal_group(self.process.pid, signal.SIGKILL)
        self.stopped = True
        for f in self.files:
            f.close()
        self.files.clear()
        return int(self.process.wait(timeout=10))


def _signal_group(group: int, sig: int) -> bool:
    """Signal a process group; False when none of it is left."""
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        return False
    return True


class Session:
    """What a reader's terminal holds between commands: the environment, the hub, what ran in the background."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        home = tmp_path / "home"
        home.mkdir()
        self.db_url = f"sqlite:///{tmp_path / 'readme.db'}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(home),
            "AGENTHUB_DB": self.db_url,
            "AGENTHUB_SQLITE_SYNCHRONOUS": "NORMAL",
        }
        self.hub: Background | None = None
        self.hub_port: int | None = None
        self.token: str | None = None
        self.background: list[Background] = []
        self.failures: list[str] = []
        self._engine: Engine | None = None
        self._outputs = 0

    # --- processes ------------------------------------------------------------------------------------

    def spawn(self, what: str, command: str, env: dict[str, str] | None = None) -> Background:
        self._outputs += 1
        out = self.tmp / f"background-{self._outputs}.log"
        handle = out.open("wb")
        process = subprocess.Popen(
            ["bash", "-c", PRELUDE + command], cwd=REPO, env=env or self.env, stdin=subprocess.DEVNULL,
            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )
        job = Background(what, process, out, [handle])
        self.background.append(job)
        return job

    def run(self, command: str) -> tuple[int | None, str]:
        """Run a command to its end; ``(None, output)`` when it ran past the timeout (its group is killed)."""
        process = subprocess.Popen(
            ["bash", "-c", PRELUDE + command], cwd=REPO, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            out, _ = process.communicate(timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            out, _ = process.communicate()
            print(f"$ {command}\n(killed after {COMMAND_TIMEOUT_S} s)\n{out.decode(errors='replace')}")
            return None, out.decode(errors="replace")
        text = out.decode(errors="replace")
        print(f"$ {command}\n{text}")  # the transcript pytest shows when the test fails
        return process.returncode, text

    def close(self) -> None:
        for job in self.background:
            job.stop()
        if self._engine is not None:
            self._engine.close()

    # --- the state a reader looks at ---------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine.open(self.db_url)
        return self._engine

    def latest_instance(self) -> int | None:
        roots = [v.key for v in self.engine.instances(limit=1000) if v.parent_instance is None]
        return max(roots, default=None)

    def open_task(self) -> int | None:
        deadline = time.monotonic() + (TASK_WAIT_S if self.hub is not None and self.hub.alive() else 0)
        while True:
            instance = self.latest_instance()
            mine = self.engine.user_tasks(instance=instance) if instance is not None else []
            found = mine or self.engine.user_tasks()
            if found:
                return min(t.key for t in found)
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.2)

    def open_incident(self) -> int | None:
        return min((i.key for i in self.engine.incidents()), default=None)

    def fill(self, command: str) -> tuple[str, list[str]]:
        """The command with its placeholders filled; and what could not be filled, or is unknown."""
        code, comment = split_comment(command)
        missing: list[str] = []

        def value(name: str, found: int | str | None) -> str:
            if found is None:
                missing.append(f"{name} (nothing to fill it with yet)")
                return name
            return str(found)

        if self.hub_port is not None:
            code = code.replace("127.0.0.1:8600", f"127.0.0.1:{self.hub_port}")
        if "ahk_..." in code or re.search(r"(?<![$\w])TOKEN(?![\w=])", code):
            token = value("TOKEN", self.token)
            code = re.sub(r"(?<![$\w])TOKEN(?![\w=])", token, code).replace("ahk_...", token)
        if "INSTANCE_ID" in code:
            code = code.replace("INSTANCE_ID", value("INSTANCE_ID", self.latest_instance()))
        if "TASK_ID" in code or "/user-tasks/ID/" in code:
            task = value("TASK_ID", self.open_task())
            code = code.replace("TASK_ID", task).replace("/user-tasks/ID/", f"/user-tasks/{task}/")
        if "INCIDENT_ID" in code:
            code = code.replace("INCIDENT_ID", value("INCIDENT_ID", self.open_incident()))
        missing += [f"{word} (no rule fills it: see tests/test_readme.py)" for word in placeholders(code)
                    if not any(m.startswith(word) for m in missing)]
        return code + (f"  # {comment}" if comment else ""), missing

    # --- the hub ----------------------------------------------------------------------------------------------

    def start_hub(self, command: str) -> str | None:
        """``make run`` in the background; None when it serves and printed its token, else what went wrong."""
        self.hub_port = free_port()
        make = command.replace("make run", f"make -o .venv/.installed run PORT={self.hub_port}", 1)
        self.hub = self.spawn("make run", split_comment(make)[0])
        problem = wait_healthy(self.hub, self.hub_port)
        if problem:
            return problem
        deadline = time.monotonic() + 10
        while (found := TOKEN_LINE.search(self.hub.output())) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if found is None:
            return "the hub did not print 'created an admin API token ... ahk_...' on its first start"
        self.token = found.group(1)
        self.env["TOKEN"] = self.token
        return None

    def stop_hub(self) -> str | None:
        if self.hub is None:
            return None
        hub, self.hub = self.hub, None
        if not hub.alive():
            return f"`make run` had stopped before the README says to stop it:\n{_tail(hub.output())}"
        hub.stop(signal.SIGINT)
        print(f"$ make run &\n(stopped with Ctrl-C)\n{hub.output()}")
        if TRACEBACK in hub.output():
            return f"`make run` printed a traceback:\n{_tail(hub.output())}"
        return None


def wait_healthy(job: Background, port: int) -> str | None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not job.alive():
            return f"{job.what} exited with {job.process.returncode} before answering /health:\n{_tail(job.output())}"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return f"{job.what} did not answer GET /health on port {port} within {START_TIMEOUT_S} s:\n{_tail(job.output())}"


# --- what kind of command, and how it is run ---------------------------------------------------------------


def is_long_running(code: str) -> bool:
    words = code.split()
    if "agenthub" not in " ".join(words[:3]):
        return False
    agenthub = next(i for i, w in enumerate(words) if w.endswith("agenthub"))
    rest = words[agenthub + 1 :]
    return bool(rest) and (rest[0] == "serve" or (rest[0] == "worker" and "--until-idle" not in rest))


def run_background(session: Session, code: str) -> str | None:
    """A hub or worker that runs until stopped: alive after starting, then exits 0 at Ctrl-C with no traceback."""
    env = dict(session.env)
    port: int | None = None
    serve = " serve" in code
    if serve:
        port = free_port()
        code, replaced = re.subn(r"AGENTHUB_PORT=\d+", f"AGENTHUB_PORT={port}", code)
        code, by_option = re.subn(r"--port[ =]\d+", f"--port {port}", code)
        if not replaced and not by_option:
            env["AGENTHUB_PORT"] = str(port)
    job = session.spawn(code, code, env)
    if port is not None:
        problem = wait_healthy(job, port)
        if problem:
            return problem + "\n(does `agenthub serve` honour AGENTHUB_PORT?)" if replaced else problem
    else:  # a reader presses Ctrl-C once the command has said it runs, not while it is still starting
        deadline = time.monotonic() + 60
        while job.alive() and not job.output().strip() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)
    if not job.alive():
        return f"stopped by itself, exit {job.process.returncode}:\n{_tail(job.output())}"
    code_at_stop = job.stop(signal.SIGINT)
    output = job.output()
    print(f"$ {code} &\n(stopped with Ctrl-C: exit {code_at_stop})\n{output}")
    if TRACEBACK in output:
        return f"printed a traceback:\n{_tail(output)}"
    # uvicorn shuts down gracefully, then ends by the signal it got, as a program should at Ctrl-C
    if code_at_stop not in (0, 128 + signal.SIGINT, -signal.SIGINT):
        return f"exited with {code_at_stop} at Ctrl-C:\n{_tail(output)}"
    return None


def run_make_test(session: Session) -> str | None:
    """``make test`` is this suite: check what it would run instead of running it."""
    status, output = session.run("make -n test")
    missing = [step for step in ("ruff check", "mypy", "lint-imports", "pytest") if step not in output]
    if status != 0 or missing:
        return f"`make -n test` exited {status}, without {', '.join(missing) or 'nothing'}:\n{_tail(output)}"
    return None


def run_foreground(session: Session, code: str, comment: str) -> str | None:
    status, output = session.run(code)
    should_fail = re.search(r"\bfails\b", comment) is not None
    if status is None:
        return f"ran past {COMMAND_TIMEOUT_S} s:\n{_tail(output)}"
    if TRACEBACK in output:
        return f"printed a traceback (exit {status}):\n{_tail(output)}"
    if should_fail and status == 0:
        return f"the README says it fails, but it exited 0:\n{_tail(output)}"
    if not should_fail and status != 0:
        return f"exit {status}:\n{_tail(output)}"
    export = re.fullmatch(r"export ([A-Za-z_][A-Za-z0-9_]*)=(\S*)", code.strip())
    if export:
        session.env[export.group(1)] = export.group(2)
    return None


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    if shutil.which("curl") is None:
        if os.environ.get("CI"):
            pytest.fail("the README's commands need curl, and CI must run them (.ci/run installs it)")
        pytest.skip("curl is not installed")
    running = Session(tmp_path)
    try:
        yield running
    finally:
        running.close()


# --- the tests -----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_command_in_the_readme_runs_in_order_against_a_throwaway_hub(session: Session) -> None:
    ran = 0
    for step in steps(README.read_text()):
        where = f"README.md:{step.line} ({step.section})"
        if step.kind == "stop-hub":
            problem = session.stop_hub()
            if problem:
                session.failures.append(f"{where}: {problem}")
            continue
        code, comment = split_comment(step.text)
        ran += 1
        if re.fullmatch(r"make run(\s+PORT=\d+)?", code):
            problem = session.start_hub(code)
        elif code == "make test":
            problem = run_make_test(session)
        else:
            filled, missing = session.fill(step.text)
            code, comment = split_comment(filled)
            if missing:
                problem = f"unresolved placeholder(s): {', '.join(missing)}"
            elif is_long_running(code):
                problem = run_background(session, code)
            else:
                problem = run_foreground(session, code, comment)
        if problem:
            session.failures.append(f"{where}: `{step.text}`\n  {problem}")
    problem = session.stop_hub()
    if problem:
        session.failures.append(f"README.md (end): {problem}")
    assert ran > 10, "README.md lost its ```sh blocks, or this test stopped finding them"
    assert not session.failures, f"{len(session.failures)} README command(s) failed:\n\n" + "\n\n".join(
        session.failures)


def test_the_readme_mcp_config_is_json_that_starts_agenthub_mcp_on_a_database() -> None:
    blocks = [b for b in code_blocks(README.read_text()) if b.lang == "json"]
    assert blocks, "README.md should show an assistant's MCP configuration as a ```json block"
    for block in blocks:
        config: Any = json.loads(block.text)
        server = config["mcpServers"]["agenthub"]
        assert server["command"].endswith("/.venv/bin/agenthub"), block.line
        assert server["args"][:2] == ["mcp", "--db"], block.line
        assert server["args"][2].startswith("sqlite:///"), block.line


def test_the_readme_is_read_into_commands_with_their_placeholders() -> None:
    text = "\n".join([
        "## Try", "```sh", ".venv/bin/agenthub run a.bpmn \\", "    --vars '{\"a\": 1}'   # starts # one",
        "# only a comment", "```", STOP_HUB, "```sh", "agenthub complete TASK_ID --ttl PT1H  # EXAMPLE_ID here",
        "AGENTHUB_PORT=8601 curl -H \"x: $TOKEN\" http://h/user-tasks/ID/complete -d '{\"k\": \"ORDER_NO\"}'",
        "```",
    ])
    found = steps(text)
    assert [(s.kind, s.line, s.section) for s in found] == [
        ("command", 3, "Try"), ("stop-hub", 7, "Try"), ("command", 9, "Try"), ("command", 10, "Try")]
    assert found[0].text == ".venv/bin/agenthub run a.bpmn --vars '{\"a\": 1}'   # starts # one"
    assert split_comment(found[0].text) == (".venv/bin/agenthub run a.bpmn --vars '{\"a\": 1}'", "starts # one")
    assert placeholders(found[2].text) == ["TASK_ID"]
    assert placeholders(found[3].text) == ["ID", "ORDER_NO"]


def test_the_readme_lists_every_cli_command() -> None:
    sentence = re.search(r"The full\s+surface:(.*?)\(`agenthub COMMAND --help`", README.read_text(), re.DOTALL)
    assert sentence, "README.md should list the CLI's commands ('The full surface: ...')"
    listed = re.findall(r"`([a-z-]+)`", sentence.group(1))
    cli = typer.main.get_command(app)
    assert isinstance(cli, typer.core.TyperGroup)
    assert sorted(listed) == sorted(cli.commands)


def test_every_path_in_the_readme_layout_exists_and_every_package_is_listed() -> None:
    rows = re.findall(r"^\| `([^`]+/)` \| (.*) \|$", README.read_text(), re.MULTILINE)
    listed = {path: what for path, what in rows}
    ignored = ("build", "dist", "reports", "__pycache__")  # what .gitignore keeps out of the repository
    for top in sorted(p.name for p in REPO.iterdir() if p.is_dir()):
        if not top.startswith(".") and not top.endswith(".egg-info") and top not in ignored:
            assert f"{top}/" in listed, f"README's layout table has no row for {top}/"
    for path, what in listed.items():
        assert (REPO / path).is_dir(), f"README's layout lists {path}, which does not exist"
        for name in re.findall(r"`([^`\s]+)`", what):
            if name.startswith("/") or not ("/" in name or name.endswith((".py", ".md"))):
                continue
            assert (REPO / path / name).exists() or (REPO / name).exists(), (
                f"README's layout row {path} names {name}, which does not exist")
        for package in sorted((REPO / path).iterdir()):
            holds_code = package.is_dir() and any(package.glob("*.py"))
            if path in ("engine/", "protocols/", "hub/", "registry/") and holds_code and package.name != "migrations":
                assert f"`{package.name}/`" in what, f"README's layout row {path} does not list {package.name}/"
